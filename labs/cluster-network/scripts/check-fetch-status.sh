#!/bin/sh
# Runs on node2: its copy must equal what node1 serves now.
f=/root/status-from-node1.txt
[ -f "$f" ] || { echo "FAIL: $f does not exist on node2 yet"; exit 1; }
want=$(curl -fsS --max-time 5 http://node1:8080/status.txt) ||
	{ echo "FAIL: node1 no longer serves status.txt on port 8080"; exit 1; }
[ "$(cat "$f")" = "$want" ] || { echo "FAIL: $f differs from what node1 serves"; exit 1; }
