#!/bin/sh
# Runs on node2: its copy must equal what node1 serves now.
f=/root/status-from-node1.txt
[ -f "$f" ] || { fail "node2 上还没有 $f" "$f does not exist on node2 yet"; exit 1; }
want=$(curl -fsS --max-time 5 http://node1:8080/status.txt) ||
	{ fail "node1 的 8080 端口不再提供 status.txt" "node1 no longer serves status.txt on port 8080"; exit 1; }
[ "$(cat "$f")" = "$want" ] || { fail "$f 与 node1 提供的内容不同" "$f differs from what node1 serves"; exit 1; }
