#!/bin/bash
ceph-lab reachable || exit 1
want=$(ceph config-key get lab/failed-osd 2>/dev/null)
f=/root/report/failed-osd
[ -f "$f" ] || { echo "FAIL: write the failed OSD and its host to $f, as osd.ID HOST"; exit 1; }
host=$(ceph osd find "$want" -f json | jq -r '.crush_location.host')
grep -qx "osd.$want $host" "$f" || { echo "FAIL: $f does not name the failed OSD and its host (osd.ID HOST)"; exit 1; }
