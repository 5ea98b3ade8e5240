#!/bin/bash
ceph-lab reachable || exit 1
tree=$(ceph osd tree -f json)
n=$(jq '[.nodes[] | select(.type=="host" and .name=="node4") | .children[]] | length' <<<"$tree")
[ "${n:-0}" -ge 1 ] || { echo "FAIL: node4 has no OSD in the CRUSH map yet"; exit 1; }
# A new OSD needs a few seconds to come up.
for _ in $(seq 1 20); do
	tree=$(ceph osd tree -f json)
	up=$(jq '[.nodes[] | select(.type=="osd" and .status=="up")] | length' <<<"$tree")
	all=$(jq '[.nodes[] | select(.type=="osd")] | length' <<<"$tree")
	[ "$up" = "$all" ] && exit 0
	sleep 1
done
echo "FAIL: $((all - up)) OSDs are down"
exit 1
