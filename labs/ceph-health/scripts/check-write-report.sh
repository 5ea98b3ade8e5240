#!/bin/bash
ceph-lab reachable || exit 1
f=/root/report/health-report.md
[ -f "$f" ] || { fail "文件 $f 还不存在" "$f does not exist yet"; exit 1; }
s=$(ceph status -f json)
health=$(jq -r .health.status <<<"$s")
up=$(jq -r .osdmap.num_up_osds <<<"$s"); in=$(jq -r .osdmap.num_in_osds <<<"$s")
mons=$(jq -r '.monmap.num_mons // (.monmap.mons | length)' <<<"$s")
ok=1
grep -qx "Health: $health" "$f" || { fail "报告中需要这一行：'Health: $health'" "the report needs the line 'Health: $health'"; ok=0; }
grep -qx "OSDs: $up up / $in in" "$f" || { fail "报告中需要这一行：'OSDs: $up up / $in in'" "the report needs the line 'OSDs: $up up / $in in'"; ok=0; }
grep -qx "Monitors: $mons" "$f" || { fail "报告中需要这一行：'Monitors: $mons'" "the report needs the line 'Monitors: $mons'"; ok=0; }
[ $ok = 1 ]
