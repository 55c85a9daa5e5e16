#!/usr/bin/env bash
# A setup failure in the container's init always comes back as exit status 125 and the init's own
# message (issue 11.7), even when the init dies before the outer runtime has handed it the seccomp
# filters: that write then meets a closed pipe, which used to kill the runtime with SIGPIPE (exit
# 141, no message). Forced 100 times: rootless, with --persist onto a directory the user cannot
# write (the init fails right after mounting the image over FUSE), runuser and all on one CPU so
# that the init often gets there before the outer process has compiled the filters (52 of 100 runs
# died of SIGPIPE before the fix).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

require_run_env
ensure_test_user
require_cmd taskset runuser
pack_alpine app
chmod 755 "$TEST_TMP" "$TEST_TMP/app"
app=$TEST_TMP/app
mkdir -p "$TEST_TMP/not-yours"  # root's, 0755: the test user cannot make upper/ in it

declare -A seen=()
bad=0
for ((i = 0; i < 100; i++)); do
  run taskset -c 0 runuser -u "$TEST_USER" -- "$app" run --persist "$TEST_TMP/not-yours" true
  seen[$RC]=$((${seen[$RC]:-0} + 1))
  if ((RC != 125)) || [[ $ERR != *"writable layer: mkdir "*"Permission denied"* ]]; then
    ((bad++ < 3)) && say "run $i: exit status $RC, stderr: $ERR"
  fi
done
summary=$(for rc in "${!seen[@]}"; do printf '%s x%s ' "$rc" "${seen[$rc]}"; done)
say "exit statuses of 100 runs: $summary"
expect_eq "every run ended with 125 and the init's error (exit statuses: $summary)" "$bad" 0
