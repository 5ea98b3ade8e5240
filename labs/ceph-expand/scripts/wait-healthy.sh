#!/bin/sh
# Every PG active+clean and HEALTH_OK before the trainee starts.
exec ceph-lab wait 200
