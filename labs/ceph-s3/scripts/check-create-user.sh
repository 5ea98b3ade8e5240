#!/bin/bash
ceph-lab reachable || exit 1
info=$(radosgw-admin user info --uid=trainee 2>/dev/null) || { echo "FAIL: there is no RGW user trainee yet"; exit 1; }
[ "$(jq '.keys | length' <<<"$info")" -ge 1 ] || { echo "FAIL: the user trainee has no S3 keys"; exit 1; }
