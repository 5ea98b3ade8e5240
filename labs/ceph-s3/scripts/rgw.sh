#!/bin/sh
set -e
ceph-lab rgw
# Ready when the gateway answers S3 requests (it first creates its pools).
exec ceph-lab wait-for rgw --timeout 110
