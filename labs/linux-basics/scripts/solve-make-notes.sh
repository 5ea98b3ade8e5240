#!/bin/sh
set -e
mkdir -p /root/work
echo "Day 1: storage cluster health check notes" > /root/work/notes.txt
