#!/bin/sh
curl -fsS -o /root/status-from-node1.txt http://node1:8080/status.txt
