#!/bin/sh
# The OSD on this host crashes. Its id is kept where the checks can find it.
set -e
id=$(ls -d /var/lib/ceph/osd/ceph-* | head -1 | sed 's/.*ceph-//')
ceph config-key set lab/failed-osd "$id" >/dev/null
pkill -9 -x ceph-osd
# Gone before the monitor is told, or it would boot again; the step starts
# when the monitor has marked it down (it would notice by itself only after
# the heartbeat grace).
end=$(($(date +%s) + 30))
while pgrep -x ceph-osd >/dev/null; do
	[ "$(date +%s)" -lt "$end" ] || { echo "ceph-osd does not end" >&2; exit 1; }
	sleep 0.2
done
ceph osd down "osd.$id" >/dev/null 2>&1 || true
exec ceph-lab wait-for osd-down "$id" --timeout 120
