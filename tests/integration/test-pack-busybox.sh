#!/usr/bin/env bash
# Packs a busybox rootfs tarball whose headers carry setuid bits, foreign owners, devices, a fifo and
# a hard link; checks the file layout `info --json` reports against the bytes of the file, the
# manifest against the recipe, and the image's entries against the tarball's, for every compression.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

require_binaries
require_cmd unsquashfs tar file fakeroot mksquashfs

cd "$TEST_TMP"
make_busybox_tarball rootfs.tar.gz
tar_sha=$(sha256_of rootfs.tar.gz)
tarball_listing rootfs.tar.gz >tar.list
runtime_version=$("$RUNTIME" version | awk '{print $2}')
pack_version=$("$PACK" --version | awk '{print $2}')

# recipe.yaml with the given squashfs: section.
write_recipe() {  # FILE SQUASHFS_YAML
  cat >"$1" <<EOF
name: busybox-test
version: "1.2.3"
base:
  tarball:
    path: rootfs.tar.gz
    sha256: $tar_sha
entrypoint: [/bin/sh, -c]
cmd: ["echo \"\$GREETING\"", extra arg]
env:
  PATH: /bin:/sbin
  GREETING: "hello: world"
workdir: /root
hostname: bb
labels:
  org.example.role: test
  org.example.unicode: "caf\u00e9"
squashfs:
$2
EOF
}

# --- zstd: the full set of checks ---
write_recipe recipe.yaml "  compression: zstd"
must_pack recipe.yaml app
expect_eq "the output is executable (mode 755)" "$(stat -c %a app)" 755
expect_contains "file(1) sees an ELF executable" "$(file -b app)" "ELF"
check_no_leftovers "$TEST_TMP"

info_json ./app info.json I
size=$(stat -c %s app)
image_offset=${I[image_offset]}
image_size=${I[image_size]}
manifest_offset=${I[manifest_offset]}
manifest_size=${I[manifest_size]}
runtime_size=$(stat -c %s "$RUNTIME")

expect_eq "located by the footer" "${I[located_by]}" footer
expect_eq "format version 1" "${I[format_version]}" 1
expect_eq "image offset is 4096-aligned" "$((image_offset % 4096))" 0
expect_eq "image offset is the runtime size rounded up to 4096" "$image_offset" "$(((runtime_size + 4095) / 4096 * 4096))"
expect_eq "image size is a multiple of 4096" "$((image_size % 4096))" 0
expect_eq "the image holds all of the SquashFS bytes" \
  "$((${I[squashfs.bytes_used]} <= image_size))" 1
expect_eq "image_sha256 is the sha256 of the image bytes" \
  "${I[image_sha256]}" "$(sha256_range app "$image_offset" "$image_size")"
expect_eq "the manifest follows the image" "$manifest_offset" "$((image_offset + image_size))"
expect_eq "manifest_sha256 is the sha256 of the manifest bytes" \
  "${I[manifest_sha256]}" "$(sha256_range app "$manifest_offset" "$manifest_size")"
expect_eq "file size = manifest end + 128-byte footer" "$size" "$((manifest_offset + manifest_size + 128))"
expect_eq "the file ends with the footer magic" "$(tail -c 8 app | od -An -c | tr -s ' ')" " H A V R E \\0 F T"
expect_true "the file starts with the runtime, byte for byte" cmp -s -n "$runtime_size" app "$RUNTIME"
expect_eq "zero padding between runtime and image" \
  "$(read_bytes app "$runtime_size" "$((image_offset - runtime_size))" | tr -d '\0' | wc -c)" 0
expect_eq "the image starts with the SquashFS magic" "$(read_bytes app "$image_offset" 4)" hsqs
expect_eq "the manifest bytes are the JSON info shows" \
  "$(read_bytes app "$manifest_offset" "$manifest_size" | json_norm)" "${I[manifest]}"
expect_eq "squashfs.compression" "${I[squashfs.compression]}" zstd
expect_eq "squashfs.block_size is the 128K default" "${I[squashfs.block_size]}" 131072
expect_eq "squashfs.inodes counts the tarball's entries (hard link = one inode)" \
  "${I[squashfs.inodes]}" "$(($(wc -l <tar.list) - 1))"
expect_eq "runtime_version is the runtime's" "${I[runtime_version]}" "$runtime_version"

