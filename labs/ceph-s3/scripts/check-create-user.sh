#!/bin/bash
ceph-lab reachable || exit 1
info=$(radosgw-admin user info --uid=trainee 2>/dev/null) || { fail "还没有 RGW 用户 trainee" "there is no RGW user trainee yet"; exit 1; }
[ "$(jq '.keys | length' <<<"$info")" -ge 1 ] || { fail "用户 trainee 没有 S3 密钥" "the user trainee has no S3 keys"; exit 1; }
