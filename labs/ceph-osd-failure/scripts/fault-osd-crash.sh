#!/bin/sh
# The OSD on this host crashes. Its id is kept where the checks can find it.
id=$(ls -d /var/lib/ceph/osd/ceph-* | head -1 | sed 's/.*ceph-//')
ceph config-key set lab/failed-osd "$id" >/dev/null
pkill -9 -x ceph-osd
ceph osd down "osd.$id" >/dev/null 2>&1
exit 0
