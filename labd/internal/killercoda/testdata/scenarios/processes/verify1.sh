if pgrep -x runaway >/dev/null; then echo "FAIL: the runaway process still runs"; exit 1; fi
test -x /usr/local/bin/runaway
