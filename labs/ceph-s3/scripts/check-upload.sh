#!/bin/bash
ceph-lab reachable || exit 1
n=$(radosgw-admin bucket stats --bucket=reports 2>/dev/null | jq '.usage["rgw.main"].num_objects // 0')
[ "${n:-0}" -ge 1 ] || { fail "存储桶 reports 中还没有对象" "the bucket reports holds no object yet"; exit 1; }
