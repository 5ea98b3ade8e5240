#!/bin/sh
set -e
id=$(ceph config-key get lab/failed-osd)
ceph-osd -i "$id"
