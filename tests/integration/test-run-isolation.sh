#!/usr/bin/env bash
# What the command sees of the host: its own PID/mount/UTS/IPC (and with --net none network)
# namespaces, a fresh /proc, a minimal /dev, a read-only /sys, only fds 0-2, a clean environment,
# none of the host's mounts; and it cannot write the appliance (CVE-2019-5736) or reach host files
# through file descriptors the runtime inherited.
# shellcheck disable=SC2016 # the single-quoted scripts are expanded by the container's shell
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

require_run_env
require_cmd sha256sum
cd "$TEST_TMP"
pack_alpine app 'hostname: iso-host' 'env:' '  RECIPE_VAR: from-recipe'
APP=$TEST_TMP/app
app_sha=$(sha256_of "$APP")
host_hostname=$(cat /proc/sys/kernel/hostname)
host_mounts_before=$(suspect_host_mounts)

# --- processes and /proc -------------------------------------------------------------------------
run "$APP" run sh -c 'ps -o pid,comm; true'
expect_rc "ps runs" 0
expect_eq "ps lists only the container's processes: init, sh, ps" \
  "$(awk 'NR > 1 { printf "%s:%s ", $1, $2 }' <<<"$OUT")" "1:app 2:sh 3:ps "
run "$APP" run sh -c 'ls /proc | grep -c "^[0-9]"; true'
expect_true "/proc is a new instance: at most 5 PIDs in it (got $OUT)" test "${OUT:-99}" -le 5
host_pids=(/proc/[0-9]*)
expect_true "... while the host's /proc has more" test "${#host_pids[@]}" -gt 5

# --- namespaces ------------------------------------------------------------------------------------
run "$APP" run sh -c 'for ns in mnt pid uts ipc net; do echo "$ns $(readlink /proc/self/ns/$ns)"; done'
for ns in mnt pid uts ipc; do
  expect_ne "a new $ns namespace" "$(awk -v n="$ns" '$1 == n { print $2 }' <<<"$OUT")" "$(readlink "/proc/self/ns/$ns")"
done
expect_eq "--net host (the default) keeps the host's network namespace" \
  "$(awk '$1 == "net" { print $2 }' <<<"$OUT")" "$(readlink /proc/self/ns/net)"

# --- hostname --------------------------------------------------------------------------------------
run "$APP" run hostname
expect_eq "the hostname defaults to the recipe's" "$OUT" iso-host
run "$APP" run --hostname foo-bar sh -c 'hostname; cat /proc/sys/kernel/hostname'
expect_eq "--hostname foo-bar (hostname and /proc/sys/kernel/hostname)" "$(tr '\n' ' ' <<<"$OUT")" "foo-bar foo-bar "
expect_eq "the host's hostname is unchanged" "$(cat /proc/sys/kernel/hostname)" "$host_hostname"

# --- /dev ------------------------------------------------------------------------------------------
run "$APP" run ls /dev
expect_eq "/dev holds exactly the baseline set" "$(tr '\n' ' ' <<<"$OUT")" \
  "fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero "
run "$APP" run sh -c 'for n in null zero full random urandom tty; do echo "$n $(stat -c "%F %t,%T %a" /dev/$n)"; done'
expect_eq "device nodes: char devices with the right numbers, mode 666" "$OUT" \
"null character special file 1,3 666
zero character special file 1,5 666
full character special file 1,7 666
random character special file 1,8 666
urandom character special file 1,9 666
tty character special file 5,0 666"
run "$APP" run sh -c 'for l in ptmx fd stdin stdout stderr; do echo "$l -> $(readlink /dev/$l)"; done'
expect_eq "/dev symlinks" "$OUT" "ptmx -> pts/ptmx
fd -> /proc/self/fd
stdin -> /proc/self/fd/0
stdout -> /proc/self/fd/1
stderr -> /proc/self/fd/2"
run "$APP" run --user 1000:1000 sh -c 'echo data >/dev/null && echo null-ok; head -c 4 /dev/zero | od -An -tx1; head -c 16 /dev/urandom | wc -c'
expect_eq "/dev/null is writable and /dev/zero, /dev/urandom readable (as uid 1000)" "$(tr -s ' \n' ' ' <<<"$OUT")" \
  "null-ok 00 00 00 00 16 "
