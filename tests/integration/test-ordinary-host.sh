#!/usr/bin/env bash
# An ordinary host, emulated: the build machine mounts /proc, /sys and /dev without nosuid, nodev or
# noexec, but a stock Debian 12 boot (systemd's mount table, initramfs-tools' /run, systemd's
# tmp.mount) has
#   /proc, /sys           nosuid,nodev,noexec        /dev       nosuid (devtmpfs)
#   /dev/pts              nosuid,noexec              /dev/shm   nosuid,nodev
#   /run                  nosuid,nodev,noexec        /tmp       nosuid,nodev
# In a user namespace the kernel locks those flags on every copied mount: a remount that drops one
# fails with EPERM, which made every rootless run fail here. This test re-runs itself in a private
# mount namespace with those flags (the host's own mounts are never touched) and runs appliances
# there, root and rootless, with volumes from a noexec and a nosuid source, ro and rw.
if [[ -z ${HAVRE_ORDINARY_HOST:-} ]]; then
  [[ $(id -u) -eq 0 ]] || { echo "test-ordinary-host: SKIP needs root to emulate the host's mounts"; exit 77; }
  exec unshare -m --propagation private env HAVRE_ORDINARY_HOST=1 bash "$0" "$@"
fi
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

require_run_env
ensure_test_user
[[ -c /dev/fuse ]] && as_test_user test -r /dev/fuse -a -w /dev/fuse ||
  skip "/dev/fuse is not usable by $TEST_USER (scripts/setup makes it 0666)"

# The mount at PATH carries FLAGS (a comma list); binds a directory onto itself first if it is not a
# mount of its own. Only this test's private mount namespace sees the change.
with_flags() {  # PATH FLAGS
  mountpoint -q "$1" || mount --bind "$1" "$1"
  mount -o "remount,bind,$2" "$1" || fail "cannot remount $1 with $2"
}
pack_alpine app 'hostname: ordinary'  # packed before /tmp turns nosuid,nodev (havre-pack may need neither)
app=$TEST_TMP/app
chmod 755 "$app"
with_flags /proc nosuid,nodev,noexec
with_flags /sys nosuid,nodev,noexec
with_flags /dev nosuid
with_flags /dev/pts nosuid,noexec
with_flags /dev/shm nosuid,nodev
with_flags /run nosuid,nodev,noexec
with_flags /tmp nosuid,nodev
for m in /proc /sys /run; do
  expect_contains "emulated: $m is nosuid,nodev,noexec" "$(findmnt -n -o OPTIONS --mountpoint $m)" "nosuid,nodev,noexec"
done

# Volume sources: a noexec and a nosuid filesystem, as /home or /media often are.
noexec_src=$(test_user_dir noexec-src)
nosuid_src=$(test_user_dir nosuid-src)
echo from-host >"$noexec_src/in.txt"
echo from-host >"$nosuid_src/in.txt"
chmod 666 "$noexec_src/in.txt" "$nosuid_src/in.txt"
with_flags "$noexec_src" noexec
with_flags "$nosuid_src" nosuid
# Unmounted before lib.sh removes the test's directory (keeping the exit status for it).
unmount_sources() {
  local rc=$?
  umount -l "$noexec_src" "$nosuid_src" 2>/dev/null || true
  return "$rc"
}
trap 'unmount_sources; _lib_exit' EXIT

for who in root user; do
  as=()
  [[ $who == user ]] && as=(as_test_user)
  run "${as[@]}" "$app" run /bin/echo hi
  expect_eq "$who: ./app run /bin/echo hi prints hi" "$OUT" "hi"
  expect_rc "$who: and exits 0" 0
  [[ $RC == 0 ]] || say "stderr: $ERR"
  run "${as[@]}" "$app" run sh -c 'exit 42'
  expect_rc "$who: the command's exit status" 42
  run "${as[@]}" "$app" run --read-only sh -c 'cat /proc/1/comm >/dev/null && ls /sys/kernel >/dev/null && echo ok'
  expect_eq "$who: --read-only runs, /proc and /sys are there" "$OUT" "ok"
  persist=$(test_user_dir "persist-$who")
  run "${as[@]}" "$app" run --persist "$persist" sh -c 'echo kept >/kept'
  run "${as[@]}" "$app" run --persist "$persist" cat /kept
  expect_eq "$who: --persist keeps a file across runs" "$OUT" "kept"
  for src in "$noexec_src" "$nosuid_src"; do
    kind=${src##*/}
    run "${as[@]}" "$app" run -v "$src:/data:ro" sh -c 'cat /data/in.txt; grep " /data " /proc/self/mountinfo'
    expect_contains "$who: -v $kind:ro reads the host file" "$OUT" "from-host"
    expect_contains "$who: -v $kind:ro is read-only inside" "$(grep ' /data ' <<<"$OUT")" " ro,"
    [[ $kind == noexec-src ]] && expect_contains "$who: -v $kind:ro stays noexec" "$(grep ' /data ' <<<"$OUT")" "noexec"
    [[ $kind == nosuid-src ]] && expect_contains "$who: -v $kind:ro stays nosuid" "$(grep ' /data ' <<<"$OUT")" "nosuid"
    [[ $RC == 0 ]] || say "stderr: $ERR"
    run "${as[@]}" "$app" run -v "$src:/data" sh -c "echo $who >/data/out-$who.txt"
    expect_rc "$who: -v $kind (rw) runs" 0
    expect_eq "$who: -v $kind (rw) writes through to the host" "$(cat "$src/out-$who.txt" 2>/dev/null)" "$who"
  done
done
