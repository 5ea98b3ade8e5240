#!/bin/bash
# The check of the step "Stop the runaway": the scenario's verify script (verify1.sh), run
# with bash; exit 0 passes. Its lines that start with FAIL: are shown to the
# trainee, otherwise a generic "not yet".
verify=$(cat <<'VERIFY_END'
if pgrep -x runaway >/dev/null; then echo "FAIL: the runaway process still runs"; exit 1; fi
test -x /usr/local/bin/runaway
VERIFY_END
)
out=$(bash -c "$verify" verify 2>&1 </dev/null)
rc=$?
[ "$rc" -eq 0 ] && exit 0
msg=$(printf '%s\n' "$out" | grep '^FAIL:')
printf '%s\n' "${msg:-FAIL: not yet: the check of this step does not pass}"
exit "$rc"
