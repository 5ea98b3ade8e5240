#!/bin/bash
ceph-lab reachable || exit 1
rbd snap ls rbd/vol01 --format json 2>/dev/null | jq -e '.[] | select(.name=="before")' >/dev/null ||
	{ echo "FAIL: vol01 has no snapshot named before"; exit 1; }
want=$(rbd export rbd/vol01@before - 2>/dev/null | md5sum)
got=$(rbd export rbd/vol01 - 2>/dev/null | md5sum)
[ "$want" = "$got" ] || { echo "FAIL: vol01 differs from its snapshot before: roll it back"; exit 1; }
[ -f /root/changed ] || { echo "FAIL: change vol01 after the snapshot first (and touch /root/changed), then roll back"; exit 1; }
