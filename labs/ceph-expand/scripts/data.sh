#!/bin/sh
# Business data, so that a failure leaves something degraded.
set -e
ceph osd pool create data 32 32 replicated >/dev/null
ceph osd pool application enable data rados >/dev/null
head -c 4M /dev/urandom > /tmp/blob
for i in $(seq 1 24); do rados -p data put "object-$i" /tmp/blob; done
rm -f /tmp/blob
