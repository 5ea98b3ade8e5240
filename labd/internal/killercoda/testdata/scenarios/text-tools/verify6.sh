tr a-z A-Z < /root/words.txt | cmp -s - /root/out/upper || { echo 'FAIL: upper case: not done yet'; exit 1; }
