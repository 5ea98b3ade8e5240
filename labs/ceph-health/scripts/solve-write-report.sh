#!/bin/bash
mkdir -p /root/report
s=$(ceph status -f json)
{
	echo "# Health check report"
	echo
	echo "Health: $(jq -r .health.status <<<"$s")"
	echo "OSDs: $(jq -r .osdmap.num_up_osds <<<"$s") up / $(jq -r .osdmap.num_in_osds <<<"$s") in"
	echo "Monitors: $(jq -r '.monmap.num_mons // (.monmap.mons | length)' <<<"$s")"
} > /root/report/health-report.md
