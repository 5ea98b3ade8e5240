#!/bin/sh
# Every PG active+clean and HEALTH_OK before the trainee starts (within the
# setup step's 4 minutes).
exec ceph-lab wait-for healthy --timeout 220
