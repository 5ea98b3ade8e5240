#!/bin/bash
ceph-lab reachable || exit 1
# Recovery takes a moment: wait for it, within the check's time.
for _ in $(seq 1 120); do
	s=$(ceph status -f json)
	up=$(jq .osdmap.num_up_osds <<<"$s"); all=$(jq .osdmap.num_osds <<<"$s")
	health=$(jq -r .health.status <<<"$s")
	notclean=$(ceph pg stat -f json | jq '[.pg_summary.num_pg_by_state[]? | select(.name != "active+clean") | .num] | add // 0')
	[ "$up" = "$all" ] && [ "$health" = HEALTH_OK ] && [ "$notclean" = 0 ] && exit 0
	[ "$up" != "$all" ] && { echo "FAIL: $((all - up)) of $all OSDs are still down"; exit 1; }
	sleep 1
done
echo "FAIL: the cluster is $health with $notclean placement groups not active+clean"
exit 1
