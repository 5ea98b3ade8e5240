#!/bin/sh
set -e
id=$(ceph config-key get lab/failed-osd)
ceph-osd -i "$id"
ceph-lab wait-for osd-up "$id" --timeout 120
