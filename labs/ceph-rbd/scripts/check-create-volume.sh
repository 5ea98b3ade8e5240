#!/bin/bash
ceph-lab reachable || exit 1
info=$(rbd info rbd/vol01 --format json 2>/dev/null) || { echo "FAIL: there is no image vol01 in the pool rbd"; exit 1; }
size=$(jq -r .size <<<"$info")
[ "$size" = 1073741824 ] || { echo "FAIL: vol01 is $size bytes; it must be 1 GiB"; exit 1; }
