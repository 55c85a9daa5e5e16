#!/usr/bin/env bash
# Packs Alpine's real minirootfs release tarball (from ../shared/rootfs) as a local tarball base:
# `info --json` describes it, and the image holds exactly the tarball's entries.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

require_binaries
require_cmd unsquashfs tar fakeroot mksquashfs
require_alpine_tarball

cd "$TEST_TMP"
cat >alpine.yaml <<EOF
name: alpine
version: "3.20.3"
base:
  tarball:
    path: $ALPINE_TARBALL
    sha256: $ALPINE_SHA256
cmd: [/bin/sh]
env:
  PATH: /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
labels:
  org.opencontainers.image.source: alpine-minirootfs
EOF
must_pack alpine.yaml alpine
expect_contains "havre-pack reports what it wrote" "$ERR" "wrote $TEST_TMP/alpine"
check_no_leftovers "$TEST_TMP"
expect_eq "the output is executable (mode 755)" "$(stat -c %a alpine)" 755

info_json alpine info.json I
image_offset=${I[image_offset]}
image_size=${I[image_size]}
manifest_offset=${I[manifest_offset]}
manifest_size=${I[manifest_size]}
expect_eq "located by the footer" "${I[located_by]}" footer
expect_eq "image offset is 4096-aligned" "$((image_offset % 4096))" 0
expect_eq "image size is a multiple of 4096" "$((image_size % 4096))" 0
expect_eq "image_sha256 is the sha256 of the image bytes" "${I[image_sha256]}" \
  "$(sha256_range alpine "$image_offset" "$image_size")"
expect_eq "manifest_sha256 is the sha256 of the manifest bytes" "${I[manifest_sha256]}" \
  "$(sha256_range alpine "$manifest_offset" "$manifest_size")"
expect_eq "file size = manifest end + 128-byte footer" "$(stat -c %s alpine)" \
  "$((manifest_offset + manifest_size + 128))"
expect_eq "squashfs.compression defaults to zstd" "${I[squashfs.compression]}" zstd
expect_eq "manifest.name" "${I[manifest.name]}" alpine
expect_eq "manifest.version" "${I[manifest.version]}" 3.20.3
expect_eq "manifest.cmd" "${I[manifest.cmd]}" '["/bin/sh"]'
expect_eq "manifest.env" "${I[manifest.env]}" \
  '{"PATH":"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}'
expect_eq "manifest.labels" "${I[manifest.labels]}" '{"org.opencontainers.image.source":"alpine-minirootfs"}'
expect_eq "manifest base kind" "${I[manifest.build.bases.0.kind]}" tarball
expect_eq "manifest base source" "${I[manifest.build.bases.0.source]}" "$ALPINE_TARBALL"
expect_eq "manifest base sha256" "${I[manifest.build.bases.0.sha256]}" "$ALPINE_SHA256"

tarball_listing "$ALPINE_TARBALL" >tar.list
image_listing alpine "$image_offset" >image.list
expect_same_file "image entries (mode, owner, links) equal the tarball's" tar.list image.list
expect_eq "squashfs.inodes counts the tarball's entries" "${I[squashfs.inodes]}" "$(wc -l <tar.list)"
expect_contains "/etc/shadow keeps group shadow (42) and mode 640" "$(cat image.list)" "-rw-r----- 0/42 etc/shadow"
expect_contains "/bin/sh is busybox" "$(cat image.list)" "lrwxrwxrwx 0/0 bin/sh -> /bin/busybox"
expect_contains "/tmp is sticky" "$(cat image.list)" "drwxrwxrwt 0/0 tmp"

# File contents survive too: every regular file's sha256 equals the tarball's.
unsquashfs -o "$image_offset" -d extracted -no-xattrs alpine >/dev/null
mkdir from-tar
tar -xzf "$ALPINE_TARBALL" -C from-tar --no-same-owner
expect_true "file contents equal the tarball's (diff -r, symlinks compared as links)" \
  diff -r --no-dereference from-tar extracted
expect_eq "/etc/alpine-release" "$(cat extracted/etc/alpine-release)" 3.20.3
