#!/bin/bash
# The scenario's assets for host01, put in place at setup as Killercoda does.
# Made by labd import killercoda from files/ (a lab's setup runs scripts
# in its nodes, so the script carries the files); import again after
# changing them.
set -e
put() { # put FILE [CHMOD] < contents
	mkdir -p "$(dirname "$1")"
	cat >"$1"
	[ -z "$2" ] || chmod "$2" "$1"
}
put /root/words.txt <<'ASSET_END'
apple
banana
cherry
apple
date
fig
apple
banana
ASSET_END
