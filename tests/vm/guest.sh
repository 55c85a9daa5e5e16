#!/bin/sh
# PID 1 of the test VM (tests/vm/test-vm.sh), on a tmpfs root that switch_root made: a pure cgroup v2
# host with systemd's mount flags, as an ordinary machine has them. Runs havre's checks with
# busybox only and prints one line per check and a summary on the serial console; then powers off.
export PATH=/bin HOME=/root
mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mount -t devtmpfs -o nosuid,mode=755 dev /dev
mkdir -p /dev/pts /dev/shm /run /tmp
mount -t devpts -o nosuid,noexec,mode=620,gid=5 devpts /dev/pts
mount -t tmpfs -o nosuid,nodev,mode=1777 shm /dev/shm
mount -t tmpfs -o nosuid,nodev,noexec,mode=755 run /run
mount -t tmpfs -o nosuid,nodev,mode=1777 tmp /tmp
mount -t cgroup2 -o nosuid,nodev,noexec,nsdelegate cgroup2 /sys/fs/cgroup
mkdir -p /home && mount -t tmpfs -o nosuid,nodev,mode=755 home /home
mkdir -p /home/u/vol /home/u/.cache && echo volume >/home/u/vol/f && chown -R 1000:1000 /home/u
for m in /lib/modules/*.ko; do [ -e "$m" ] || continue; insmod "$m" || echo "havre-vm: insmod $m failed"; done
echo "+memory +cpu +pids" >/sys/fs/cgroup/cgroup.subtree_control
chmod 666 /dev/fuse
hostname havre-vm

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "havre-vm: ok   $1"; }
bad() { failed=$((failed + 1)); echo "havre-vm: FAIL $1"; shift; for d in "$@"; do echo "      $d"; done; }
expect_eq() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1" "got:  $2" "want: $3" "stderr: $(cat /tmp/err 2>/dev/null)"; fi; }
expect_in() { case "$2" in *"$3"*) ok "$1" ;; *) bad "$1" "missing: $3" "in: $2" ;; esac; }
# run CMD...: RC, OUT (stdout), stderr in /tmp/err
run() { OUT=$("$@" 2>/tmp/err); RC=$?; }
# as_user 'COMMAND LINE': as uid 1000 (busybox has no setpriv --reuid; su as root asks nothing).
as_user() { su -s /bin/sh u -c "cd /home/u; export XDG_CACHE_HOME=/home/u/.cache; $1"; }
app=/havre/app
# Scripts the container runs (bound in with -v /havre/s:/s:ro).
mkdir -p /havre/s
cat >/havre/s/forkbomb.sh <<'SCRIPT'
# The subshell dies when a fork fails (busybox sh), the script goes on.
(i=0; while [ $i -lt 30 ]; do sleep 20 & i=$((i + 1)); done) 2>/dev/null
set -- /proc/[0-9]*  # a glob, not ps: no fork is left under the limit
echo $#
SCRIPT

echo "havre-vm: kernel $(uname -r), cgroup2 controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"

# --- root: run, exit codes, signals -------------------------------------------------------------
run $app run cat /etc/alpine-release
expect_eq "root: the Alpine appliance runs" "$OUT" "3.20.3"
run $app run sh -c 'exit 42'
expect_eq "root: the command's exit status" "$RC" 42
$app run sleep 30 >/dev/null 2>&1 &
bg=$!
sleep 3
kill -TERM $bg
wait $bg
expect_eq "root: SIGTERM to ./app ends the run with 143" "$?" 143

# --- rootless -------------------------------------------------------------------------------------
run as_user "$app run sh -c 'id -u; cat /proc/self/uid_map'"
expect_in "rootless: the appliance runs as root of a user namespace" "$OUT" "0"
expect_in "rootless: uid 0 inside maps to 1000" "$OUT" "1000"
run as_user "$app run sh -c 'exit 7'"
expect_eq "rootless: the command's exit status" "$RC" 7
run as_user "$app run -v /home/u/vol:/vol:ro cat /vol/f"
expect_eq "rootless: a read-only volume from a nosuid,nodev /home" "$OUT" "volume"
run as_user "$app run -v /home/u/vol:/vol sh -c 'echo back >/vol/g'"
expect_eq "rootless: a read-write volume writes through" "$(cat /home/u/vol/g 2>&1)" "back"

# --- limits as root, from a cgroup of its own (the leaf move) -------------------------------------
mkdir /sys/fs/cgroup/caller
run sh -c 'echo $$ >/sys/fs/cgroup/caller/cgroup.procs; exec '$app' run --memory 32m tail /dev/zero'
expect_eq "root: --memory 32m: an OOM kill gives 137" "$RC" 137
expect_in "root: --memory 32m: and says so" "$(cat /tmp/err)" "ran out of memory"
run sh -c 'echo $$ >/sys/fs/cgroup/caller/cgroup.procs; exec '$app' run -v /havre/s:/s:ro --pids-limit 10 --cpus 0.5 sh /s/forkbomb.sh'
expect_eq "root: threaded controllers only (--pids-limit --cpus) from a non-root cgroup run" "$RC" 0
[ "${OUT:-99}" -le 10 ] && ok "root: --pids-limit 10: the fork bomb is held ($OUT processes)" ||
  bad "root: --pids-limit 10: the fork bomb is held" "ps lines: $OUT"
sh -c 'echo $$ >/sys/fs/cgroup/caller/cgroup.procs; exec '$app' run --cpus 0.5 sleep 20' >/dev/null 2>&1 &
bg=$!
sleep 4
cpu_max=$(cat /sys/fs/cgroup/caller/havre-$bg/cpu.max 2>&1)
expect_eq "root: --cpus 0.5 is cpu.max of the container's cgroup" "$cpu_max" "50000 100000"
kill -TERM $bg
wait $bg
leftover=$(ls /sys/fs/cgroup/caller | grep havre)
expect_eq "root: the container's cgroup and the runtime's leaf are removed at the end" "$leftover" ""

# A caller whose cgroup holds other processes gets the message, not EBUSY/EOPNOTSUPP.
mkdir /sys/fs/cgroup/busy
run sh -c 'echo $$ >/sys/fs/cgroup/busy/cgroup.procs; sleep 30 & '$app' run --pids-limit 10 true; r=$?; kill $!; exit $r'
expect_eq "root: a busy caller cgroup: exit 125" "$RC" 125
expect_in "root: a busy caller cgroup: the message names it" "$(cat /tmp/err)" "/sys/fs/cgroup/busy holds"

# --- rootless limits: a delegated subtree (chowned, as systemd's Delegate=yes makes it) --------
mkdir /sys/fs/cgroup/user
chown 1000:1000 /sys/fs/cgroup/user /sys/fs/cgroup/user/cgroup.procs /sys/fs/cgroup/user/cgroup.subtree_control \
  /sys/fs/cgroup/user/cgroup.threads
run sh -c 'echo $$ >/sys/fs/cgroup/user/cgroup.procs; exec su -s /bin/sh u -c "exec '$app' run --memory 32m --pids-limit 20 --cpus 0.5 tail /dev/zero"'
expect_eq "rootless, delegated: --memory --pids-limit --cpus apply; OOM gives 137" "$RC" 137
run sh -c 'echo $$ >/sys/fs/cgroup/user/cgroup.procs; exec su -s /bin/sh u -c "exec '$app' run -v /havre/s:/s:ro --pids-limit 10 sh /s/forkbomb.sh"'
[ "$RC" = 0 ] && [ "${OUT:-99}" -le 10 ] && ok "rootless, delegated: --pids-limit 10 holds ($OUT processes)" ||
  bad "rootless, delegated: --pids-limit 10 holds" "rc $RC, ps lines: $OUT" "$(cat /tmp/err)"
# Not delegated: the user's cgroup belongs to root.
run as_user "$app run --memory 32m true"
expect_eq "rootless, not delegated: --memory is refused with 125" "$RC" 125
expect_in "rootless, not delegated: the message says how to delegate" "$(cat /tmp/err)" "Delegate=yes"
run as_user "$app run --memory 32m --cgroups best-effort sh -c 'echo ran'"
expect_eq "rootless, not delegated: --cgroups best-effort runs" "$OUT" "ran"

# --- kill -9 of the runtime: nothing is left -------------------------------------------------------
$app run --memory 64m sleep 40 >/dev/null 2>&1 &
bg=$!
sleep 4
kill -KILL $bg
sleep 2
expect_eq "kill -9: the container's command is gone" "$(ps -o args | grep -c '^sleep 40')" 0
expect_eq "kill -9: no squashfs or overlay mount is left" "$(grep -cE ' (squashfs|overlay) ' /proc/mounts)" 0
expect_eq "kill -9: no loop device is left" "$(cat /sys/block/loop*/loop/backing_file 2>/dev/null | wc -l)" 0
run $app run --memory 64m true
expect_eq "kill -9: the next limited run works" "$RC" 0
expect_eq "kill -9: and removed the stale cgroup" "$(ls /sys/fs/cgroup | grep -c "havre-$bg")" 0

echo "havre-vm: $passed passed, $failed failed"
sync
poweroff -f
