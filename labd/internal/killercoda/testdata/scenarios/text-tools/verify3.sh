sort -u /root/words.txt | cmp -s - /root/out/unique || { echo 'FAIL: remove duplicates: not done yet'; exit 1; }
