#!/usr/bin/env bash
# With SOURCE_DATE_EPOCH set, the same recipe and base give a byte-identical appliance, whatever
# the output's name or directory, and the manifest's creation time is that epoch.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

require_binaries
require_cmd fakeroot mksquashfs

cd "$TEST_TMP"
make_busybox_tarball rootfs.tar.gz
printf 'name: repro\nbase:\n  tarball:\n    path: rootfs.tar.gz\n    sha256: %s\n' "$(sha256_of rootfs.tar.gz)" >recipe.yaml
mkdir a b

SOURCE_DATE_EPOCH=1700000000 must_pack recipe.yaml a/first
sleep 1.1  # a different wall-clock second, so any leaked "now" would show
SOURCE_DATE_EPOCH=1700000000 must_pack recipe.yaml b/second
expect_eq "two builds are byte-identical" "$(sha256_of b/second)" "$(sha256_of a/first)"
info_json a/first info.json I
expect_eq "manifest created is SOURCE_DATE_EPOCH" "${I[manifest.build.created]}" 2023-11-14T22:13:20Z
expect_eq "the SquashFS creation time is SOURCE_DATE_EPOCH" "${I[squashfs.mkfs_time]}" 1700000000

SOURCE_DATE_EPOCH=1800000000 must_pack recipe.yaml a/later
expect_ne "another SOURCE_DATE_EPOCH gives another file" "$(sha256_of a/later)" "$(sha256_of a/first)"
