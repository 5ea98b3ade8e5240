#!/bin/sh
f=/root/work/notes.txt
[ -d /root/work ] || { fail "目录 /root/work 还不存在" "the folder /root/work does not exist yet"; exit 1; }
[ -f "$f" ] || { fail "文件 $f 还不存在" "$f does not exist yet"; exit 1; }
grep -q "storage" "$f" || { fail "$f 中没有单词 storage" "$f does not contain the word storage"; exit 1; }
