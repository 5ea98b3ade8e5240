grep -qx '5 apple' /root/out/lengths || { echo 'FAIL: word lengths: not done yet'; exit 1; }
