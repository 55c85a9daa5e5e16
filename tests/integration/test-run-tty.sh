#!/usr/bin/env bash
# On a terminal: an interactive login shell in the container gets the terminal (isatty, ttyname,
# window size and resizes), Ctrl-C interrupts its foreground job and not the container, and the
# shell's exit status comes back; Ctrl-C on a plain command ends the run with 130. Without a
# terminal, the command's stdin is not a tty.
# shellcheck disable=SC2016 # the single-quoted scripts are expanded by the container's shell
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

require_run_env
cd "$TEST_TMP"
pack_alpine app 'hostname: tty'
APP=$TEST_TMP/app

# Drives APP on a pseudo-terminal; prints "key=value" lines for the checks below.
cat >"$TEST_TMP/drive.py" <<'EOF'
import fcntl, os, pty, select, struct, sys, termios, time

app, mode = sys.argv[1], sys.argv[2]
nap = str(9000 + os.getpid() % 1000)  # a sleep length to find the sleep by, from the host
argv = [app, "run", "/bin/sh", "-l"] if mode == "shell" else [app, "run", "sleep", nap]
pid, fd = pty.fork()
if pid == 0:
    os.execv(app, argv)

def resize(rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

buf = b""
def read_until(needle, timeout=10.0):
    """Reads until NEEDLE (bytes) shows up in the output; False on timeout or end of output."""
    global buf
    end = time.monotonic() + timeout
    while needle not in buf:
        left = end - time.monotonic()
        if left <= 0:
            return False
        if select.select([fd], [], [], left)[0]:
            try:
                data = os.read(fd, 4096)
            except OSError:  # EIO: the other side is closed
                return needle in buf
            if not data:
                return needle in buf
            buf += data
    return True

def report(key, value):
    print(f"{key}={value}", flush=True)

def sleep_running():
    want = f"sleep\0{nap}\0".encode()
    for p in filter(str.isdigit, os.listdir("/proc")):
        try:
            if open(f"/proc/{p}/cmdline", "rb").read() == want:
                return True
        except OSError:
            pass
    return False

def wait_for(cond, want, timeout=5.0):
    end = time.monotonic() + timeout
    while cond() != want:
        if time.monotonic() > end:
            return False
        read_until(b"\0", 0.02)  # keep draining the output meanwhile
    return True

def wait_exit(timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        read_until(b"\0", 0.1)  # keep draining so the child never blocks on a full pty
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
    os.kill(pid, 9)
    return "timeout"

resize(30, 100)
if mode == "shell":
    os.write(fd, b"echo ready-$((1+1))\n")
    report("ready", read_until(b"ready-2"))
    os.write(fd, b"echo size=$(stty size)\n")
    report("size", read_until(b"size=30 100"))
    resize(40, 120)
    time.sleep(0.2)
    os.write(fd, b"echo resized=$(stty size)\n")
    report("resized", read_until(b"resized=40 120"))
    os.write(fd, b"test -t 0 && test -t 1 && echo isatty-$((2+3))\n")
    report("isatty", read_until(b"isatty-5"))
    os.write(fd, b"echo ttyname=$(tty)-$((3+4))x\n")
    read_until(b"-7x", 5)  # only the answer has it: the echoed input says $((3+4))
    line = [l for l in buf.decode(errors="replace").splitlines() if l.startswith("ttyname=")]
    report("ttyname", line[-1][len("ttyname="):-len("-7x")] if line else "no answer")
    os.write(fd, f"sleep {nap}\n".encode())
    report("sleeping", wait_for(sleep_running, True))
    start = time.monotonic()
    os.write(fd, b"\x03")
    report("sleep_gone", wait_for(sleep_running, False))
    os.write(fd, b"echo alive-$((40+2))\n")
    report("alive", read_until(b"alive-42", 5))
    report("alive_ms", int((time.monotonic() - start) * 1000))
    os.write(fd, b"exit 7\n")
    report("status", wait_exit())
else:
    report("sleeping", wait_for(sleep_running, True))
    start = time.monotonic()
    os.write(fd, b"\x03")
    report("status", wait_exit(5))
    report("ms", int((time.monotonic() - start) * 1000))
with open(sys.argv[3], "wb") as f:
    f.write(buf)
EOF

# value KEY: the driver's answer for KEY.
value() { sed -n "s/^$1=//p" <<<"$OUT" | tail -n 1; }

run "$PYTHON" -I -S "$TEST_TMP/drive.py" "$APP" shell "$TEST_TMP/shell.log"
expect_eq "the pty driver ran" "$RC" 0
[[ $RC == 0 ]] || say "driver stderr: $ERR"
expect_eq "an interactive login shell answers on the terminal" "$(value ready)" True
expect_eq "it sees the terminal's size (stty size: 30 100)" "$(value size)" True
expect_eq "a resize reaches it (stty size: 40 120)" "$(value resized)" True
expect_eq "stdin and stdout are a tty" "$(value isatty)" True
expect_true "tty names the terminal, /dev/pts/N (got '$(value ttyname)')" \
  grep -Eq '^/dev/pts/[0-9]+$' <<<"$(value ttyname)"
expect_eq "the shell starts a sleep" "$(value sleeping)" True
expect_eq "Ctrl-C interrupts the sleep" "$(value sleep_gone)" True
expect_eq "... and the shell lives on (echo alive-42)" "$(value alive)" True
expect_eq "the shell's 'exit 7' is ./app's exit status" "$(value status)" 7
if [[ $(value status) != 7 || $(value alive) != True ]]; then
  say "terminal transcript:"
  tr -d '\r' <"$TEST_TMP/shell.log" | sed 's/^/      /' || true
fi

run "$PYTHON" -I -S "$TEST_TMP/drive.py" "$APP" plain "$TEST_TMP/plain.log"
expect_eq "./app run sleep N on a terminal starts the sleep" "$(value sleeping)" True
expect_eq "Ctrl-C on a terminal ends './app run sleep N' with 130" "$(value status)" 130
expect_true "... within 2 s ($(value ms) ms)" test "$(value ms)" -lt 2000

run "$APP" run sh -c 'test -t 0 && echo tty || echo notty' </dev/null
expect_eq "without a terminal, stdin is not a tty" "$OUT" notty
run "$APP" run sh -c 'test -t 1 && echo tty || echo notty'
expect_eq "with stdout to a file, stdout is not a tty" "$OUT" notty
run bash -c "echo piped | '$APP' run cat"
expect_eq "piped stdin reaches the command" "$OUT" piped
