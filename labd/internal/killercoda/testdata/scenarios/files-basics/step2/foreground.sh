while [ ! -f /tmp/step2-seed ]; do sleep 1; done
cat /tmp/step2-seed
