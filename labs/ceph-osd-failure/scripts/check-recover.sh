#!/bin/bash
ceph-lab reachable || exit 1
# A restarted OSD takes a while to boot, and recovery longer: wait for
# both, within the check's time (150 s), and say which is missing.
up_by=$((SECONDS + 30)) end=$((SECONDS + 120))
while :; do
	s=$(ceph status -f json)
	up=$(jq .osdmap.num_up_osds <<<"$s"); all=$(jq .osdmap.num_osds <<<"$s")
	health=$(jq -r .health.status <<<"$s")
	notclean=$(jq '[.pgmap.pgs_by_state[]? | select(.state_name != "active+clean") | .count] | add // 0' <<<"$s")
	[ "$up" = "$all" ] && [ "$health" = HEALTH_OK ] && [ "$notclean" = 0 ] && exit 0
	if [ "$up" != "$all" ] && [ $SECONDS -ge $up_by ]; then
		fail "$all 个 OSD 中仍有 $((all - up)) 个处于 down 状态" "$((all - up)) of $all OSDs are still down"
		exit 1
	fi
	[ $SECONDS -lt $end ] || break
	sleep 2
done
fail "集群状态是 $health，有 $notclean 个归置组不是 active+clean" "the cluster is $health with $notclean placement groups not active+clean"
exit 1