run "$APP" run sh -c 'echo x >/dev/full'
expect_failed "writing /dev/full fails"
expect_contains "... with ENOSPC" "$ERR" "No space left on device"
run "$APP" run sh -c 'ls /dev/pts; exec 3<>/dev/ptmx; ls /dev/pts'
expect_eq "/dev/pts is a new devpts: no host pty in it; opening /dev/ptmx creates pts/0" \
  "$(tr '\n' ' ' <<<"$OUT")" "ptmx 0 ptmx "

# --- /sys is read-only ---------------------------------------------------------------------------------
run "$APP" run touch /sys/x
expect_failed "touch /sys/x fails"
expect_contains "... with EROFS" "$ERR" "Read-only file system"
run "$APP" run sh -c 'echo 1 >/sys/kernel/uevent_helper'
expect_failed "writing /sys/kernel/uevent_helper fails"

# --- file descriptors ------------------------------------------------------------------------------------
mkdir "$TEST_TMP/host-dir"
echo host-secret >"$TEST_TMP/host-dir/secret-on-host"
run "$APP" run sh -c 'ls /proc/$$/fd; true' 7<"$TEST_TMP/host-dir/secret-on-host" 9<"$TEST_TMP/host-dir"
expect_eq "only fds 0 1 2 are open in the command (fds 7 and 9 open in ./app's caller)" \
  "$(tr '\n' ' ' <<<"$OUT")" "0 1 2 "
# The init (PID 1) is in the container too, and root there can open its fds through /proc: a host
# directory fd the runtime inherited would hand out the host's filesystem (CVE-2024-21626).
# (Only links into host-dir are opened: the init may hold other inherited fds, pipes among them.)
run "$APP" run sh -c 'for f in /proc/1/fd/*; do echo "$f -> $(readlink "$f")"; done
  for f in /proc/1/fd/*; do
    case $(readlink "$f") in
      */host-dir) cat "$f/secret-on-host" ;;
      */host-dir/secret-on-host) cat "$f" ;;
    esac
  done 2>/dev/null; true' \
  7<"$TEST_TMP/host-dir/secret-on-host" 9<"$TEST_TMP/host-dir"
expect_not_contains "an fd inherited by ./app is not reachable through /proc/1/fd (no host-dir in the init's fds)" \
  "$OUT" "host-dir"
expect_not_contains "... and the host file behind it cannot be read from the container" "$OUT" "host-secret"

# --- environment -----------------------------------------------------------------------------------------
export FOO_FROM_HOST=leak-$$
run env TERM=xterm-test "$APP" run -e A=1 -e B='two words' env
expect_eq "the environment: HOME PATH TERM, the recipe's env and -e, nothing from the host" \
  "$(cut -d= -f1 <<<"$OUT" | sort | tr '\n' ' ')" "A B HOME PATH RECIPE_VAR TERM "
expect_not_contains "FOO_FROM_HOST does not leak" "$OUT" FOO_FROM_HOST
expect_contains "TERM is the host's" "$OUT" "TERM=xterm-test"
expect_contains "HOME=/root" "$OUT" "HOME=/root"
expect_contains "a default PATH" "$OUT" "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
expect_contains "-e B='two words'" "$OUT" "B=two words"
expect_contains "the recipe's env" "$OUT" "RECIPE_VAR=from-recipe"
run env -u TERM "$APP" run env
expect_not_contains "no TERM when the host has none" "$OUT" "TERM="
unset FOO_FROM_HOST

# --- mounts ----------------------------------------------------------------------------------------------
run "$APP" run cat /proc/self/mountinfo
want="/ /dev /dev/mqueue /dev/pts /dev/shm"
# The baseline device nodes are binds of the host's (the /dev tmpfs is nodev: test-run-devices).
want+=" /dev/full /dev/null /dev/random /dev/tty /dev/urandom /dev/zero"
[[ -e /etc/hosts ]] && want+=" /etc/hosts"
want+=" /proc"
[[ -e /etc/resolv.conf ]] && want+=" /etc/resolv.conf"
want+=" /sys /tmp"
# Masked and read-only kernel paths (runc's and Docker's lists), where this kernel has them.
for p in /proc/acpi /proc/asound /proc/bus /proc/fs /proc/irq /proc/kcore /proc/keys /proc/latency_stats \
  /proc/sched_debug /proc/scsi /proc/sys /proc/sysrq-trigger /proc/timer_list /proc/timer_stats \
  /sys/devices/virtual/powercap /sys/firmware; do
  [[ -e $p ]] && want+=" $p"
