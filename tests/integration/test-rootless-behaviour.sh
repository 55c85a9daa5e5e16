#!/usr/bin/env bash
# The root runtime's behaviour suite, as an unprivileged user (the rootless path: user namespace +
# FUSE): signals reach traps, zombies are reaped, /dev holds the baseline set, /sys is read-only, only
# fds 0-2 reach the command, the environment is clean, --read-only, --net none, volumes, options, and
# an interactive shell on a pty with job control.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

require_run_env
ensure_test_user
as_test_user test -r /dev/fuse -a -w /dev/fuse || skip "/dev/fuse is not usable by $TEST_USER (scripts/setup makes it 0666)"

pack_alpine app 'env: {FROM_RECIPE: yes}'
chmod 755 "$TEST_TMP/app"
app=$TEST_TMP/app
urun() { run as_test_user "$app" "$@"; }

# --- signals: each forwarded signal reaches a trap in the command, which exits 9 after TERM ---
cat >"$TEST_TMP/trap.sh" <<'SH'
for s in INT HUP QUIT USR1 USR2 WINCH; do trap "echo got-$s" $s; done
trap 'echo got-TERM; exit 9' TERM
echo ready
while :; do sleep 0.05; done
SH
chmod 644 "$TEST_TMP/trap.sh"
start_bg "$TEST_TMP/sig" as_test_user "$app" run -v "$TEST_TMP/trap.sh:/trap.sh:ro" sh /trap.sh
wait_until 5000 file_has "$TEST_TMP/sig.out" ready || fail "the trap script did not start: $(cat "$TEST_TMP/sig.err")"
appliance=$(pgrep -f -o -- "^$app run -v") || fail "no appliance process"
for s in INT HUP QUIT USR1 USR2 WINCH; do
  kill -"$s" "$appliance"
  expect_true "SIG$s reaches the command's trap" wait_until 2000 file_has "$TEST_TMP/sig.out" "got-$s"
done
kill -TERM "$appliance"
wait_bg "$BG_PID" 3000
expect_eq "the TERM trap's exit status comes back" "$BG_RC" "9"

# --- zombies are reaped; the command is not PID 1 ---
urun run sh -c '(sleep 0.1 &) ; sleep 0.5; ps -o stat | grep -c "^Z" || true'
expect_eq "orphans that exit are reaped (no Z in ps)" "$OUT" "0"

# --- /dev, /sys, fds, environment ---
urun run ls /dev
expect_eq "/dev holds exactly the baseline set" "$(tr '\n' ' ' <<<"$OUT")" \
  "fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero "
urun run sh -c 'echo x > /dev/null && echo ok'
expect_eq "/dev/null is writable" "$OUT" "ok"
urun run sh -c 'touch /sys/x 2>&1'
expect_contains "/sys is read-only" "$OUT" "Read-only file system"
urun run sh -c 'ls /proc/$$/fd; true'  # `; true`: sh must not exec ls, whose own dir fd would show
expect_eq "only fds 0, 1, 2 reach the command" "$(tr '\n' ' ' <<<"$OUT")" "0 1 2 "
FOO_FROM_HOST=leak urun run env
expect_not_contains "host variables do not leak" "$OUT" "FOO_FROM_HOST"
expect_contains "the recipe's env is set" "$OUT" "FROM_RECIPE=yes"
expect_contains "PATH is set" "$OUT" "PATH=/usr/local/sbin"

# --- --read-only, --net none, options ---
urun run --read-only sh -c 'touch /etc/x 2>&1; touch /tmp/y && echo tmp-ok'
expect_contains "--read-only: the image cannot be written" "$OUT" "Read-only file system"
expect_contains "--read-only: /tmp stays writable" "$OUT" "tmp-ok"
urun run --net none cat /proc/net/dev
expect_eq "--net none: only lo" "$(tail -n +3 <<<"$OUT" | awk -F: '{gsub(/ /, "", $1); print $1}')" "lo"
vol=$(test_user_dir vol)
urun run -v "$vol:/mnt/vol" -e A=1 -w /mnt/vol sh -c 'echo from-inside > f; echo "$A $(pwd)"'
expect_eq "-e and -w apply" "$OUT" "1 /mnt/vol"
expect_eq "a rw volume reaches the host" "$(cat "$vol/f" 2>/dev/null)" "from-inside"
urun run -v "$vol:/mnt/vol:ro" sh -c 'touch /mnt/vol/g 2>&1'
expect_contains "a ro volume is read-only" "$OUT" "Read-only file system"

# --- an interactive shell on a pty: tty names the container's pts, Ctrl-C stops the job ---
cat >"$TEST_TMP/drive_tty.py" <<'PY'
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
def read(t):
    out, end = b"", time.time() + t
    while time.time() < end:
        if select.select([fd], [], [], 0.1)[0]:
            try:
                out += os.read(fd, 4096)
            except OSError:
                break
    return out.decode(errors="replace")
read(1.5)
os.write(fd, b"tty; sleep 100\n"); time.sleep(0.7)
os.write(fd, b"\x03"); time.sleep(0.3)
os.write(fd, b"echo alive-$((40+2))\n")
out = read(1.5)
os.write(fd, b"exit 7\n"); read(0.5)
_, status = os.waitpid(pid, 0)
print(out.replace("\r", ""))
print("status", os.waitstatus_to_exitcode(status))
PY
# The driver is not named pty.py: it would import itself as `pty`. Debian's python3: the test user
# cannot reach a python installed under root's home.
[[ -x /usr/bin/python3 ]] || skip "/usr/bin/python3 is missing (scripts/setup installs it)"
run as_test_user /usr/bin/python3 "$TEST_TMP/drive_tty.py" "$app" run /bin/sh -l
[[ -z $ERR ]] || say "pty driver stderr: $ERR"
expect_contains "on a terminal, tty names the container's pty" "$OUT" "/dev/pts/0"
expect_contains "Ctrl-C stops the foreground job, not the shell" "$OUT" "alive-42"
expect_contains "the shell's exit status comes back" "$OUT" "status 7"
