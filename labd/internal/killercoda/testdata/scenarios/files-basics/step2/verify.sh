#!/bin/bash
# the background script of this step left a seed
grep -qx hello /root/work/hello.txt && [ -f /tmp/step2-seed ]
