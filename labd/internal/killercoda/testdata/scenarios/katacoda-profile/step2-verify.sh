tar tzf /root/profile.tgz | grep -qx .profile
