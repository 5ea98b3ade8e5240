#!/bin/bash
set -e
mkdir -p /root/report
ceph osd tree -f json | jq -r '
  (.nodes | map(select(.type=="host")) | map({host: .name, osds: .children})) as $hosts
  | .nodes[] | select(.type=="osd" and .status=="down") | .id as $id
  | "osd.\($id) \($hosts[] | select(.osds | index($id)) | .host)"' > /root/report/failed-osd
cat /root/report/failed-osd
