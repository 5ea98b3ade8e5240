#!/bin/bash
ceph-lab reachable || exit 1
tree=$(ceph osd tree -f json)
n=$(jq '[.nodes[] | select(.type=="host" and .name=="node4") | .children[]] | length' <<<"$tree")
[ "${n:-0}" -ge 1 ] || { fail "CRUSH map 中 node4 下还没有 OSD" "node4 has no OSD in the CRUSH map yet"; exit 1; }
# A new OSD needs a few seconds to come up.
end=$((SECONDS + 20))
while :; do
	tree=$(ceph osd tree -f json)
	up=$(jq '[.nodes[] | select(.type=="osd" and .status=="up")] | length' <<<"$tree")
	all=$(jq '[.nodes[] | select(.type=="osd")] | length' <<<"$tree")
	[ "$up" = "$all" ] && exit 0
	[ $SECONDS -lt $end ] || break
	sleep 2
done
fail "有 $((all - up)) 个 OSD 处于 down 状态" "$((all - up)) OSDs are down"
exit 1
