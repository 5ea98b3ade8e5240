test "$(wc -l < /root/out/first)" -eq 3 || { echo 'FAIL: first three: not done yet'; exit 1; }
