#!/usr/bin/env bash
# The container's init gives a command that can ptrace it nothing (issue 11.2): with
# `--cap-add SYS_PTRACE` the command attaches to PID 1 (and, rootless, to its FUSE server threads)
# and makes it run mount(2) and open(2) at its current instruction (tests/payload/probe.c inject:):
# both fail with EPERM. Every thread of PID 1 has CapEff within the command's, NoNewPrivs 1 and
# Seccomp 2; PID 1 holds no appliance fd as root, and rootless only the FUSE server's (the image,
# read-only, and /dev/fuse). Rootless, the init's memory belongs to the host's user namespace, so
# the attach itself is refused (EPERM): that is "nothing" too. Signals still reach a command
# running as another uid.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

require_run_env
ensure_test_user
[[ -x $HAVRE_BUILD/tests/havre-probe ]] || fail "the probe $HAVRE_BUILD/tests/havre-probe is not built"
pack_alpine app "files: [{src: $HAVRE_BUILD/tests/havre-probe, dst: /usr/local/bin/probe, mode: '0755'}]"
chmod 755 "$TEST_TMP" "$TEST_TMP/app"
app=$TEST_TMP/app

# Inside the container: each thread of PID 1, its CapEff/NoNewPrivs/Seccomp, then an injection.
inspect='cmd=$(awk "/^CapEff/ {print \$2}" /proc/self/status)
for t in /proc/1/task/*; do
  tid=${t##*/}
  eff=$(awk "/^CapEff/ {print \$2}" $t/status)
  echo "thread $tid extra=$(printf %x $(( 0x$eff & ~0x$cmd ))) $(grep -E "^(NoNewPrivs|Seccomp):" $t/status | tr -d "\t" | tr "\n" " ")"
  probe inject:$tid | tr "\n" " "; echo
done'

for mode in root rootless; do
  if [[ $mode == root ]]; then r() { run "$app" "$@"; }; else r() { run as_test_user "$app" "$@"; }; fi
  r run --cap-add SYS_PTRACE sh -c "$inspect"
  expect_rc "$mode: the inspection ran ($ERR)" 0
  threads=$(grep -c '^thread ' <<<"$OUT")
  say "$mode: PID 1 has $threads thread(s)"
  ((threads >= 1)) || fail "$mode: no thread of PID 1 seen: $OUT"
  expect_eq "$mode: every thread of PID 1: no capability the command lacks, no_new_privs, a filter" \
    "$(grep '^thread ' <<<"$OUT" | sed 's/^thread [0-9]* //' | sort -u)" "extra=0 NoNewPrivs:1 Seccomp:2 "
  if [[ $mode == root ]]; then
    expect_eq "root: ptrace attaches (the command has CAP_SYS_PTRACE) but the injected calls fail" \
      "$(grep -c '^attach=ok inject-mount=EPERM inject-open=EPERM $' <<<"$OUT")" "$threads"
  else
    expect_eq "rootless: no thread of PID 1 can be attached or made to mount or open" \
      "$(grep -cE '^(attach=EPERM|attach=ok inject-mount=EPERM inject-open=EPERM) $' <<<"$OUT")" "$threads"
  fi
  expect_not_contains "$mode: no injected mount succeeded" "$OUT" "inject-mount=ok"
  expect_not_contains "$mode: no injected open succeeded" "$OUT" "inject-open=ok"

  # PID 1's fds (>= 3), seen from the host while the command sleeps (/dev/fuse, opened in the
  # container's mount namespace, may read as /fuse).
  mark=fds-$mode-$RANDOM
  if [[ $mode == root ]]; then pre=(); else pre=(as_test_user); fi
  "${pre[@]}" "$app" run sh -c "echo $mark >/dev/null; sleep 30" >/dev/null 2>&1 &
  register_pid $!
  started() {  # sets runtime and init once the command's sleep runs
    runtime=$(pgrep -f "^$app run sh -c echo $mark" | head -1) && [[ -n $runtime ]] &&
      init=$(pgrep -P "$runtime" | head -1) && [[ -n $init ]] &&
      pgrep -f "sleep 30" -P "$init" >/dev/null
  }
  wait_until 10000 started || fail "$mode: the container did not start"
  fds=$(for f in /proc/"$init"/fd/*; do ((${f##*/} >= 3)) && readlink "$f"; done | sed "s|^$app\$|APP|; s|^/fuse\$|/dev/fuse|" | sort | tr '\n' ' ')
  kill "$runtime"
  if [[ $mode == root ]]; then
    expect_eq "root: PID 1 holds no fd but its signalfd" "$fds" "anon_inode:[signalfd] "
  else
    expect_eq "rootless: PID 1 holds only its signalfd and the FUSE server's image and /dev/fuse" \
      "$fds" "/dev/fuse APP anon_inode:[signalfd] "
  fi
done

# The init still forwards signals to a command of another uid (it took that uid; no CAP_KILL).
for mode in root rootless; do
  if [[ $mode == root ]]; then pre=(); else pre=(as_test_user); fi
  : >"$TEST_TMP/sig.out"
  "${pre[@]}" "$app" run --user 1000 --cap-drop KILL sh -c 'trap "echo got-term; exit 7" TERM; echo ready; sleep 30 & wait' \
    >"$TEST_TMP/sig.out" 2>"$TEST_TMP/sig.err" &
  pid=$!
  register_pid "$pid"
  wait_until 10000 file_has "$TEST_TMP/sig.out" ready || fail "$mode: the command did not start: $(cat "$TEST_TMP/sig.err")"
  kill -TERM "$(pgrep -f "^$app run --user 1000 --cap-drop KILL" | head -1)"
  rc=0
  wait "$pid" || rc=$?
  expect_eq "$mode: SIGTERM reached the --user 1000 command through the init" "$rc $(cat "$TEST_TMP/sig.out" | tr '\n' ' ')" "7 ready got-term "
done
