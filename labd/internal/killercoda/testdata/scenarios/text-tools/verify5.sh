grep a /root/words.txt | cmp -s - /root/out/with-a || { echo 'FAIL: find words with an a: not done yet'; exit 1; }
