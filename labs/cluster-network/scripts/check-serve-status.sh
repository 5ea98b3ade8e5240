#!/bin/sh
# Runs on node2: node1 must serve status.txt over HTTP on port 8080.
body=$(curl -fsS --max-time 5 http://node1:8080/status.txt 2>&1) ||
	{ echo "FAIL: node2 cannot fetch http://node1:8080/status.txt ($body)"; exit 1; }
echo "$body" | grep -q "^cluster-id: [0-9a-f-]\{36\}$" ||
	{ echo "FAIL: status.txt must contain the line 'cluster-id: <the id in /srv/cluster-id>'"; exit 1; }
