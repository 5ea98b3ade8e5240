#!/bin/bash
# The solution of the step "Replace a word", run by the lab tests: the
# commands its text offers to run, in order. Edit it where the text
# leaves the work to the trainee.
set -e
cd /root
sed 's/apple/pear/g' /root/words.txt > /root/out/pears
