#!/bin/bash
# The solution of the step "Stop the runaway", run by the lab tests: the
# commands its text offers to run, in order. Edit it where the text
# leaves the work to the trainee.
set -e
cd /root
ps aux | grep -v grep | grep runaway
pkill -x runaway
