#!/usr/bin/env bash
# kill -9 of havre-pack: every process it started dies with it (mksquashfs, faked-sysv, a run
# step's stub, init and command), its container's mounts go, and the next build into the same
# directory removes the work directory it left (its recorded owner is gone). A live build's work
# directory, and one whose pid was reused by another process, are told apart. An unprivileged
# build that fails on a 2,100-deep tree leaves nothing either.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

require_binaries
require_root "kill -9 during a run step needs a run step, and run steps need root"
require_cmd mksquashfs taskset setpriv
require_alpine_tarball
ensure_test_user
cd "$TEST_TMP"

# 48 MiB of random data, xz on one CPU: mksquashfs runs for seconds.
"$PYTHON" -I -S -c '
import io, os, tarfile
with tarfile.open("big.tar", "w", format=tarfile.GNU_FORMAT) as tar:
    d = tarfile.TarInfo("./"); d.type = tarfile.DIRTYPE; d.mode = 0o755; tar.addfile(d)
    for i in range(12):
        data = os.urandom(4 << 20)
        info = tarfile.TarInfo(f"./blob{i:02d}"); info.size = len(data); info.mode = 0o644
        tar.addfile(info, io.BytesIO(data))
'
printf 'name: big\nbase:\n  tarball:\n    path: big.tar\nsquashfs:\n  compression: xz\n  block_size: 1M\n' >big.yaml
printf 'name: small\nbase:\n  tarball:\n    path: %s\n' "$ALPINE_TARBALL" >small.yaml
chmod 644 big.tar big.yaml small.yaml

# kill9 NAME RECIPE WAIT_FOR [AS...]: starts havre-pack, waits until WAIT_FOR ("(mksquashfs)" among
# its processes, or a text on its stderr), kills it with SIGKILL, then checks what is left.
kill9() {
  local name=$1 recipe=$2 wait_for=$3
  shift 3
  local mark=havre-kill9-$$-$RANDOM out
  if (($#)); then out=$(test_user_dir "out-$name"); else mkdir "out-$name" && out=out-$name; fi
  sed "s/@MARK@/$mark/" "$recipe" >"$name.yaml"
  chmod 644 "$name.yaml"
  HAVRE_TEST_MARK=$mark taskset -c 0 "$@" "$PACK" "$name.yaml" -o "$out/app" --no-image-cache \
    >"$name.out" 2>"$name.err" &
  local pid=$! i procs
  register_pid "$pid"
  for ((i = 0; i < 600; i++)); do
    procs=$(procs_with_mark "$mark")
    if [[ $wait_for == "("* ]]; then [[ $procs == *"$wait_for"* ]] && break; else grep -q "$wait_for" "$name.err" && break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if ! kill -0 "$pid" 2>/dev/null; then
    _failed "$name: the build was still running when killed" "stderr: $(cat "$name.err")"
    return 0
  fi
  _pass "$name: killing havre-pack while running: $(procs_with_mark "$mark")"
  kill -KILL "$pid"
  wait "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    procs=$(procs_with_mark "$mark")
    [[ -z $procs ]] && break
    sleep 0.1
  done
  expect_eq "$name: no process havre-pack started outlives it" "$procs" ""
  local p
  for p in $procs; do kill -KILL "${p%%(*}" 2>/dev/null || true; done
  expect_eq "$name: no mount of the build is left" "$(grep -c "$TEST_TMP/$out/" /proc/self/mountinfo || true)" "0"
  local left
  left=$(find "$out" -mindepth 1 -maxdepth 1 -name '.app.havre-*' | wc -l)
  expect_eq "$name: kill -9 left its work directory (nothing could remove it)" "$left" "1"
  # The next build into the same directory removes it.
  run "$@" "$PACK" small.yaml -o "$out/next"
  expect_rc "$name: the next build succeeds" 0
  expect_contains "$name: the next build says what it removed" "$ERR" "left by a build that did not finish"
  check_no_leftovers "$out"
}

kill9 mksquashfs-root big.yaml "(mksquashfs)"
kill9 mksquashfs-unprivileged big.yaml "(mksquashfs)" setpriv --reuid="$TEST_USER" --regid="$TEST_USER" --init-groups --
cat >step.yaml <<EOF
name: step
base:
  tarball:
    path: $ALPINE_TARBALL
env:
  HAVRE_TEST_MARK: "@MARK@"
run:
  - echo STEP-STARTED; sleep 60
EOF
kill9 run-step step.yaml STEP-STARTED

# A live build's work directory stays; so does one with no owner record (not ours to judge). One
# whose pid is now another process (same pid, other start time) is removed.
mkdir out-owners
sleep 300 &
sleeper=$!
register_pid "$sleeper"
start_time=$(awk '{sub(/.*\) /, ""); print $20}' "/proc/$sleeper/stat")
boot=$(cat /proc/sys/kernel/random/boot_id)
mkdir out-owners/.a.havre-AAAAAA out-owners/.b.havre-BBBBBB out-owners/.c.havre-CCCCCC
echo "$sleeper $start_time $boot" >out-owners/.a.havre-AAAAAA/owner
echo "$sleeper $((start_time + 1)) $boot" >out-owners/.c.havre-CCCCCC/owner
run "$PACK" small.yaml -o out-owners/app
expect_rc "owners: the build succeeds" 0
expect_true "owners: a live owner's work directory is kept" test -d out-owners/.a.havre-AAAAAA
expect_true "owners: a work directory without a record is kept" test -d out-owners/.b.havre-BBBBBB
expect_false "owners: a reused pid's (other start time) is removed" test -e out-owners/.c.havre-CCCCCC
kill "$sleeper"

# An unprivileged build that fails on a tree deeper than PATH_MAX leaves no work directory.
"$PYTHON" -I -S -c '
import tarfile
with tarfile.open("deep.tar", "w", format=tarfile.PAX_FORMAT) as t:
    p = "."
    for i in range(2100):
        p += "/d"
        ti = tarfile.TarInfo(p); ti.type = tarfile.DIRTYPE; ti.mode = 0o555; t.addfile(ti)
'
printf 'name: deep\nbase:\n  tarball:\n    path: deep.tar\n' >deep.yaml
chmod 644 deep.tar deep.yaml
out=$(test_user_dir out-deep)
run as_test_user "$PACK" deep.yaml -o "$out/app"
expect_failed "deep: an unprivileged build of a 2,100-deep tree fails"
check_no_leftovers "$out" "$out/app"
