grep -qx hello /root/hello
