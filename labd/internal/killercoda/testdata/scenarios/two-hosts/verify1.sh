#!/bin/bash
ssh -o BatchMode=yes node01 cat /root/hello 2>/dev/null | grep -q from-controlplane || { echo "FAIL: node01 has no /root/hello saying from-controlplane"; exit 1; }
