#!/bin/sh
mkdir -p /root/report
ceph osd tree -f json > /root/report/osd-tree.json
