ls -l /root
