#!/bin/bash
if [ -e /root/notes.txt ]; then echo "FAIL: ~/notes.txt is still there"; exit 1; fi
test -f /etc/files-basics/conf/app.json
