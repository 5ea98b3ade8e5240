#!/bin/bash
ceph-lab reachable || exit 1
f=/root/report/osd-tree.json
[ -f "$f" ] || { echo "FAIL: $f does not exist yet"; exit 1; }
jq -e '.nodes' "$f" >/dev/null 2>&1 || { echo "FAIL: $f is not the JSON of ceph osd tree"; exit 1; }
want=$(ceph osd tree -f json | jq -c '[.nodes[] | select(.type=="host") | {name, osds: (.children | length)}] | sort_by(.name)')
got=$(jq -c '[.nodes[] | select(.type=="host") | {name, osds: (.children | length)}] | sort_by(.name)' "$f")
[ "$want" = "$got" ] || { echo "FAIL: $f does not show the hosts and OSDs the cluster has now"; exit 1; }
