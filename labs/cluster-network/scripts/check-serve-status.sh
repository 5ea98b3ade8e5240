#!/bin/sh
# Runs on node2: node1 must serve status.txt over HTTP on port 8080.
body=$(curl -fsS --max-time 5 http://node1:8080/status.txt 2>&1) ||
	{ fail "node2 取不到 http://node1:8080/status.txt（$body）" "node2 cannot fetch http://node1:8080/status.txt ($body)"; exit 1; }
echo "$body" | grep -q "^cluster-id: [0-9a-f-]\{36\}$" ||
	{ fail "status.txt 必须包含一行 'cluster-id: <文件 /srv/cluster-id 中的编号>'" "status.txt must contain the line 'cluster-id: <the id in /srv/cluster-id>'"; exit 1; }
