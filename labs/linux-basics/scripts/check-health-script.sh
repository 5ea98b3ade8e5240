#!/bin/sh
f=/root/work/health.sh
[ -f "$f" ] || { echo "FAIL: $f does not exist yet"; exit 1; }
[ -x "$f" ] || { echo "FAIL: $f is not executable (chmod +x)"; exit 1; }
out=$("$f" 2>&1) || { echo "FAIL: $f exited with an error"; exit 1; }
[ "$out" = "HEALTH_OK" ] || { echo "FAIL: $f printed '$out', expected HEALTH_OK"; exit 1; }
