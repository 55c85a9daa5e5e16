#!/usr/bin/env bash
# Boots a stock Debian kernel in QEMU (TCG: KVM does not work on the build machine) on a pure cgroup
# v2 host with systemd's mount flags, and runs tests/vm/guest.sh there as PID 1: an Alpine appliance
# as root and rootless, exit codes and signals, all three limits (OOM, fork bomb, cpu.max) from a
# cgroup of its own, a busy caller cgroup, a delegated and a non-delegated rootless cgroup, kill -9
# cleanup. The kernel is a Debian package, fetched with the host's apt configuration and unpacked
# with dpkg -x (nothing is installed). The result comes from the serial log; no summary is a failure.
# Usage: tests/vm/test-vm.sh SERIES    (6.1 or 6.12: the newest kernel package of that series in the
#        host's apt sources; the log names the exact version)
source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/../integration/run_lib.sh"

series=${1:-6.1}
require_binaries
require_cmd qemu-system-x86_64 apt-get apt-cache dpkg cpio gzip busybox
require_alpine_tarball
[[ -x /bin/busybox ]] && file -L /bin/busybox | grep -q 'statically linked' || skip "/bin/busybox is not busybox-static"

# 1. The kernel: the newest package of the series (security updates replace older ABIs on the mirror).
case $series in
6.1) pattern='^linux-image-6\.1\.0-[0-9]+-amd64$' ;;           # bookworm's kernel
6.12) pattern='^linux-image-6\.12\.[0-9]+\+deb12-amd64$' ;;    # bookworm's newer kernel series
*) fail "unknown kernel series $series (6.1 or 6.12)" ;;
esac
pkg=$(apt-cache search --names-only "$pattern" | awk '{print $1}' | sort -V | tail -n1)
[[ -n $pkg ]] || fail "no package matching $pattern in the host's apt sources (apt-get update?)"
(cd "$TEST_TMP" && apt-get download "$pkg" >/dev/null 2>&1) || fail "apt-get download $pkg failed"
dpkg -x "$TEST_TMP"/"$pkg"_*.deb "$TEST_TMP/kernel"
vmlinuz=$(ls "$TEST_TMP"/kernel/boot/vmlinuz-*)
say "kernel: $pkg ($(dpkg-deb -f "$TEST_TMP"/"$pkg"_*.deb Version))"

# 2. The initramfs: static busybox, the modules, an Alpine appliance, the guest script.
pack_alpine app 'hostname: vm'
init=$TEST_TMP/initramfs
mkdir -p "$init"/{bin,etc,havre,lib/modules,proc,sys,dev,newroot}
cp /bin/busybox "$init/bin/busybox"
config=$(ls "$TEST_TMP"/kernel/boot/config-*)
for m in loop:BLK_DEV_LOOP squashfs:SQUASHFS overlay:OVERLAY_FS fuse:FUSE_FS; do
  option=${m#*:} m=${m%%:*}
  grep -q "^CONFIG_$option=y" "$config" && continue  # built in
  ko=$(find "$TEST_TMP/kernel/lib/modules" -name "$m.ko*" | head -n1)
  [[ -n $ko ]] || fail "$pkg has no $m module and no CONFIG_$option=y"
  case $ko in
  *.xz) xz -dc "$ko" >"$init/lib/modules/$m.ko" ;;
  *.zst) zstd -qdc "$ko" >"$init/lib/modules/$m.ko" ;;
  *) cp "$ko" "$init/lib/modules/$m.ko" ;;
  esac
done
install -m 755 "$TEST_TMP/app" "$init/havre/app"
install -m 755 "$HAVRE_SOURCE/tests/vm/guest.sh" "$init/guest.sh"
printf 'root:x:0:0:root:/root:/bin/sh\nu:x:1000:1000:u:/home/u:/bin/sh\n' >"$init/etc/passwd"
printf 'root:x:0:\ntty:x:5:\nu:x:1000:\n' >"$init/etc/group"
# Stage 1: pivot_root does not work on the initramfs itself (EINVAL), so the guest runs from a copy
# on a tmpfs that switch_root makes the root.
cat >"$init/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t tmpfs -o mode=755 root /newroot
cp -a /bin /etc /havre /lib /guest.sh /newroot/
mkdir -p /newroot/proc /newroot/sys /newroot/dev /newroot/root
exec switch_root /newroot /guest.sh
INIT
chmod 755 "$init/init"
(cd "$init" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$TEST_TMP/initramfs.gz"

# 3. Boot; the guest powers off after its summary (the timeout covers a hang).
log=$TEST_TMP/serial.log
start=$(now_ms)
timeout 600 qemu-system-x86_64 -accel tcg,thread=multi -cpu max -smp 2 -m 1024 -nographic -no-reboot \
  -kernel "$vmlinuz" -initrd "$TEST_TMP/initramfs.gz" \
  -append "console=ttyS0 quiet panic=-1 systemd.unified_cgroup_hierarchy=1" </dev/null >"$log" 2>&1 || true
say "the VM ran for $((($(now_ms) - start) / 1000)) s"
grep -aE '^(havre-vm:|      )' "$log" | tr -d '\r' | sed 's/^/  /'
summary=$(grep -a '^havre-vm: [0-9]* passed, [0-9]* failed' "$log" | tr -d '\r' | tail -n1)
[[ -n $summary ]] || { tail -n 40 "$log" >&2; fail "no summary in the serial log (the guest did not finish)"; }
failed=$(sed -E 's/.* ([0-9]+) failed/\1/' <<<"$summary")
passed=$(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$summary")
expect_true "the guest ran its checks ($passed)" test "$passed" -ge 25
expect_eq "no check failed in the guest on $pkg" "$failed" 0
