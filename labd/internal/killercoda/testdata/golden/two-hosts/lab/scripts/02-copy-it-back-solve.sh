#!/bin/bash
# The solution of the step "Copy it back", run by the lab tests: the
# commands its text offers to run, in order. Edit it where the text
# leaves the work to the trainee.
set -e
cd /root
scp 172.30.2.2:/root/hello /root/hello-back
