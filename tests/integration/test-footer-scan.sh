#!/usr/bin/env bash
# Without a usable footer, `info` finds the image by scanning for the SquashFS superblock after the
# runtime's ELF image, and `run` works from the image it found, as root (loop device) and rootless
# (FUSE); with no image at all it fails cleanly (exit 125, "not a havre appliance").
set -euo pipefail
source "$(dirname "$0")/lib.sh"

require_binaries
require_root "run as root mounts the found image on a loop device"
require_cmd fakeroot mksquashfs
[[ -x $HAVRE_BUILD/tests/havre-probe ]] || fail "the probe $HAVRE_BUILD/tests/havre-probe is not built"
ensure_test_user

cd "$TEST_TMP"
chmod 755 "$TEST_TMP"
mkdir -p root/etc root/bin
echo scan-test >root/etc/hostname
head -c 300000 /dev/urandom >root/bin/blob  # an image bigger than one block, bytes_used not 4K-aligned
cp "$HAVRE_BUILD/tests/havre-probe" root/bin/probe  # static: runs in an image with nothing else
cat >recipe.yaml <<'EOF'
name: scan-test
version: "7"
base:
  directory: root
cmd: [/bin/probe, cat, /etc/hostname]
EOF
# check_run FILE WHAT: the found image runs, as root and rootless.
check_run() {
  chmod 755 "$1"
  run "./$1"
  expect_rc "$2: run as root succeeds" 0
  expect_eq "$2: run as root reads the image" "$OUT" scan-test
  run as_test_user "./$1"
  expect_rc "$2: run rootless succeeds" 0
  expect_eq "$2: run rootless reads the image" "$OUT" scan-test
}

must_pack recipe.yaml app
info_json app info.json I
expect_eq "intact file: located by the footer" "${I[located_by]}" footer
check_run app "intact file"
size=$(stat -c %s app)
offset=${I[image_offset]}

# check_scan FILE WHAT: info --json must find the same image and manifest by scanning.
check_scan() {
  run "./$1" info --json
  expect_rc "$2: info --json succeeds" 0
  ((RC == 0)) || return 0
  printf '%s\n' "$OUT" >"$1.json"
  load_json S "$1.json"
  expect_eq "$2: located by scan" "${S[located_by]}" scan
  expect_eq "$2: same image offset" "${S[image_offset]}" "$offset"
  expect_eq "$2: same SquashFS size" "${S[squashfs.bytes_used]}" "${I[squashfs.bytes_used]}"
  expect_eq "$2: same compression" "${S[squashfs.compression]}" "${I[squashfs.compression]}"
  expect_eq "$2: manifest found after the image" "${S[manifest_offset]}" "${I[manifest_offset]}"
  expect_eq "$2: manifest name" "${S[manifest.name]}" scan-test
  expect_eq "$2: manifest cmd" "${S[manifest.cmd]}" '["/bin/probe","cat","/etc/hostname"]'
  expect_ne "$2: the footer problem is reported" "${S[footer_problem]:-}" ""
  run "./$1" info
  expect_rc "$2: info (text) succeeds" 0
  expect_contains "$2: info (text) says it scanned" "$OUT" "scan"
  check_run "$1" "$2"
}

# Footer cut off.
cp app cut
truncate -s -128 cut
check_scan cut "footer removed"

# One byte of the footer damaged: in the magic, in the offsets, in the checksum.
damage() {  # SRC DST OFFSET_FROM_END
  cp "$1" "$2"
  "$PYTHON" -I -S -c '
import os, sys
with open(sys.argv[1], "r+b") as f:
    f.seek(-int(sys.argv[2]), os.SEEK_END)
    b = f.read(1)
    f.seek(-1, os.SEEK_CUR)
    f.write(bytes([b[0] ^ 0x5a]))
' "$2" "$3"
}
damage app bad-magic 1
check_scan bad-magic "footer magic damaged"
damage app bad-offset $((128 - 16))
check_scan bad-offset "footer image offset damaged"
damage app bad-checksum $((128 - 112))
check_scan bad-checksum "footer checksum damaged"

# Bytes appended after the footer (e.g. a careless copy): the footer is no longer last.
cp app appended
printf 'trailing garbage' >>appended
check_scan appended "bytes appended"

# Runtime and image only: no manifest, no footer. The image is still found.
head -c "${I[manifest_offset]}" app >image-only
chmod +x image-only
run ./image-only info --json
expect_rc "image without manifest: info --json succeeds" 0
if ((RC == 0)); then
  printf '%s\n' "$OUT" >image-only.json
  load_json N image-only.json
  expect_eq "image without manifest: located by scan" "${N[located_by]}" scan
  expect_eq "image without manifest: same image offset" "${N[image_offset]}" "$offset"
  expect_eq "image without manifest: manifest is null" "${N[manifest]}" null
  expect_ne "image without manifest: the problem is reported" "${N[manifest_problem]:-}" ""
fi
chmod 755 image-only
run ./image-only run /bin/probe cat /etc/hostname
expect_rc "image without manifest: run refuses it with 125" 125
expect_contains "image without manifest: naming the missing manifest" "$ERR" "no manifest"

# The runtime and its padding only: nothing to find.
head -c "$offset" app >runtime-only
chmod +x runtime-only
run ./runtime-only info --json
expect_rc "runtime only: info fails with 125" 125
expect_contains "runtime only: says it is not a havre appliance" "$ERR" "not a havre appliance"
expect_eq "runtime only: nothing on stdout" "$OUT" ""

# The bare stub: its own code holds the "hsqs" magic, which must not pass for an image.
expect_true "the runtime binary does contain 'hsqs'" grep -q hsqs "$RUNTIME"
run "$RUNTIME" info --json
expect_rc "bare runtime: info fails with 125" 125
expect_contains "bare runtime: says it is not a havre appliance" "$ERR" "not a havre appliance"
expect_eq "bare runtime: nothing on stdout" "$OUT" ""
run "$RUNTIME" info
expect_rc "bare runtime: info (text) fails with 125" 125

# An image-sized run of zeros plus a fake "hsqs" right after the runtime: rejected, not trusted.
{ head -c "$offset" app; printf 'hsqs'; head -c 8192 /dev/zero; } >fake-magic
chmod +x fake-magic
run ./fake-magic info --json
expect_rc "a bare 'hsqs' with no valid superblock: info fails with 125" 125
expect_contains "a bare 'hsqs': says it is not a havre appliance" "$ERR" "not a havre appliance"

expect_eq "the original still reads by footer" "$(./app info --json | "$PYTHON" -I -S -c 'import json,sys; print(json.load(sys.stdin)["located_by"])')" footer
expect_eq "the original was not modified" "$(stat -c %s app)" "$size"
