#!/bin/bash
ceph-lab reachable || exit 1
radosgw-admin bucket list 2>/dev/null | jq -e 'index("reports")' >/dev/null ||
	{ fail "没有名为 reports 的存储桶" "there is no bucket named reports"; exit 1; }
owner=$(radosgw-admin bucket stats --bucket=reports | jq -r .owner)
[ "$owner" = trainee ] || { fail "存储桶 reports 属于 $owner，请以 trainee 的身份创建" "the bucket reports belongs to $owner; create it as trainee"; exit 1; }
