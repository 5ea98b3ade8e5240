#!/bin/bash
ceph-lab reachable || exit 1
f=/root/report/status.json
[ -f "$f" ] || { echo "FAIL: $f does not exist yet"; exit 1; }
jq -e . "$f" >/dev/null 2>&1 || { echo "FAIL: $f is not JSON (use -f json or -f json-pretty)"; exit 1; }
[ "$(jq -r .fsid "$f")" = "$(ceph fsid)" ] || { echo "FAIL: $f is not this cluster's status (its fsid differs)"; exit 1; }
jq -e '.health.status and .osdmap.num_osds' "$f" >/dev/null ||
	{ echo "FAIL: $f lacks the health and OSD map sections of ceph status"; exit 1; }
