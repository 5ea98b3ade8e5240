#!/bin/bash
ceph-lab reachable || exit 1
id=$(ceph osd tree -f json | jq '[.nodes[] | select(.type=="host" and .name=="node4") | .children[]][0] // empty')
[ -n "$id" ] || { fail "node4 上还没有 OSD" "node4 has no OSD yet"; exit 1; }
f=/root/report/osd-df.json
[ -f "$f" ] || { fail "重新均衡完成后，把 ceph osd df -f json 的输出保存到 $f" "once the rebalance is done, save ceph osd df -f json to $f"; exit 1; }
saved=$(jq ".nodes[] | select(.id==$id) | .pgs" "$f" 2>/dev/null)
[ "${saved:-0}" -gt 0 ] || { fail "$f 中 node4 上的 osd.$id 没有归置组：请在重新均衡之后保存" "in $f, osd.$id on node4 holds no placement groups: save it after the rebalance"; exit 1; }
notclean=$(ceph pg stat -f json | jq '[.pg_summary.num_pg_by_state[]? | select(.name != "active+clean") | .num] | add // 0')
[ "$notclean" = 0 ] || { fail "还有 $notclean 个归置组不是 active+clean" "$notclean placement groups are not active+clean yet"; exit 1; }
h=$(ceph health)
grep -q HEALTH_OK <<<"$h" || { fail "集群不是 HEALTH_OK：$h" "the cluster is not HEALTH_OK: $h"; exit 1; }
