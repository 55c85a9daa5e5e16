#!/usr/bin/env bash
# Rootless runs: an unprivileged user runs an appliance with nothing but user namespaces and /dev/fuse
# (the image is served over FUSE by the runtime itself). The behaviour suite of the root runtime, as
# that user: exit codes, signals, PID isolation, the overlay, cleanup after kill -9, parallel runs.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

require_run_env
ensure_test_user
[[ -c /dev/fuse ]] || skip "/dev/fuse is missing"
as_test_user test -r /dev/fuse -a -w /dev/fuse || skip "/dev/fuse is not usable by $TEST_USER (scripts/setup makes it 0666)"
uid=$(id -u "$TEST_USER")

pack_alpine app 'hostname: rootless-box'
chmod 755 "$TEST_TMP/app"
app=$TEST_TMP/app
urun() { run as_test_user "$app" "$@"; }

urun run sh -c 'cat /etc/alpine-release; id -u; cat /proc/self/uid_map'
expect_rc "a command runs as $TEST_USER" 0
expect_contains "the image is Alpine's" "$OUT" "3.20.3"
expect_eq "the caller is root inside" "$(sed -n 2p <<<"$OUT")" "0"
expect_eq "uid 0 inside maps to the caller outside" "$(sed -n 3p <<<"$OUT" | tr -s ' ' | sed 's/^ //')" "0 $uid 1"

urun run sh -c 'grep " / " /proc/self/mountinfo; grep fuse /proc/self/mountinfo | wc -l'
expect_contains "the root is an overlay" "$OUT" "overlay"

urun run sh -c 'exit 42'
expect_rc "exit status 42 propagates" 42
urun run sh -c 'kill -9 $$'
expect_rc "a command killed by SIGKILL gives 137" 137
urun run nosuch-command
expect_rc "an unknown command gives 127" 127

urun run sh -c 'echo $$; hostname; ps -o pid,args'
expect_ne "the command is not PID 1" "$(sed -n 1p <<<"$OUT")" "1"
expect_eq "the hostname comes from the recipe" "$(sed -n 2p <<<"$OUT")" "rootless-box"
procs=$(sed -n '4,$p' <<<"$OUT")
expect_eq "PID 1 inside is the appliance" "$(awk '$1 == 1 {print $2}' <<<"$procs")" "$app"
expect_eq "only the container's processes are visible (init, and ps, which sh execs)" "$(wc -l <<<"$procs" | tr -d ' ')" "2"

urun run sh -c 'echo written > /etc/rootless-was-here; cat /etc/rootless-was-here'
expect_eq "writes go to the overlay" "$OUT" "written"
urun run cat /etc/rootless-was-here
expect_rc "the write is gone on the next run" 1

urun run --user "$uid" sh -c 'id -u; cat /proc/self/uid_map'
expect_eq "--user keeps the caller's identity: the command runs as that uid" "$(sed -n 1p <<<"$OUT")" "$uid"
expect_eq "--user: the uid maps to the caller (root of the outer namespace)" \
  "$(sed -n 2p <<<"$OUT" | tr -s ' ' | sed 's/^ //')" "$uid 0 1"

persist=$(test_user_dir persist)
urun run --persist "$persist" sh -c 'echo kept > /kept'
urun run --persist "$persist" cat /kept
expect_eq "--persist keeps the writable layer" "$OUT" "kept"

# SIGTERM to the appliance stops a plain sleep promptly.
start_bg "$TEST_TMP/term" as_test_user "$app" run sleep 100
has_sleep() { [[ -n $(procs_matching '^sleep 100$') ]]; }
wait_until 5000 has_sleep || true
# The appliance itself (the oldest process of that command line; runuser is its parent).
kill -TERM "$(pgrep -f -o -- "^$app run sleep")" 2>/dev/null || true
wait_bg "$BG_PID" 3000
expect_true "SIGTERM stops 'run sleep 100' within 1 s (took ${BG_MS} ms)" test "$BG_MS" -lt 1000
expect_eq "SIGTERM gives 143" "$BG_RC" "143"

# kill -9 of the appliance at several moments (setting up, mounting, running): the FUSE server is
# a thread of the container's init, which dies with it; nothing survives.
temps_before=$(havre_temp_entries)
appliance_pid() { pgrep -f -o -- "^$app run sleep" || true; }
for delay in 0 0.005 0.02 0.05 0.2 0.5; do
  start_bg "$TEST_TMP/kill" as_test_user "$app" run sleep 100
  wait_until 3000 test -n "$(appliance_pid)" || true
  sleep "$delay"
  kill -KILL "$(appliance_pid)" 2>/dev/null || true
  wait_bg "$BG_PID" 3000
  expect_true "kill -9 after ${delay}s: no process of the appliance survives" \
    wait_until 2000 no_procs_matching "$app|^sleep 100$"
done
expect_eq "no FUSE mount of ours on the host" "$(grep -c 'fuse.havre' /proc/self/mountinfo || true)" "0"
expect_eq "no temp dirs left" "$(havre_temp_entries)" "$temps_before"

# 50 rootless runs at once.
pids=()
for i in $(seq 50); do
  as_test_user "$app" run true >"$TEST_TMP/par.$i.out" 2>&1 &
  pids+=($!)
done
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
expect_eq "50 parallel rootless runs all succeed" "$failed" "0"
