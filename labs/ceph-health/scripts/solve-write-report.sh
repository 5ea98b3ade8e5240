#!/bin/bash
set -e
# The report is of a settled cluster: a busy machine may show a passing
# warning (slow ops) that is gone when the check compares.
ceph-lab wait-for healthy --timeout 300
mkdir -p /root/report
s=$(ceph status -f json)
{
	echo "# Health check report"
	echo
	echo "Health: $(jq -r .health.status <<<"$s")"
	echo "OSDs: $(jq -r .osdmap.num_up_osds <<<"$s") up / $(jq -r .osdmap.num_in_osds <<<"$s") in"
	echo "Monitors: $(jq -r '.monmap.num_mons // (.monmap.mons | length)' <<<"$s")"
} > /root/report/health-report.md
