touch /root/.katacoda-ready
