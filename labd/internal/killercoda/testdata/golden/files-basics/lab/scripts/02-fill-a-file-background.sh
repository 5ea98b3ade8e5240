#!/bin/bash
# Killercoda keeps a background script's output in /var/log/killercoda;
# so a process it leaves running holds no pipe of labd's open.
mkdir -p /var/log/killercoda
exec >>/var/log/killercoda/02-fill-a-file-background.log 2>&1
echo seed > /tmp/step2-seed
