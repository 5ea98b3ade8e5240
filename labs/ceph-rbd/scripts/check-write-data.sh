#!/bin/bash
ceph-lab reachable || exit 1
used=$(rbd du rbd/vol01 --format json 2>/dev/null | jq '[.images[] | select(.snapshot == null) | .used_size] | add // 0')
mib=$(( ${used:-0} >> 20 ))
[ "${used:-0}" -ge $((32 << 20)) ] || { fail "vol01 中只有 $mib MiB 数据，至少要写入 32 MiB" "vol01 holds $mib MiB; write at least 32 MiB"; exit 1; }
