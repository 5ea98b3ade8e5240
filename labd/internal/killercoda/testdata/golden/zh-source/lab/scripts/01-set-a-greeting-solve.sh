#!/bin/bash
# The solution of the step "Set a greeting", run by the lab tests: the
# commands its text offers to run, in order. Edit it where the text
# leaves the work to the trainee.
set -e
cd /root
echo "export GREETING=hi" >> ~/.profile
. ~/.profile
