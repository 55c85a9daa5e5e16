#!/usr/bin/env bash
# SIGINT or SIGTERM while mksquashfs runs: havre-pack exits promptly with 128+signal, leaves no
# output and no work directory, and no mksquashfs, fakeroot or faked process outlives it. Run as
# root (attributes extracted on disk, plain mksquashfs) and, when root, as an unprivileged user too
# (mksquashfs under fakeroot, with its faked daemon).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

require_binaries
require_cmd fakeroot mksquashfs taskset setpriv

cd "$TEST_TMP"
# 96 MiB of random data, compressed with xz on one CPU (taskset): many seconds of mksquashfs even
# on a fast machine, so the signal surely lands mid-build and a slow exit shows.
"$PYTHON" -I -S -c '
import io, os, tarfile
with tarfile.open("big.tar", "w", format=tarfile.GNU_FORMAT) as tar:
    d = tarfile.TarInfo("./"); d.type = tarfile.DIRTYPE; d.mode = 0o755; tar.addfile(d)
    for i in range(24):
        data = os.urandom(4 << 20)
        info = tarfile.TarInfo(f"./blob{i:02d}"); info.size = len(data); info.mode = 0o644
        tar.addfile(info, io.BytesIO(data))
'
cat >big.yaml <<'EOF'
name: big
base:
  tarball:
    path: big.tar
squashfs:
  compression: xz
  block_size: 1M
EOF
chmod 644 big.tar big.yaml

# interrupt NAME SIGNAL WANT_RC [group]: signals havre-pack (or, with "group", its whole process
# group, as Ctrl-C in a terminal does) once mksquashfs is running. $AS runs it as someone else:
# setpriv execs, so the pid we signal is havre-pack's own (runuser would fork and stand between).
interrupt() {
  local name=$1 sig=$2 want=$3 target=${4:-}
  local mark=havre-interrupt-$$-$RANDOM
  local out
  out=$(if [[ -n $AS ]]; then test_user_dir "out-$name"; else mkdir "out-$name" && echo "out-$name"; fi)
  set -m  # its own process group, so "group" can signal all of it and nothing of ours
  # shellcheck disable=SC2086 # $AS is a command prefix, empty or several words
  HAVRE_TEST_MARK=$mark taskset -c 0 $AS "$PACK" big.yaml -o "$out/app" >"$name.out" 2>"$name.err" &
  local pid=$!
  set +m
  register_pid "$pid"

  local i procs=""
  for ((i = 0; i < 600; i++)); do
    procs=$(procs_with_mark "$mark")
    [[ $procs == *"(mksquashfs)"* ]] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if [[ $procs != *"(mksquashfs)"* ]]; then
    _failed "$name: mksquashfs never started" "processes: $procs" "stderr: $(cat "$name.err")"
    return 0
  fi
  _pass "$name: mksquashfs is running under havre-pack: $procs"
  sleep 1  # well inside the build

  local start=${EPOCHREALTIME/[.,]/}
  if [[ $target == group ]]; then kill -s "$sig" -- "-$pid"; else kill -s "$sig" "$pid"; fi
  for ((i = 0; i < 150; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  local took_ms=$(((${EPOCHREALTIME/[.,]/} - start) / 1000))
  if kill -0 "$pid" 2>/dev/null; then
    _failed "$name: havre-pack exits promptly" \
      "still running ${took_ms} ms after SIG$sig; running: $(procs_with_mark "$mark")"
    # Stop this build by force (its work directory cannot clean itself up after SIGKILL) so that
    # the next case starts from nothing; the checks below would only repeat this failure.
    kill -KILL -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    kill_marked "$mark"
    rm -rf "$out"/.app.havre-*
    return 0
  fi
  local rc=0
  wait "$pid" || rc=$?
  expect_eq "$name: exit status 128+SIG$sig" "$rc" "$want"
  if ((took_ms < 3000)); then
    _pass "$name: havre-pack exits promptly (${took_ms} ms after the signal)"
  else
    _failed "$name: havre-pack exits promptly" \
      "took ${took_ms} ms after the signal (want < 3000): did it wait for mksquashfs to finish?"
  fi
  expect_contains "$name: says it was interrupted" "$(cat "$name.err")" "interrupted"
  check_no_leftovers "$out" "$out/app"
  # Give detached helpers (faked) a moment to go, then nothing started by this build may remain.
  for ((i = 0; i < 30; i++)); do
    procs=$(procs_with_mark "$mark")
    [[ -z $procs ]] && break
    sleep 0.1
  done
  expect_eq "$name: no process started by havre-pack is left (mksquashfs, fakeroot, faked)" "$procs" ""
  kill_marked "$mark"  # after a failure, so the next case starts from nothing
}

# Kills what a failed case left running: only processes carrying this case's mark.
kill_marked() {  # MARK
  local p
  for p in $(procs_with_mark "$1"); do kill -KILL "${p%%(*}" 2>/dev/null || true; done
}

AS=""
interrupt sigint INT 130
interrupt sigterm TERM 143
interrupt ctrl-c INT 130 group
if [[ $(id -u) -eq 0 ]]; then
  ensure_test_user
  AS="setpriv --reuid=$TEST_USER --regid=$TEST_USER --init-groups --"
  interrupt unprivileged-sigint INT 130
  interrupt unprivileged-sigterm TERM 143
  interrupt unprivileged-ctrl-c INT 130 group
fi
