#!/usr/bin/env bash
# Resource limits (cgroups): --memory gets a memory hog OOM-killed (137, and havre says so),
# --pids-limit stops a fork bomb, --cpus 0.5 halves a busy loop's CPU share; the container's cgroups
# exist only while it runs (and a kill -9 leaves nothing the next run does not remove); no limits, no
# cgroup; bad values and rootless without delegation are clear errors (--cgroups best-effort warns).
# This machine's layout is whatever the host has: hybrid (v1 controllers + v2 "unified") here.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

require_run_env
ensure_test_user
require_cmd find /usr/bin/time
[[ -d /sys/fs/cgroup ]] || fail "no /sys/fs/cgroup on this host"
pack_alpine app
app=$TEST_TMP/app

# The container cgroups of the runtime with pid PID, in every hierarchy (v1 and v2).
cgroups_of() { find /sys/fs/cgroup -mindepth 1 -maxdepth 8 -type d -name "havre-$1" 2>/dev/null || true; }
all_havre_cgroups() { find /sys/fs/cgroup -mindepth 1 -maxdepth 8 -type d -name 'havre-[0-9]*' 2>/dev/null || true; }
before=$(all_havre_cgroups)
new_havre_cgroups() { LC_ALL=C comm -13 <(sort <<<"$before") <(all_havre_cgroups | sort) | sed '/^$/d' || true; }
# The file NAME of the container cgroup of PID that has it (v1: one hierarchy has it; v2: the one).
limit_file() {  # PID NAME
  local d
  for d in $(cgroups_of "$1"); do [[ -f $d/$2 ]] && { echo "$d/$2"; return; }; done
  return 0
}

# --- the limits are where the kernel reads them, and the cgroups go away -------------------------
start_bg "$TEST_TMP/bg" "$app" run --memory 64m --cpus 0.5 --pids-limit 40 sleep 30
wait_until 10000 eval '[[ -n $(limit_file '"$BG_PID"' pids.max) && -n $(pgrep -f "^sleep 30") ]]' ||
  fail "the container's cgroup did not appear: $(cat "$TEST_TMP/bg.err")"
