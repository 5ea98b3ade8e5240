#!/bin/sh
# Runs on node3: peers.txt must list node1 and node2 with their real addresses.
f=/root/peers.txt
[ -f "$f" ] || { fail "node3 上还没有 $f" "$f does not exist on node3 yet"; exit 1; }
for peer in node1 node2; do
	addr=$(getent hosts "$peer" | awk '{print $1; exit}')
	[ -n "$addr" ] || { fail "node3 解析不了 $peer" "node3 cannot resolve $peer"; exit 1; }
	grep -Eq "^$addr[[:space:]]+$peer([[:space:]]|\$)" "$f" ||
		{ fail "$f 中没有 '$addr $peer' 这一行" "$f has no line '$addr $peer'"; exit 1; }
	ping -c 1 -W 2 "$addr" >/dev/null 2>&1 || { fail "$peer（$addr）不回应 ping" "$peer ($addr) does not answer ping"; exit 1; }
done
