#!/bin/sh
a=/root/work/etc-backup.tar.gz
[ -f "$a" ] || { echo "FAIL: $a does not exist yet"; exit 1; }
list=$(tar tzf "$a" 2>/dev/null) || { echo "FAIL: $a is not a gzip-compressed tar archive"; exit 1; }
for want in etc/hostname etc/hosts; do
	echo "$list" | grep -qx "/\{0,1\}$want" || { echo "FAIL: $a does not contain $want"; exit 1; }
done
