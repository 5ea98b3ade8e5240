#!/bin/bash
ceph-lab reachable || exit 1
f=/root/report/osd-tree.json
[ -f "$f" ] || { fail "文件 $f 还不存在" "$f does not exist yet"; exit 1; }
jq -e '.nodes' "$f" >/dev/null 2>&1 || { fail "$f 不是 ceph osd tree 的 JSON 输出" "$f is not the JSON of ceph osd tree"; exit 1; }
want=$(ceph osd tree -f json | jq -c '[.nodes[] | select(.type=="host") | {name, osds: (.children | length)}] | sort_by(.name)')
got=$(jq -c '[.nodes[] | select(.type=="host") | {name, osds: (.children | length)}] | sort_by(.name)' "$f")
[ "$want" = "$got" ] || { fail "$f 中的主机和 OSD 与集群现在的不一致" "$f does not show the hosts and OSDs the cluster has now"; exit 1; }
