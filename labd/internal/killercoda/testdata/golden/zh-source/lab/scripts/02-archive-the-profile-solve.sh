#!/bin/bash
# The solution of the step "Archive the profile", run by the lab tests: the
# commands its text offers to run, in order. Edit it where the text
# leaves the work to the trainee.
set -e
cd /root
tar czf /root/profile.tgz -C /root .profile
