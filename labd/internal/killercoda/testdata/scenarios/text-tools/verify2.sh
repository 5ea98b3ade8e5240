sort /root/words.txt | cmp -s - /root/out/sorted || { echo 'FAIL: sort them: not done yet'; exit 1; }
