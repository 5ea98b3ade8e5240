#!/bin/sh
mkdir -p /root/report
ceph status -f json-pretty > /root/report/status.json
