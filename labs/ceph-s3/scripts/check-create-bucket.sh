#!/bin/bash
ceph-lab reachable || exit 1
radosgw-admin bucket list 2>/dev/null | jq -e 'index("reports")' >/dev/null ||
	{ echo "FAIL: there is no bucket named reports"; exit 1; }
owner=$(radosgw-admin bucket stats --bucket=reports | jq -r .owner)
[ "$owner" = trainee ] || { echo "FAIL: the bucket reports belongs to $owner; create it as trainee"; exit 1; }
