#!/bin/bash
ceph-lab reachable || exit 1
rados -p xpool stat hello >/dev/null 2>&1 || { fail "xpool 中没有名为 hello 的对象" "xpool has no object named hello"; exit 1; }
# The write may still be settling: wait for it, within the check's time.
# Every PG of the pool must be reported (a new pool's PGs appear late).
want=$(ceph osd pool get xpool pg_num -f json | jq .pg_num)
end=$((SECONDS + 40))
while :; do
	states=$(ceph pg ls-by-pool xpool -f json | jq -c '[.pg_stats[].state]')
	n=$(jq length <<<"$states"); bad=$(jq '[.[] | select(. != "active+clean")] | length' <<<"$states")
	[ "$n" = "$want" ] && [ "$bad" = 0 ] && ceph health | grep -q HEALTH_OK && exit 0
	[ $SECONDS -lt $end ] || break
	sleep 2
done
fail "xpool 的 $want 个归置组中有 $((want - n + bad)) 个还不是 active+clean，或者集群不是 HEALTH_OK" \
	"$((want - n + bad)) of xpool's $want placement groups are not active+clean, or the cluster is not HEALTH_OK"
exit 1
