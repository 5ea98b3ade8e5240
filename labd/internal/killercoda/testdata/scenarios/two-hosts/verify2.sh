grep -q from-controlplane /root/hello-back && ssh 172.30.2.2 test -f /etc/two-hosts/motd