expect_eq "manifest.name" "${I[manifest.name]}" busybox-test
expect_eq "manifest.version" "${I[manifest.version]}" 1.2.3
expect_eq "manifest.entrypoint" "${I[manifest.entrypoint]}" '["/bin/sh","-c"]'
# shellcheck disable=SC2016 # a literal $GREETING
expect_eq "manifest.cmd" "${I[manifest.cmd]}" '["echo \"$GREETING\"","extra arg"]'
expect_eq "manifest.env" "${I[manifest.env]}" '{"GREETING":"hello: world","PATH":"/bin:/sbin"}'
expect_eq "manifest.workdir" "${I[manifest.workdir]}" /root
expect_eq "manifest.hostname" "${I[manifest.hostname]}" bb
expect_eq "manifest.labels (non-ASCII survives)" "${I[manifest.labels]}" \
  '{"org.example.role":"test","org.example.unicode":"café"}'
expect_eq "exactly one base recorded" "${I[manifest.build.bases.1.kind]-none}" none
expect_eq "manifest base kind" "${I[manifest.build.bases.0.kind]}" tarball
expect_eq "manifest base source is the recipe's path" "${I[manifest.build.bases.0.source]}" rootfs.tar.gz
expect_eq "manifest base sha256 is the tarball's" "${I[manifest.build.bases.0.sha256]}" "$tar_sha"
expect_eq "manifest havre_version is havre-pack's" "${I[manifest.build.havre_version]}" "$pack_version"
expect_eq "manifest has no creation time unless one is chosen (docs/reproducible.md)" \
  "${I[manifest.build.created]-absent}" absent

image_listing app "$image_offset" >image.list
expect_same_file "image entries (mode, owner, devices, links) equal the tarball's" tar.list image.list
# Spot checks, so a listing helper that drops a column cannot hide a regression.
expect_contains "setuid root file" "$(cat image.list)" "-rwsr-xr-x 0/0 sbin/suid-root"
expect_contains "setgid file with group 42" "$(cat image.list)" "-rwxr-sr-x 0/42 sbin/sgid-shadow"
expect_contains "file owned by 1000:1000" "$(cat image.list)" "-rw-r--r-- 1000/1000 etc/owned-by-user"
expect_contains "directory owned by 1000:1000" "$(cat image.list)" "drwxr-x--- 1000/1000 home/user"
expect_contains "file owned by 1000:1000 in it" "$(cat image.list)" "-rw------- 1000/1000 home/user/notes.txt"
expect_contains "char device 1:3" "$(cat image.list)" "crw-rw-rw- 0/0 1,3 dev/null"
expect_contains "block device 7:0" "$(cat image.list)" "brw-rw---- 0/6 7,0 dev/loop0"
expect_contains "fifo" "$(cat image.list)" "prw------- 0/0 run/initctl"
expect_contains "sticky /tmp" "$(cat image.list)" "drwxrwxrwt 0/0 tmp"
expect_contains "mode-0 directory" "$(cat image.list)" "d--------- 0/0 locked"

unsquashfs -o "$image_offset" -d extracted -no-xattrs app bin >/dev/null  # bin/ only: devices need root
expect_true "busybox in the image is byte-identical" cmp -s extracted/bin/busybox /bin/busybox
expect_eq "the hard link shares the inode" "$(stat -c %i extracted/bin/busybox)" "$(stat -c %i extracted/bin/busybox.hard)"
expect_eq "symlink target" "$(readlink extracted/bin/sh)" busybox
run ./app info
expect_rc "'info' (text) succeeds" 0
expect_contains "'info' (text) names the appliance" "$OUT" "busybox-test"

# --- the other compressions, and a 1M block size ---
for variant in "xz" "gzip" "lz4" "gzip 1M"; do
  read -r comp block <<<"$variant"
  yaml="  compression: $comp"
  [[ -n ${block:-} ]] && yaml+=$'\n'"  block_size: $block"
  write_recipe "recipe-$comp${block:+-$block}.yaml" "$yaml"
  out="app-$comp${block:+-$block}"
  must_pack "recipe-$comp${block:+-$block}.yaml" "$out"
  info_json "./$out" "$out.json" V
  expect_eq "$variant: squashfs.compression" "${V[squashfs.compression]}" "$comp"
  expect_eq "$variant: squashfs.block_size" "${V[squashfs.block_size]}" \
    "$([[ ${block:-} == 1M ]] && echo 1048576 || echo 131072)"
  expect_eq "$variant: image_sha256 matches the bytes" "${V[image_sha256]}" \
    "$(sha256_range "$out" "${V[image_offset]}" "${V[image_size]}")"
  image_listing "$out" "${V[image_offset]}" >"$out.list"
  expect_same_file "$variant: image entries equal the tarball's" tar.list "$out.list"
done
check_no_leftovers "$TEST_TMP"
