#!/usr/bin/env bash
# 100 runs of one appliance started at once all succeed (each gets its own loop device, despite
# the race for free devices), each prints its own output, and no loop device is left afterwards.
# shellcheck disable=SC2016 # the single-quoted scripts are expanded by the container's shell
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

require_run_env
cd "$TEST_TMP"
pack_alpine app 'hostname: parallel'
APP=$TEST_TMP/app
N=100
mkdir out

pids=()
for ((i = 0; i < N; i++)); do
  "$APP" run sh -c "echo run-$i; true" >"out/$i.out" 2>"out/$i.err" &
  pids+=($!)
  register_pid "$!"
done
failed=()
for ((i = 0; i < N; i++)); do
  rc=0
  wait "${pids[i]}" || rc=$?
  ((rc == 0)) || failed+=("run $i: exit status $rc: $(head -c 300 "out/$i.err")")
done
if ((${#failed[@]} == 0)); then
  _pass "$N parallel runs all exit 0"
else
  _failed "$N parallel runs all exit 0" "${#failed[@]} failed:" "${failed[@]:0:10}"
fi
wrong=0
for ((i = 0; i < N; i++)); do [[ $(cat "out/$i.out") == "run-$i" ]] || wrong=$((wrong + 1)); done
expect_eq "each run printed its own output" "$wrong wrong" "0 wrong"
expect_eq "no run printed anything on stderr" "$(cat out/*.err)" ""
expect_true "no loop device is left on the appliance (waited up to 2 s)" wait_until 2000 no_loops_of "$APP"
expect_true "no runtime process is left" wait_until 2000 no_procs_matching "$APP"
