#!/bin/sh
set -e
ceph osd pool create xpool 32 32 replicated
ceph osd pool set xpool size 3
ceph osd pool set xpool min_size 2
