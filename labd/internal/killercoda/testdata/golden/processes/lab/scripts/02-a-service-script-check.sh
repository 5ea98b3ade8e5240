#!/bin/bash
# The check of the step "A service script": the scenario's verify script (verify2.sh), run
# with bash; exit 0 passes. Its lines that start with FAIL: are shown to the
# trainee, otherwise a generic "not yet".
verify=$(cat <<'VERIFY_END'
#!/bin/bash
out=$(hello-service 2>/dev/null) || { echo "FAIL: hello-service does not run"; exit 1; }
case $out in up:*) ;; *) echo "FAIL: hello-service prints $out"; exit 1;; esac
VERIFY_END
)
out=$(bash -c "$verify" verify 2>&1 </dev/null)
rc=$?
[ "$rc" -eq 0 ] && exit 0
msg=$(printf '%s\n' "$out" | grep '^FAIL:')
printf '%s\n' "${msg:-FAIL: not yet: the check of this step does not pass}"
exit "$rc"
