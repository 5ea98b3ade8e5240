#!/bin/sh
set -e
rbd snap create --no-progress rbd/vol01@before
# An accident: part of the volume is overwritten.
rbd bench --io-type write --io-size 4K --io-total 1M --io-pattern rand rbd/vol01 >/dev/null
touch /root/changed
rbd snap rollback --no-progress rbd/vol01@before
