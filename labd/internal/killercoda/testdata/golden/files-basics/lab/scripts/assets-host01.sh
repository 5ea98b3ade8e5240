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
put /root/notes.txt <<'ASSET_END'
Notes to remove.
ASSET_END
put /usr/local/bin/count-lines +x <<'ASSET_END'
#!/bin/sh
wc -l < "$1"
ASSET_END
put /etc/files-basics/conf/app.json <<'ASSET_END'
{"name": "files-basics"}
ASSET_END
