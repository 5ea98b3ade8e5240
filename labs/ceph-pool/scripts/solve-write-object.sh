#!/bin/sh
echo "hello, storage" > /tmp/hello.txt
rados -p xpool put hello /tmp/hello.txt
