#!/bin/bash
ceph-lab reachable || exit 1
id=$(ceph osd tree -f json | jq '[.nodes[] | select(.type=="host" and .name=="node4") | .children[]][0] // empty')
[ -n "$id" ] || { echo "FAIL: node4 has no OSD yet"; exit 1; }
f=/root/report/osd-df.json
[ -f "$f" ] || { echo "FAIL: once the rebalance is done, save ceph osd df -f json to $f"; exit 1; }
saved=$(jq ".nodes[] | select(.id==$id) | .pgs" "$f" 2>/dev/null)
[ "${saved:-0}" -gt 0 ] || { echo "FAIL: in $f, osd.$id on node4 holds no placement groups: save it after the rebalance"; exit 1; }
notclean=$(ceph pg stat -f json | jq '[.pg_summary.num_pg_by_state[]? | select(.name != "active+clean") | .num] | add // 0')
[ "$notclean" = 0 ] || { echo "FAIL: $notclean placement groups are not active+clean yet"; exit 1; }
ceph health | grep -q HEALTH_OK || { echo "FAIL: the cluster is not HEALTH_OK: $(ceph health)"; exit 1; }
