#!/bin/sh
set -e
mkdir -p /srv/share
echo "cluster-id: $(cat /srv/cluster-id)" > /srv/share/status.txt
# Start the server unless one already answers.
curl -fs -o /dev/null http://127.0.0.1:8080/status.txt || busybox httpd -p 8080 -h /srv/share
