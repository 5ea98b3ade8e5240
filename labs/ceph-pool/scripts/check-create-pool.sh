#!/bin/bash
ceph-lab reachable || exit 1
ceph osd pool ls | grep -qx xpool || { fail "还没有名为 xpool 的存储池" "there is no pool named xpool yet"; exit 1; }
d=$(ceph osd pool ls detail -f json | jq '.[] | select(.pool_name=="xpool")')
[ "$(jq -r .type <<<"$d")" = 1 ] || { fail "xpool 不是副本存储池" "xpool is not a replicated pool"; exit 1; }
size=$(jq -r .size <<<"$d"); min=$(jq -r .min_size <<<"$d")
[ "$size" = 3 ] || { fail "xpool 保存 $size 份副本，应当是 3 份" "xpool keeps $size replicas; it must keep 3"; exit 1; }
[ "$min" = 2 ] || { fail "xpool 的 min_size 是 $min，应当是 2" "xpool's min_size is $min; it must be 2"; exit 1; }
