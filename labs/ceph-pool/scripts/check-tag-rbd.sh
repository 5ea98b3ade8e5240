#!/bin/bash
ceph-lab reachable || exit 1
apps=$(ceph osd pool application get xpool -f json 2>/dev/null) || { fail "没有存储池 xpool" "there is no pool xpool"; exit 1; }
jq -e 'has("rbd")' <<<"$apps" >/dev/null || { fail "xpool 还没有标记为 rbd 应用" "xpool is not tagged for the rbd application"; exit 1; }
