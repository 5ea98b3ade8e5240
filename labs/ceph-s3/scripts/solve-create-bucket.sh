#!/bin/bash
set -e
keys=$(radosgw-admin user info --uid=trainee)
cat > /root/.s3cfg <<CFG
[default]
access_key = $(jq -r '.keys[0].access_key' <<<"$keys")
secret_key = $(jq -r '.keys[0].secret_key' <<<"$keys")
host_base = node1:7480
host_bucket = node1:7480
use_https = False
signature_v2 = False
CFG
s3cmd mb s3://reports
