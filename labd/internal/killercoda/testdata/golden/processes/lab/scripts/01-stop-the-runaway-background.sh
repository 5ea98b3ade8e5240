#!/bin/bash
# Killercoda keeps a background script's output in /var/log/killercoda;
# so a process it leaves running holds no pipe of labd's open.
mkdir -p /var/log/killercoda
exec >>/var/log/killercoda/01-stop-the-runaway-background.log 2>&1
cp /bin/sleep /usr/local/bin/runaway
nohup runaway 100000 >/dev/null 2>&1 &
