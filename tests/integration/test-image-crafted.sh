#!/usr/bin/env bash
# Crafted SquashFS superblocks (issue 11: a huge inode count crashed the rootless FUSE server with
# SIGSEGV, a huge fragment count with "free(): invalid pointer", and `extract` the same way): every
# table offset and count is checked against the image before the kernel or libsquashfuse reads it.
# Each crafted appliance fails with exit 125 and a message naming the field -- as root (loop device),
# rootless (FUSE), in extract-and-run, and in `./app extract` -- and leaves nothing behind.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

require_binaries
require_root "run as root mounts the image on a loop device"
require_cmd fakeroot mksquashfs
require_python
[[ -x $HAVRE_BUILD/tests/havre-probe ]] || fail "the probe $HAVRE_BUILD/tests/havre-probe is not built"
ensure_test_user

cd "$TEST_TMP"
chmod 755 "$TEST_TMP"
mkdir -p root/etc root/bin
echo crafted >root/etc/hostname
head -c 300000 /dev/urandom >root/bin/blob
cp "$HAVRE_BUILD/tests/havre-probe" root/bin/probe
cat >recipe.yaml <<'YAML'
name: crafted
base:
  directory: root
cmd: [/bin/probe, cat, /etc/hostname]
YAML
must_pack recipe.yaml app
chmod 755 app
info_json app info.json I
run ./app
expect_eq "the intact appliance runs" "$OUT" crafted

# craft NAME FIELD_OFFSET SIZE VALUE: a copy of app with one superblock field replaced.
craft() {
  "$PYTHON" -I -S - app "$1" "${I[image_offset]}" "$2" "$3" "$4" <<'PY'
import shutil, sys
src, dst, image, field, size, value = sys.argv[1:]
shutil.copyfile(src, dst)
with open(dst, "r+b") as f:
    f.seek(int(image) + int(field))
    f.write(int(value, 0).to_bytes(int(size), "little"))
PY
  chmod 755 "$1"
}
bytes_used=${I[squashfs.bytes_used]}
craft huge-inodes 4 4 0xffffffff
craft huge-fragments 16 4 0xffffffff
craft no-ids 26 2 0
craft id-table-past-end 48 8 $((bytes_used + 4096))
craft root-inode-outside 32 8 0xffffffff0000
craft lookup-table-at-end 88 8 $((bytes_used - 4))
craft inode-table-in-superblock 64 8 8

loops_before=$(losetup -l -n -O BACK-FILE | grep -c "$TEST_TMP" || true)
check() {  # FILE FIELD
  local file=$1 field=$2
  run "./$file"
  expect_rc "$file: run as root fails with 125" 125
  expect_contains "$file: run as root names $field" "$ERR" "$field"
  run as_test_user "./$file"
  expect_rc "$file: run rootless fails with 125" 125
  expect_contains "$file: run rootless names $field" "$ERR" "$field"
  run as_test_user env HAVRE_EXTRACT_AND_RUN=1 "./$file"
  expect_rc "$file: extract-and-run fails with 125" 125
  expect_contains "$file: extract-and-run names $field" "$ERR" "$field"
  run "./$file" extract "$TEST_TMP/out-$file"
  expect_rc "$file: extract fails with 125" 125
  expect_contains "$file: extract names $field" "$ERR" "$field"
  expect_false "$file: extract created nothing" test -e "$TEST_TMP/out-$file"
}
check huge-inodes inodes
check huge-fragments fragments
check no-ids no_ids
check id-table-past-end id_table_start
check root-inode-outside root_inode
check lookup-table-at-end lookup_table_start
check inode-table-in-superblock inode_table_start
expect_eq "no loop device of this test is left" "$(losetup -l -n -O BACK-FILE | grep -c "$TEST_TMP" || true)" "$loops_before"
expect_eq "no process of these appliances is left" "$({ pgrep -f "$TEST_TMP/" || true; } | wc -l)" 0
