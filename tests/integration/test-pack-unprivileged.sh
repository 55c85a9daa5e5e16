#!/usr/bin/env bash
# An unprivileged user packs the busybox tarball: the image still carries the tarball's root
# ownership, setuid/setgid bits, the 1000-owned directory and file, the devices and the fifo
# (fakeroot replays the tar headers; nothing needs real privileges).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

require_binaries
require_cmd unsquashfs tar fakeroot mksquashfs
ensure_test_user

cd "$TEST_TMP"
make_busybox_tarball rootfs.tar
tarball_listing rootfs.tar >tar.list
work=$(test_user_dir work)
cp rootfs.tar "$work/rootfs.tar"
cat >"$work/recipe.yaml" <<EOF
name: unprivileged
base:
  tarball:
    path: rootfs.tar
    sha256: $(sha256_of rootfs.tar)
EOF
chmod 644 "$work/rootfs.tar" "$work/recipe.yaml"

run as_test_user id -u
expect_ne "the build runs as a non-root user" "$OUT" 0
whom=$OUT

run as_test_user "$PACK" "$work/recipe.yaml" -o "$work/app"
expect_rc "havre-pack succeeds as uid $whom" 0
check_no_leftovers "$work"
expect_eq "the output belongs to the user who built it" "$(stat -c %u "$work/app")" "$whom"
expect_eq "the output is executable (mode 755)" "$(stat -c %a "$work/app")" 755

run as_test_user "$work/app" info --json
expect_rc "the user can run 'info --json'" 0
printf '%s\n' "$OUT" >info.json
load_json I info.json
expect_eq "located by the footer" "${I[located_by]}" footer
expect_eq "manifest.name" "${I[manifest.name]}" unprivileged

image_listing "$work/app" "${I[image_offset]}" >image.list
expect_same_file "image entries equal the tarball's, owners and devices included" tar.list image.list
list=$(cat image.list)
expect_contains "root owns /bin/busybox" "$list" "-rwxr-xr-x 0/0 bin/busybox"
expect_contains "setuid root file" "$list" "-rwsr-xr-x 0/0 sbin/suid-root"
expect_contains "setgid file with group 42" "$list" "-rwxr-sr-x 0/42 sbin/sgid-shadow"
expect_contains "directory owned by 1000:1000" "$list" "drwxr-x--- 1000/1000 home/user"
expect_contains "file owned by 1000:1000 in it" "$list" "-rw------- 1000/1000 home/user/notes.txt"
expect_contains "char device 1:3" "$list" "crw-rw-rw- 0/0 1,3 dev/null"
expect_contains "block device 7:0" "$list" "brw-rw---- 0/6 7,0 dev/loop0"
expect_contains "fifo" "$list" "prw------- 0/0 run/initctl"
expect_contains "mode-0 directory" "$list" "d--------- 0/0 locked"
expect_contains "mode-0 file" "$list" "---------- 0/0 etc/no-permissions"
if ! grep -q " $whom/" tar.list; then
  expect_not_contains "the builder's uid ($whom) appears nowhere in the image" "$list" " $whom/"
fi
