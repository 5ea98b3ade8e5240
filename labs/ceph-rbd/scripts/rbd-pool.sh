#!/bin/sh
set -e
ceph osd pool create rbd 32 32 replicated >/dev/null
ceph osd pool application enable rbd rbd >/dev/null
rbd pool init rbd
