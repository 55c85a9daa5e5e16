#!/usr/bin/env bash
# Signals sent to ./app reach the command (TERM INT HUP QUIT USR1 USR2 WINCH), a handler-less
# command dies promptly with 128+N, the init reaps orphaned zombies, and the command is not PID 1:
# PID 1 is havre's init, which exits with the command's status even when background processes
# are left.
# shellcheck disable=SC2016 # the single-quoted scripts are expanded by the container's shell
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

require_run_env
cd "$TEST_TMP"
pack_alpine app 'hostname: signals'
APP=$TEST_TMP/app
# A sleep length no other process on the host uses, to find the command from outside.
NAP=$((7000 + $$ % 1000))

# --- a handler-less command dies of the forwarded signal, fast ------------------------------------
for pair in TERM:143 INT:130 HUP:129 QUIT:131 USR1:138 USR2:140; do
  sig=${pair%%:*} want=${pair##*:}
  start_bg "$TEST_TMP/plain-$sig" "$APP" run sleep "$NAP"
  if ! wait_until 5000 procs_matching_nonempty "^sleep $NAP\$"; then
    _failed "SIG$sig: the command started" "$(cat "$TEST_TMP/plain-$sig.err")"
    continue
  fi
  kill -"$sig" "$BG_PID"
  wait_bg "$BG_PID" 5000
  expect_eq "SIG$sig to ./app: a handler-less sleep dies of it, status $want" "$BG_RC" "$want"
  if [[ $BG_RC != timeout ]] && ((BG_MS < 1000)); then
    _pass "SIG$sig: ./app exited within 1 s (${BG_MS} ms)"
  else
    _failed "SIG$sig: ./app exited within 1 s" "took ${BG_MS} ms ($BG_RC)"
  fi
  expect_eq "SIG$sig: havre printed nothing" "$(cat "$TEST_TMP/plain-$sig.err")" ""
  expect_true "SIG$sig: the sleep inside is gone too" wait_until 1000 no_procs_matching "^sleep $NAP\$"
done

# SIGWINCH is forwarded but ignored by default: the command keeps running.
start_bg "$TEST_TMP/winch" "$APP" run sleep "$NAP"
wait_until 5000 procs_matching_nonempty "^sleep $NAP\$" || true
kill -WINCH "$BG_PID"
sleep 0.3
expect_false "SIGWINCH does not stop a command that ignores it" _pid_gone "$BG_PID"
kill -TERM "$BG_PID"
wait_bg "$BG_PID" 5000
expect_eq "... and a SIGTERM afterwards still gives 143" "$BG_RC" 143

# --- a trap in the command receives every forwarded signal ---------------------------------------
trap_script='
for s in INT HUP QUIT USR1 USR2 WINCH; do trap "echo got-$s" $s; done
trap "echo got-TERM; exit 9" TERM
echo ready
while :; do sleep 0.05; done'
start_bg "$TEST_TMP/trap" "$APP" run sh -c "$trap_script"
if wait_until 5000 file_has "$TEST_TMP/trap.out" ready; then
  _pass "the trapping shell started"
  for sig in INT HUP QUIT USR1 USR2 WINCH TERM; do
    kill -"$sig" "$BG_PID" 2>/dev/null || true
    expect_true "SIG$sig sent to ./app reaches the command's trap" \
      wait_until 3000 file_has "$TEST_TMP/trap.out" "got-$sig"
  done
  wait_bg "$BG_PID" 5000
  expect_eq "the command's own exit status from its TERM trap (9)" "$BG_RC" 9
else
  _failed "the trapping shell started" "$(cat "$TEST_TMP/trap.err")"
fi
expect_eq "the trap saw each signal once, in order" "$(tr '\n' ' ' <"$TEST_TMP/trap.out")" \
  "ready got-INT got-HUP got-QUIT got-USR1 got-USR2 got-WINCH got-TERM "

# --- zombies: orphans are re-parented to the init, which reaps them --------------------------------
run "$APP" run sh -c '
  (sleep 0.4 &); (sleep 0.4 &); (sleep 0.4 & exec true)
  sleep 0.1
  echo "during:"; ps -o ppid,comm | grep sleep
  sleep 0.8
  echo "after:"; ps -o stat,pid,ppid,comm; true'
expect_rc "the orphan-making command exits 0" 0
during=$(sed -n '/^during:/,/^after:/p' <<<"$OUT")
after=$(sed -n '/^after:/,$p' <<<"$OUT")
expect_eq "three orphaned sleeps were re-parented to PID 1" \
  "$(grep -cE '^ *1 +sleep' <<<"$during" || true)" 3
expect_eq "after they exited no zombie is left (ps shows no Z)" \
  "$(awk 'NR > 2 && $1 ~ /Z/' <<<"$after")" ""
expect_eq "after they exited only init, sh and ps are left" \
  "$(awk 'NR > 2 { printf "%s ", $4 }' <<<"$after")" "app sh ps "

# --- PID 1 is havre's init, not the command ------------------------------------------------------
run "$APP" run sh -c 'echo "$$"; cat /proc/1/comm; tr "\0" " " </proc/1/cmdline; echo; true'
expect_rc "the PID probe exits 0" 0
expect_ne "the command is not PID 1" "$(sed -n 1p <<<"$OUT")" 1
expect_eq "the command is PID 2, the init's only child" "$(sed -n 1p <<<"$OUT")" 2
expect_eq "PID 1 is the appliance (comm)" "$(sed -n 2p <<<"$OUT")" app
expect_contains "PID 1 is the runtime started as ./app run (cmdline)" "$(sed -n 3p <<<"$OUT")" "$APP run sh -c"

# --- the init exits with the command's status even with background processes left ----------------
t0=$(now_ms)
run "$APP" run sh -c "sleep $NAP & exit 5"
t1=$(now_ms)
expect_rc "a command leaving a background sleep: its status 5" 5
expect_true "... at once, not after the background sleep (took $((t1 - t0)) ms)" test $((t1 - t0)) -lt 3000
expect_true "... and the background sleep was killed with the container" \
  wait_until 1000 no_procs_matching "^sleep $NAP\$"
