while [ ! -f /var/lib/files-basics/ready ]; do sleep 1; done
echo "Welcome: the scenario is ready"
