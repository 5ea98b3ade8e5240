#!/bin/bash
ceph-lab reachable || exit 1
used=$(rbd du rbd/vol01 --format json 2>/dev/null | jq '[.images[] | select(.snapshot == null) | .used_size] | add // 0')
[ "${used:-0}" -ge $((32 << 20)) ] || { echo "FAIL: vol01 holds $(( ${used:-0} >> 20 )) MiB; write at least 32 MiB"; exit 1; }
