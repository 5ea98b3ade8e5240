#!/bin/sh
# The new OSD's PGs first have to be mapped to it, then backfilled: wait for
# both on fresh PG stats before saving what ceph osd df shows.
set -e
id=$(ceph osd tree -f json | jq '[.nodes[] | select(.type=="host" and .name=="node4") | .children[]][0]')
ceph-lab wait-for pgs-on "$id" --timeout 300
ceph-lab wait-for healthy --timeout 300
mkdir -p /root/report
ceph osd df -f json > /root/report/osd-df.json
