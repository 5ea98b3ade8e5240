grep -q "GREETING=hi" /root/.profile && test -f /root/.katacoda-ready
