#!/bin/bash
ceph-lab reachable || exit 1
ceph osd pool ls | grep -qx xpool || { echo "FAIL: there is no pool named xpool yet"; exit 1; }
d=$(ceph osd pool ls detail -f json | jq '.[] | select(.pool_name=="xpool")')
[ "$(jq -r .type <<<"$d")" = 1 ] || { echo "FAIL: xpool is not a replicated pool"; exit 1; }
size=$(jq -r .size <<<"$d"); min=$(jq -r .min_size <<<"$d")
[ "$size" = 3 ] || { echo "FAIL: xpool keeps $size replicas; it must keep 3"; exit 1; }
[ "$min" = 2 ] || { echo "FAIL: xpool's min_size is $min; it must be 2"; exit 1; }
