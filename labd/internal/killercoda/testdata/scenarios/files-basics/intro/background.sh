if [[ -d /root ]]; then
  mkdir -p /var/lib/files-basics
  echo ready > /var/lib/files-basics/ready
fi
