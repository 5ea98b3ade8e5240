#!/bin/bash
ceph-lab reachable || exit 1
info=$(rbd info rbd/vol01 --format json 2>/dev/null) || { fail "存储池 rbd 中没有卷 vol01" "there is no image vol01 in the pool rbd"; exit 1; }
size=$(jq -r .size <<<"$info")
[ "$size" = 1073741824 ] || { fail "vol01 的大小是 $size 字节，应当是 1 GiB" "vol01 is $size bytes; it must be 1 GiB"; exit 1; }
