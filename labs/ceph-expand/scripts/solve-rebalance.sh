#!/bin/sh
set -e
ceph-lab wait 180
mkdir -p /root/report
ceph osd df -f json > /root/report/osd-df.json
