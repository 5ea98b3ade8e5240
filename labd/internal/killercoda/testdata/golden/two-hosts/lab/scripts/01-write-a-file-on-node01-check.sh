#!/bin/bash
# The check of the step "Write a file on node01": the scenario's verify script (verify1.sh), run
# with bash; exit 0 passes. Its lines that start with FAIL: are shown to the
# trainee, otherwise a generic "not yet".
verify=$(cat <<'VERIFY_END'
#!/bin/bash
ssh -o BatchMode=yes node01 cat /root/hello 2>/dev/null | grep -q from-controlplane || { echo "FAIL: node01 has no /root/hello saying from-controlplane"; exit 1; }
VERIFY_END
)
out=$(bash -c "$verify" verify 2>&1 </dev/null)
rc=$?
[ "$rc" -eq 0 ] && exit 0
msg=$(printf '%s\n' "$out" | grep '^FAIL:')
printf '%s\n' "${msg:-FAIL: not yet: the check of this step does not pass}"
exit "$rc"
