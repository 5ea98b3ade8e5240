#!/bin/bash
ceph-lab reachable || exit 1
f=/root/report/status.json
[ -f "$f" ] || { fail "文件 $f 还不存在" "$f does not exist yet"; exit 1; }
jq -e . "$f" >/dev/null 2>&1 || { fail "$f 不是 JSON（用 -f json 或 -f json-pretty）" "$f is not JSON (use -f json or -f json-pretty)"; exit 1; }
[ "$(jq -r .fsid "$f")" = "$(ceph fsid)" ] || { fail "$f 不是这个集群的状态（fsid 不同）" "$f is not this cluster's status (its fsid differs)"; exit 1; }
jq -e '.health.status and .osdmap.num_osds' "$f" >/dev/null ||
	{ fail "$f 缺少 ceph status 的健康状态和 OSD map 部分" "$f lacks the health and OSD map sections of ceph status"; exit 1; }
