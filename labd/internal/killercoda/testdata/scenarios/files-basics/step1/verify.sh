[[ -d /root/work ]] || { echo "FAIL: /root/work does not exist yet"; exit 1; }
