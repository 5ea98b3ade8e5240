#!/bin/sh
set -e
mkdir -p /srv/share
echo "cluster-id: $(cat /srv/cluster-id)" > /srv/share/status.txt
# Start the server unless one already answers, and return once it answers.
curl -fs -o /dev/null http://127.0.0.1:8080/status.txt || busybox httpd -p 8080 -h /srv/share
end=$(($(date +%s) + 30))
until curl -fs -o /dev/null --max-time 2 http://127.0.0.1:8080/status.txt; do
	[ "$(date +%s)" -lt "$end" ] || { echo "httpd does not answer on port 8080" >&2; exit 1; }
	sleep 0.5
done
