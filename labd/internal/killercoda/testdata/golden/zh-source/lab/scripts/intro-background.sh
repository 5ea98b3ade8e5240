#!/bin/bash
# Killercoda keeps a background script's output in /var/log/killercoda;
# so a process it leaves running holds no pipe of labd's open.
mkdir -p /var/log/killercoda
exec >>/var/log/killercoda/intro-background.log 2>&1
touch /root/.katacoda-ready
