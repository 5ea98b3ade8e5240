head -1 /root/out/freq 2>/dev/null | grep -q ' apple$' || { echo 'FAIL: count each word: not done yet'; exit 1; }
