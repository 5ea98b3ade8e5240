#!/bin/bash
ceph-lab reachable || exit 1
want=$(ceph config-key get lab/failed-osd 2>/dev/null)
f=/root/report/failed-osd
[ -f "$f" ] || { fail "请把故障的 OSD 和它所在的主机写进 $f，格式为 osd.编号 主机" "write the failed OSD and its host to $f, as osd.ID HOST"; exit 1; }
host=$(ceph osd find "$want" -f json | jq -r '.crush_location.host')
grep -qx "osd.$want $host" "$f" || { fail "$f 写的不是故障的 OSD 和它的主机（osd.编号 主机）" "$f does not name the failed OSD and its host (osd.ID HOST)"; exit 1; }
