#!/bin/sh
a=/root/work/etc-backup.tar.gz
[ -f "$a" ] || { fail "文件 $a 还不存在" "$a does not exist yet"; exit 1; }
list=$(tar tzf "$a" 2>/dev/null) || { fail "$a 不是 gzip 压缩的 tar 归档" "$a is not a gzip-compressed tar archive"; exit 1; }
for want in etc/hostname etc/hosts; do
	echo "$list" | grep -qx "/\{0,1\}$want" || { fail "$a 中没有 $want" "$a does not contain $want"; exit 1; }
done
