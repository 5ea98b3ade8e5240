#!/bin/bash
ceph-lab reachable || exit 1
rados -p xpool stat hello >/dev/null 2>&1 || { echo "FAIL: xpool has no object named hello"; exit 1; }
for _ in $(seq 1 30); do
	bad=$(ceph pg ls-by-pool xpool -f json | jq '[.pg_stats[] | select(.state != "active+clean")] | length')
	[ "$bad" = 0 ] && ceph health | grep -q HEALTH_OK && exit 0
	sleep 1
done
echo "FAIL: $bad placement groups of xpool are not active+clean, or the cluster is not HEALTH_OK"
exit 1
