#!/bin/bash
ceph-lab reachable || exit 1
apps=$(ceph osd pool application get xpool -f json 2>/dev/null) || { echo "FAIL: there is no pool xpool"; exit 1; }
jq -e 'has("rbd")' <<<"$apps" >/dev/null || { echo "FAIL: xpool is not tagged for the rbd application"; exit 1; }
