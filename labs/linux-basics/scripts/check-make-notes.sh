#!/bin/sh
f=/root/work/notes.txt
[ -d /root/work ] || { echo "FAIL: the folder /root/work does not exist yet"; exit 1; }
[ -f "$f" ] || { echo "FAIL: $f does not exist yet"; exit 1; }
grep -q "storage" "$f" || { echo "FAIL: $f does not contain the word storage"; exit 1; }
