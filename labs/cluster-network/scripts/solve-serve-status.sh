#!/bin/sh
set -e
mkdir -p /srv/share
echo "cluster-id: $(cat /srv/cluster-id)" > /srv/share/status.txt
pkill -f "httpd -p 8080" 2>/dev/null || true
busybox httpd -p 8080 -h /srv/share
