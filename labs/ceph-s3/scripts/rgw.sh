#!/bin/sh
set -e
ceph-lab rgw
# Wait until the gateway answers S3 requests.
for _ in $(seq 1 60); do
	curl -fsS -o /dev/null http://127.0.0.1:7480/ && exit 0
	sleep 1
done
echo "the RADOS gateway did not answer on port 7480" >&2
exit 1
