grep -q pear /root/out/pears && ! grep -q apple /root/out/pears || { echo 'FAIL: replace a word: not done yet'; exit 1; }