done
expect_eq "the container's mount points are havre's own, none of the host's" \
  "$(awk '{ print $5 }' <<<"$OUT" | LC_ALL=C sort | tr '\n' ' ')" "$(tr ' ' '\n' <<<"$want" | LC_ALL=C sort | tr '\n' ' ')"
expect_not_contains "no mount mentions the test's directory" "$OUT" "$TEST_TMP"
expect_true "/ is an overlay" grep -qE '^[0-9]+ [0-9]+ [0-9:]+ / / .* - overlay ' <<<"$OUT"
expect_true "/sys is mounted read-only" grep -qE ' /sys ro,' <<<"$OUT"
expect_eq "nothing was mounted on the host (no SquashFS, overlay, staging tmpfs or loop mount)" \
  "$(new_suspect_host_mounts "$host_mounts_before")" ""

# --- network -------------------------------------------------------------------------------------------------
host_ifaces=$(awk -F: 'NR > 2 { gsub(/ /, "", $1); print $1 }' /proc/net/dev | LC_ALL=C sort | tr '\n' ' ')
run "$APP" run --net none sh -c 'cat /proc/net/dev; ping -c 1 -W 2 127.0.0.1 >/dev/null && echo lo-up'
expect_eq "--net none: only lo" \
  "$(awk -F: 'NR > 2 && /:/ { gsub(/ /, "", $1); print $1 }' <<<"$OUT" | tr '\n' ' ')" "lo "
expect_contains "--net none: lo is up (ping 127.0.0.1)" "$OUT" lo-up
run "$APP" run --net none readlink /proc/self/ns/net
expect_ne "--net none: a new network namespace" "$OUT" "$(readlink /proc/self/ns/net)"
run "$APP" run cat /proc/net/dev
expect_eq "--net host: the host's interfaces" \
  "$(awk -F: 'NR > 2 { gsub(/ /, "", $1); print $1 }' <<<"$OUT" | LC_ALL=C sort | tr '\n' ' ')" "$host_ifaces"

# --- the appliance cannot be written from inside (CVE-2019-5736) ----------------------------------------------
# Each attempt prints WROTE:<how> if the write went through, refused:<how> otherwise; appends only,
# so a broken runtime is caught by the sha256 without destroying the file.
attack='
try() { how=$1; shift; if ( "$@" ) 2>/dev/null; then echo "WROTE:$how"; else echo "refused:$how"; fi; }
try exe sh -c "printf X >>/proc/1/exe"
try reopened-exe sh -c "exec 3</proc/1/exe && printf X >>/proc/self/fd/3"
# Without CAP_SYS_PTRACE the links of the non-dumpable init'"'"'s fds and mappings cannot even be read:
# that counts as refused too.
for f in /proc/1/fd/*; do
  t=$(readlink "$f" 2>/dev/null) || { echo "refused:init-fd-unreadable"; break; }
  [ "$t" = "$APP_PATH" ] && try "init-fd-${f##*/}" sh -c "printf X >>$f"
done
for f in /proc/1/map_files/*; do
  t=$(readlink "$f" 2>/dev/null) || { echo "refused:map-file-unreadable"; break; }
  [ "$t" = "$APP_PATH" ] && { try map-file sh -c "printf X >>$f"; break; }
done
for l in /sys/block/loop*; do
  [ "$(cat $l/loop/backing_file 2>/dev/null)" = "$APP_PATH" ] || continue
  mknod /dev/image-dev b $(tr ":" " " <$l/dev)
  blockdev --setrw /dev/image-dev 2>/dev/null
  try loop-device sh -c "printf XXXX | dd of=/dev/image-dev conv=notrunc,fsync 2>/dev/null"
done
true'
run "$APP" run -e APP_PATH="$APP" sh -c "$attack"
expect_rc "the write attempts ran" 0
expect_not_contains "no write to the appliance went through" "$OUT" "WROTE:"
for how in exe reopened-exe map-file loop-device; do
  expect_contains "refused: $how" "$OUT" "refused:$how"  # map-file matches map-file-unreadable too
done
expect_contains "refused: the init's own fd of the appliance" "$OUT" "refused:init-fd-"
expect_eq "the appliance's sha256 is unchanged" "$(sha256_of "$APP")" "$app_sha"