mem=$(limit_file "$BG_PID" memory.limit_in_bytes)
mem=${mem:-$(limit_file "$BG_PID" memory.max)}
expect_eq "--memory 64m is the cgroup's memory limit" "$(cat "$mem")" 67108864
if cpu=$(limit_file "$BG_PID" cpu.cfs_quota_us) && [[ -n $cpu ]]; then
  expect_eq "--cpus 0.5 is a quota of half the period (v1)" \
    "$(cat "$cpu") $(cat "${cpu%/*}/cpu.cfs_period_us")" "50000 100000"
else
  expect_eq "--cpus 0.5 is a quota of half the period (v2)" "$(cat "$(limit_file "$BG_PID" cpu.max)")" \
    "50000 100000"
fi
expect_eq "--pids-limit 40 is pids.max" "$(cat "$(limit_file "$BG_PID" pids.max)")" 40
sleep_pid=$(pgrep -f "^sleep 30" | head -1)
for d in $(cgroups_of "$BG_PID"); do
  expect_contains "the command is in the cgroup $d" "$(cat "$d/cgroup.procs")" "$sleep_pid"
done
# Nested under the caller's own cgroup, so the caller's limits (a CI job's) still hold.
own=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ { print $3 }' /proc/self/cgroup)
if [[ -n $own ]]; then
  expect_eq "the memory cgroup lies under the caller's own (v1 memory:$own)" "$mem" \
    "/sys/fs/cgroup/memory${own%/}/havre-$BG_PID/memory.limit_in_bytes"
fi
kill -TERM "$BG_PID"
wait_bg "$BG_PID" 10000
expect_eq "the limited container ends on SIGTERM" "$BG_RC" 143
expect_eq "its cgroups are removed" "$(cgroups_of "$BG_PID")" ""

# --- --memory: a memory hog is OOM-killed, and havre says so; a modest command runs -------------
run "$app" run --memory 32m tail /dev/zero
expect_rc "a memory hog under --memory 32m is killed (128+SIGKILL)" 137
expect_contains "havre reports the OOM kill" "$ERR" "havre: error: the container ran out of memory (--memory 32m)"
run "$app" run --memory 32m sh -c 'head -c 8m /dev/zero | wc -c'
expect_rc "8 MiB through a pipe fits in 32m" 0
expect_eq "and gives its output" "$OUT" 8388608
expect_not_contains "no OOM report without an OOM kill" "$ERR" "out of memory"
# The limit counts memory and swap together: the same hog with a bigger limit still dies at it.
run "$app" run --memory 48m sh -c 'x=$(head -c 100m /dev/zero | tr "\0" a); echo survived'
expect_rc "a 100 MB shell variable under --memory 48m is killed" 137

# --- --pids-limit: a fork bomb hits the limit and the container stays in control -----------------
start_bg "$TEST_TMP/bomb" "$app" run --pids-limit 25 sh -c \
  'b() { b & b & i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; wait; }; b 2>/dev/null; echo bomb-over'
peak=0
while ! _pid_gone "$BG_PID"; do
  f=$(limit_file "$BG_PID" pids.current)
  if [[ -n $f ]] && n=$(cat "$f" 2>/dev/null) && ((n > peak)); then peak=$n; fi
  sleep 0.01
done
wait_bg "$BG_PID" 60000
expect_eq "the fork bomb under --pids-limit 25 ends by itself" "$BG_RC" 0
expect_contains "the shell outlives it" "$(cat "$TEST_TMP/bomb.out")" "bomb-over"
expect_true "the container never had more than 25 tasks (peak $peak)" test "$peak" -le 25
expect_true "the bomb pressed against the limit (peak $peak >= 20)" test "$peak" -ge 20
expect_eq "nothing of the bomb is left on the host" "$(pgrep -f 'b 2>/dev/null' || true)" ""

# --- --cpus 0.5: a busy loop gets half the CPU time it gets unlimited ----------------------------
cpu_share() {  # [RUN OPTIONS...]: CPU seconds per wall second of a 3-second busy loop, in percent
  /usr/bin/time -f '%U %S %e' -o "$TEST_TMP/time" "$app" run "$@" timeout 3 sh -c 'while :; do :; done' || true
  tail -1 "$TEST_TMP/time" | awk '{ printf "%d\n", 100 * ($1 + $2) / $3 }'
}
free=$(cpu_share)
half=$(cpu_share --cpus 0.5)
say "busy loop CPU share: unlimited ${free}%, --cpus 0.5 ${half}%"
expect_true "--cpus 0.5 holds the loop near 50% (got ${half}%)" test "$half" -ge 35 -a "$half" -le 60
expect_true "--cpus 0.5 at most 70% of the unlimited share (${half}% vs ${free}%)" \
  test $((100 * half)) -le $((70 * free))

# --- kill -9 of the runtime: the container dies, the next run removes the empty cgroups ----------
start_bg "$TEST_TMP/k9" "$app" run --memory 64m sleep 31
# memory.limit_in_bytes on cgroup v1, memory.max on v2: whichever this host has.
wait_until 10000 eval '[[ -n $(limit_file '"$BG_PID"' memory.limit_in_bytes)$(limit_file '"$BG_PID"' memory.max) && -n $(pgrep -f "^sleep 31") ]]' ||
  fail "the container did not start: $(cat "$TEST_TMP/k9.err")"
killed=$BG_PID
kill -KILL "$killed"
wait_bg "$killed" 5000
expect_true "the container dies with its runtime" wait_until 5000 eval '[[ -z $(pgrep -f "^sleep 31") ]]'
stale=$(cgroups_of "$killed")
expect_ne "kill -9 leaves the runtime's cgroup behind (empty)" "$stale" ""
run "$app" run --memory 64m true
expect_rc "the next limited run works" 0
expect_eq "and removed the stale cgroup" "$(cgroups_of "$killed")" ""

# --- no limits, no cgroup work -------------------------------------------------------------------
run env HAVRE_DEBUG=1 "$app" run true
expect_not_contains "without limits nothing touches cgroups" "$ERR" "cgroup"
expect_eq "no container cgroups are left by any of the runs above" "$(new_havre_cgroups)" ""

# --- bad values: one clear line, exit 125 --------------------------------------------------------
for bad in "--memory 1k|--memory 1k: the minimum is 6m" "--memory lots|--memory lots: expected a size" \
  "--cpus 0|--cpus 0: the minimum" "--cpus 4096|--cpus 4096: this machine has" \
  "--pids-limit 0|--pids-limit 0: expected a positive" "--pids-limit x|--pids-limit x"; do
  # shellcheck disable=SC2086 # the option and its value are two words
  run "$app" run ${bad%%|*} true
  expect_havre_error "${bad%%|*}" "${bad#*|}"
done
run "$app" run --cgroups sometimes --memory 64m true
expect_rc "--cgroups takes required or best-effort" 125

# --- rootless: no delegation here (cgroup v1 has none) -> an error naming the fix, or a warning ---
run as_test_user "$app" run --memory 64m true
expect_havre_error "rootless --memory without a delegated cgroup" "memory"
expect_contains "the message says how to get delegation" "$ERR" "Delegate=yes"
expect_contains "and mentions --cgroups best-effort" "$ERR" "--cgroups best-effort"
run as_test_user "$app" run --memory 64m --pids-limit 10 --cgroups best-effort echo ran
expect_rc "rootless with --cgroups best-effort runs" 0
expect_eq "the command ran" "$OUT" "ran"
expect_contains "with a one-line warning" "$ERR" "running without resource limits (--cgroups best-effort)"
expect_eq "the warning is one line" "$(line_count "$ERR")" 1
