grep -qx bye /root/bye
