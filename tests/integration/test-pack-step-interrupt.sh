#!/usr/bin/env bash
# SIGINT or SIGTERM while a recipe's `run:` step runs ends the build with 128+signal, whatever the
# step makes of the signal (a plain sleep, `trap '' INT TERM`, `trap 'echo x' TERM`): no later step
# runs, and nothing is left -- no work directory, no output, no process of the build, no mount.
# (Before havre-pack exec'd the stub for its steps, the runtime's signalfd swallowed the signal: the
# build failed with "step 1 failed with exit status 143", or went on to step 2 and succeeded.)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

require_binaries
require_root "run steps need root"
require_alpine_tarball
cd "$TEST_TMP"

# interrupt NAME SIGNAL WANT_RC STEP [group]
interrupt() {
  local name=$1 sig=$2 want=$3 step=$4 target=${5:-}
  local mark=havre-step-interrupt-$$-$RANDOM
  mkdir "out-$name"
  # The mark goes into the steps' environment too, so the container's processes carry it.
  cat >"$name.yaml" <<EOF
name: $name
base:
  tarball:
    path: $ALPINE_TARBALL
env:
  HAVRE_TEST_MARK: $mark
run:
  - |
    echo STEP1-STARTED
    $step
  - echo STEP2-RAN; touch /step2-marker
EOF
  set -m
  HAVRE_TEST_MARK=$mark "$PACK" "$name.yaml" -o "out-$name/app" >"$name.out" 2>"$name.err" &
  local pid=$!
  set +m
  register_pid "$pid"
  local i
  for ((i = 0; i < 300; i++)); do
    grep -q STEP1-STARTED "$name.err" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if ! grep -q STEP1-STARTED "$name.err"; then
    _failed "$name: step 1 started" "stderr: $(cat "$name.err")"
    return 0
  fi
  sleep 0.5
  local start=${EPOCHREALTIME/[.,]/}
  if [[ $target == group ]]; then kill -s "$sig" -- "-$pid"; else kill -s "$sig" "$pid"; fi
  for ((i = 0; i < 150; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  local took_ms=$(((${EPOCHREALTIME/[.,]/} - start) / 1000))
  if kill -0 "$pid" 2>/dev/null; then
    _failed "$name: havre-pack exits after SIG$sig" "still running after ${took_ms} ms: $(procs_with_mark "$mark")"
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  local rc=0
  wait "$pid" || rc=$?
  expect_eq "$name: exit status 128+SIG$sig" "$rc" "$want"
  # The stub gets SIGTERM, then SIGKILL after a 2 s grace period if the step holds on.
  if ((took_ms < 6000)); then _pass "$name: exits promptly (${took_ms} ms)"; else _failed "$name: exits promptly" "${took_ms} ms"; fi
  expect_contains "$name: says it was interrupted" "$(cat "$name.err")" "interrupted"
  expect_not_contains "$name: step 2 never started" "$(cat "$name.err")" "[step 2]"
  expect_not_contains "$name: step 2 printed nothing" "$(cat "$name.err")" "STEP2-RAN"
  check_no_leftovers "out-$name" "out-$name/app"
  local procs=""
  for ((i = 0; i < 30; i++)); do
    procs=$(procs_with_mark "$mark")
    [[ -z $procs ]] && break
    sleep 0.1
  done
  expect_eq "$name: no process of the build is left (stub, init, step)" "$procs" ""
  expect_eq "$name: no mount of the build is left" \
    "$(grep -c "$TEST_TMP/out-$name/" /proc/self/mountinfo || true)" "0"
  local p
  for p in $procs; do kill -KILL "${p%%(*}" 2>/dev/null || true; done
}

interrupt sleep-sigint INT 130 "sleep 30"
interrupt sleep-sigterm TERM 143 "sleep 30"
interrupt sleep-ctrl-c INT 130 "sleep 30" group
interrupt trap-ignore-sigint INT 130 "trap '' INT TERM; sleep 30"
interrupt trap-ignore-sigterm TERM 143 "trap '' INT TERM; sleep 30"
interrupt trap-echo-sigterm TERM 143 "trap 'echo x' TERM; sleep 30"
