#!/usr/bin/env bash
# The root filesystem: a writable overlay whose changes vanish with the run, --read-only (EROFS),
# --persist DIR (changes kept in DIR/upper across runs), and the image underneath is never
# writable: a read-only SquashFS on a read-only loop device, the appliance unchanged.
# shellcheck disable=SC2016 # the single-quoted scripts are expanded by the container's shell
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

require_run_env
require_cmd sha256sum
cd "$TEST_TMP"
pack_alpine app 'hostname: overlay'
APP=$TEST_TMP/app
app_sha=$(sha256_of "$APP")
motd=$(tar -xzOf "$ALPINE_TARBALL" ./etc/motd)

# --- the default: a throw-away writable layer --------------------------------------------------------
run "$APP" run sh -c '
  echo root-file >/new-root-file && echo etc-file >/etc/new-etc-file &&
  echo appended >>/etc/motd && rm /etc/issue && mkdir -p /opt/new/dir &&
  cat /new-root-file /etc/new-etc-file && tail -n 1 /etc/motd && echo all-written; ls /etc/issue 2>&1; true'
expect_contains "writes to / and /etc succeed (create, append, delete, mkdir)" "$OUT" all-written
expect_eq "... and read back" "$(sed -n 1,3p <<<"$OUT")" "root-file
etc-file
appended"
expect_contains "... /etc/issue is deleted in this run" "$OUT" "No such file"
run "$APP" run sh -c 'ls /new-root-file /etc/new-etc-file /opt/new 2>&1; cat /etc/motd; cat /etc/issue >/dev/null && echo issue-back'
expect_contains "the next run: /new-root-file is gone" "$OUT" "/new-root-file: No such file"
expect_contains "the next run: /etc/new-etc-file is gone" "$OUT" "/etc/new-etc-file: No such file"
expect_contains "the next run: /opt/new is gone" "$OUT" "/opt/new: No such file"
expect_eq "the next run: /etc/motd is the image's again" "$(sed -n '4,$p' <<<"$OUT" | sed '$d')" "$motd"
expect_contains "the next run: /etc/issue is back" "$OUT" issue-back
run "$APP" run sh -c 'grep " / / " /proc/self/mountinfo'
expect_true "/ is an overlay" grep -q ' - overlay overlay rw,' <<<"$OUT"
expect_contains "... with the image as its only lower layer" "$OUT" "lowerdir="
expect_not_contains "... and a writable layer that is not on the host (no host path in it)" "$OUT" "$TEST_TMP"

# --- --read-only ---------------------------------------------------------------------------------------
for target in /new-file /etc/new-file /etc/motd /root/x; do
  run "$APP" run --read-only sh -c "echo x >>$target"
  expect_failed "--read-only: writing $target fails"
  expect_contains "--read-only: ... with EROFS" "$ERR" "Read-only file system"
done
run "$APP" run --read-only rm /etc/issue
expect_contains "--read-only: rm /etc/issue fails with EROFS" "$ERR" "Read-only file system"
run "$APP" run --read-only sh -c 'echo ok >/tmp/t && cat /tmp/t && echo ok >/dev/shm/s && echo ok >/dev/null'
expect_eq "--read-only: /tmp, /dev/shm and /dev/null stay writable" "$OUT" ok
run "$APP" run --read-only sh -c 'grep " / / " /proc/self/mountinfo'
expect_true "--read-only: / is the SquashFS image itself, mounted ro" \
  grep -qE ' / / ro,.* - squashfs /dev/loop[0-9]+ ro' <<<"$OUT"
run "$APP" run --read-only -w /var pwd
expect_eq "--read-only: -w an existing directory works" "$OUT" /var

# --- --persist DIR ---------------------------------------------------------------------------------------
P=$TEST_TMP/persist
run "$APP" run --persist "$P" sh -c 'echo kept-$((6*7)) >/kept-file && echo more >>/etc/motd && rm /etc/issue'
expect_rc "--persist: the first run writes" 0
expect_eq "--persist: DIR/upper holds the new file" "$(cat "$P/upper/kept-file" 2>&1)" kept-42
expect_true "--persist: DIR/upper/etc/motd holds the changed copy" grep -qx more "$P/upper/etc/motd"
expect_true "--persist: DIR/upper/etc/issue is a whiteout (char device 0,0)" \
  test "$(stat -c '%F %t,%T' "$P/upper/etc/issue" 2>&1)" = "character special file 0,0"
run "$APP" run --persist "$P" sh -c 'cat /kept-file; tail -n 1 /etc/motd; ls /etc/issue 2>&1'
expect_eq "--persist: the second run sees all three changes" "$OUT" "kept-42
more
ls: /etc/issue: No such file or directory"
run "$APP" run cat /kept-file
expect_contains "a run without --persist does not see them" "$ERR" "No such file"
mkdir rel
run bash -c "cd rel && '$APP' run --persist pdir sh -c 'echo rel >/rel-file'"
expect_eq "--persist with a relative DIR is taken from the current directory" "$(cat rel/pdir/upper/rel-file 2>&1)" rel

# --- the image underneath is never writable ---------------------------------------------------------------------
start_bg "$TEST_TMP/long" "$APP" run sh -c 'echo ready; exec sleep 100'
if wait_until 5000 file_has "$TEST_TMP/long.out" ready; then
  loops=$(loops_of "$APP")
  expect_eq "a running container uses one loop device on the appliance" "$(wc -w <<<"$loops")" 1
  loop=${loops%% *}
  expect_eq "... which is read-only (/sys/block/${loop#/dev/}/ro)" "$(cat "/sys/block/${loop#/dev/}/ro" 2>&1)" 1
  expect_eq "... and auto-clearing" "$(cat "/sys/block/${loop#/dev/}/loop/autoclear" 2>&1)" 1
  expect_eq "... mapping the image at the manifest's offset" "$(cat "/sys/block/${loop#/dev/}/loop/offset" 2>&1)" \
    "$(json_get <("$APP" info --json) image_offset)"
  expect_false "... and the host cannot write it either" \
    dd if=/dev/zero of="$loop" bs=512 count=1 conv=notrunc status=none 2>/dev/null
else
  _failed "a long-running container started" "$(cat "$TEST_TMP/long.err")"
fi
kill "$BG_PID" 2>/dev/null || true
wait_bg "$BG_PID" 5000
expect_eq "the appliance is unchanged by all of the above (sha256)" "$(sha256_of "$APP")" "$app_sha"
