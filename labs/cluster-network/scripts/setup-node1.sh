#!/bin/sh
# The data node1 will serve: a cluster id the trainee cannot guess.
set -e
mkdir -p /srv/share
cat /proc/sys/kernel/random/uuid > /srv/cluster-id
