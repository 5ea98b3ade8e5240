kubectl get pod web
