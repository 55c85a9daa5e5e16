#!/usr/bin/env bash
# Nothing outlives a run: no loop device on the appliance, no SquashFS/overlay/staging mount on the
# host, no process, no temporary directory -- after a normal exit, after a setup failure, and after
# ./app is killed with SIGKILL (or SIGTERM) at many moments of its start-up, or its init is killed.
# shellcheck disable=SC2016 # the single-quoted scripts are expanded by the container's shell
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

require_run_env
cd "$TEST_TMP"
pack_alpine app 'hostname: cleanup'
APP=$TEST_TMP/app
NAP=$((8000 + $$ % 1000))  # a sleep length no other process on the host uses
mounts_before=$(suspect_host_mounts)
temps_before=$(havre_temp_entries)

# Everything a run could leave behind; "" when nothing is. Polls up to 2 s for the kernel's
# teardown (namespace exit, loop autoclear) to finish.
leftovers() {
  wait_until 2000 _clean || true
  local out=""
  [[ -z $(loops_of "$APP") ]] || out+="loop devices: $(loops_of "$APP"); "
  [[ -z $(new_suspect_host_mounts "$mounts_before") ]] ||
    out+="new host mounts: $(new_suspect_host_mounts "$mounts_before" | tr '\n' ' '); "
  [[ -z $(procs_matching "$APP") ]] || out+="runtime processes: $(procs_matching "$APP"); "
  [[ -z $(procs_matching "^sleep $NAP\$") ]] || out+="command processes: $(procs_matching "^sleep $NAP\$"); "
  [[ -z $(new_havre_temp_entries "$temps_before") ]] ||
    out+="new temp entries: $(new_havre_temp_entries "$temps_before" | tr '\n' ' '); "
  printf '%s\n' "$out"
}
_clean() {
  [[ -z $(loops_of "$APP") && -z $(procs_matching "$APP") && -z $(procs_matching "^sleep $NAP\$") ]]
}

# The last setup step the runtime logged (HAVRE_DEBUG=1), to say which phase a kill hit.
last_step() {  # STDERR_FILE
  local s
  s=$(grep -o 'debug: *[0-9.]* ms: .*' "$1" 2>/dev/null | tail -n 1 | sed 's/debug: *[0-9.]* ms: //') || true
  printf '%s\n' "${s:-before the first debug line}"
}

# Waits (busily: this is about milliseconds) until PID has exec'd the appliance. Signalling earlier
# would hit the forked bash before its exec, whose inherited TERM trap can swallow the signal.
wait_exec() {  # PID
  local i
  for ((i = 0; i < 200000; i++)); do
    [[ /proc/$1/exe -ef $APP ]] && return 0
    [[ -e /proc/$1 ]] || return 1
  done
  return 1
}

# --- normal exits and failures -------------------------------------------------------------------------
run "$APP" run true
expect_rc "a normal run exits 0" 0
expect_eq "after a normal exit: nothing left" "$(leftovers)" ""
run "$APP" run sh -c 'sleep 0.2 & sleep 0.1 & exit 3'
expect_rc "a run leaving background processes exits 3" 3
expect_eq "after a run that left background processes: nothing left" "$(leftovers)" ""
run "$APP" run nosuch-command
expect_rc "a missing command: 127" 127
expect_eq "after a 127: nothing left" "$(leftovers)" ""
run "$APP" run --read-only -w /no/such/dir true
expect_rc "a setup failure after the image is mounted: 125" 125
expect_eq "after a setup failure: nothing left" "$(leftovers)" ""
run "$APP" run --persist "$TEST_TMP/p" --net none -v "$TEST_TMP:/mnt/host:ro" sh -c 'echo x >/x'
expect_rc "a run with --persist, --net none and -v exits 0" 0
expect_eq "after --persist, --net none and -v: nothing left" "$(leftovers)" ""

# --- SIGKILL of ./app at many moments of its life ----------------------------------------------------------
# Counted from the moment it has exec'd the appliance ("0 ms" is at once): first the delays in ms,
# then a finer sweep of busy-loop spins (bash's sleep cannot wait less than about a millisecond).
kill_at() {  # LABEL WAY VALUE: WAY is ms or spins
  local label=$1 way=$2 value=$3 pid j
  HAVRE_DEBUG=1 "$APP" run sleep "$NAP" >/dev/null 2>"$TEST_TMP/kill.err" &
  pid=$!
  register_pid "$pid"
  wait_exec "$pid" || true
  if [[ $way == ms ]] && ((value > 0)); then sleep "$(printf '0.%03d' "$value")"; fi
  if [[ $way == spins ]]; then for ((j = 0; j < value; j++)); do :; done; fi
  kill -KILL "$pid"
  { wait "$pid"; } 2>/dev/null || true
  expect_eq "SIGKILL $label (last step: $(last_step "$TEST_TMP/kill.err")): nothing left" "$(leftovers)" ""
}
for d in 0 1 2 3 5 8 13 20 50 100 300; do kill_at "after $d ms" ms "$d"; done
for n in 0 25 50 100 200 400 800 1600 3200 6400 12800 25600; do kill_at "after $n spins" spins "$n"; done

# --- SIGTERM during start-up: the run ends with 143 and leaves nothing ---------------------------------------
for d in 0 2 5 10 20 50; do
  HAVRE_DEBUG=1 "$APP" run sleep "$NAP" >/dev/null 2>"$TEST_TMP/term.err" &
  pid=$!
  register_pid "$pid"
  expect_true "SIGTERM after ${d} ms: ./app started" wait_exec "$pid"
  if ((d > 0)); then sleep "$(printf '0.%03d' "$d")"; fi
  kill -TERM "$pid"
  wait_bg "$pid" 5000
  step=$(last_step "$TEST_TMP/term.err")
  expect_eq "SIGTERM after ${d} ms (last step: $step): status 143" "$BG_RC" 143
  expect_eq "SIGTERM after ${d} ms: nothing left" "$(leftovers)" ""
done

# --- SIGKILL of the container's init (not of ./app) ---------------------------------------------------------
start_bg "$TEST_TMP/init-kill" "$APP" run sh -c 'echo ready; exec sleep '"$NAP"
if wait_until 5000 file_has "$TEST_TMP/init-kill.out" ready; then
  init_pid=$(pgrep -P "$BG_PID" | head -n 1)
  expect_ne "the init is a child of ./app" "$init_pid" ""
  expect_eq "... running the same appliance" "$(readlink "/proc/$init_pid/exe" 2>&1)" "$APP"
  kill -KILL "$init_pid"
  wait_bg "$BG_PID" 5000
  expect_eq "./app reports its init's SIGKILL as 137" "$BG_RC" 137
  expect_eq "after the init was killed: nothing left" "$(leftovers)" ""
else
  _failed "the container started" "$(cat "$TEST_TMP/init-kill.err")"
fi
