#!/bin/bash
out=$(hello-service 2>/dev/null) || { echo "FAIL: hello-service does not run"; exit 1; }
case $out in up:*) ;; *) echo "FAIL: hello-service prints $out"; exit 1;; esac
