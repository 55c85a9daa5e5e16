#!/usr/bin/env bash
# Reproducible by default: without SOURCE_DATE_EPOCH, the same recipe and base bytes give a
# byte-identical appliance built at another time, in another directory, from a copy of the sources
# with other file times, with another umask, TZ and TMPDIR -- and, for a recipe without run steps,
# as another (unprivileged) user. The build's time is the newest time in the base: files entries
# get it, files that run steps wrote are clamped to it, the SquashFS creation time is it, and the
# manifest records no creation time. A chosen time (SOURCE_DATE_EPOCH or the recipe's
# source_date_epoch) gives another image, never one from the image cache built for another time.
# Needs root (run steps, and the unprivileged user).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/recipe_lib.sh"

require_binaries
require_root "run steps need root; the unprivileged build needs a second user"
require_cmd mksquashfs unsquashfs fakeroot
require_alpine_tarball
ensure_test_user
unset SOURCE_DATE_EPOCH

# The base's newest entry time: the build time when nothing else chooses one.
base_epoch=$("$PYTHON" -I -S -c 'import sys, tarfile; print(max(m.mtime for m in tarfile.open(sys.argv[1])))' "$ALPINE_TARBALL")

# make_project DIR: the recipes and their sources, each recipe naming its base relative to itself.
make_project() {
  mkdir -p "$1/src/tree/sub"
  cp "$ALPINE_TARBALL" "$1/rootfs.tar.gz"
  printf '#!/bin/sh\necho tool\n' >"$1/src/tool"
  printf 'top\n' >"$1/src/tree/a.txt"
  printf 'deep\n' >"$1/src/tree/sub/b.txt"
  ln -s a.txt "$1/src/tree/link-to-a"
  chmod 644 "$1/src/tool" "$1/src/tree/a.txt" "$1/src/tree/sub/b.txt"
  chmod 755 "$1/src/tree" "$1/src/tree/sub"
  local common
  common=$(printf 'base:\n  tarball:\n    path: rootfs.tar.gz\n    sha256: %s\nfiles:\n%s\n%s\n' "$ALPINE_SHA256" \
    '  - {src: src/tool, dst: /usr/local/bin/tool, mode: "0755"}' \
    '  - {src: src/tree, dst: /opt/new/tree}')
  printf 'name: repro\n%s\n' "$common" >"$1/files.yaml"
  printf 'name: repro\n%s\nrun:\n  - %s\n' "$common" \
    'echo built >/etc/built-by-step; mkdir -p /opt/made && echo x >/opt/made/file; touch /usr/local/bin/tool' \
    >"$1/steps.yaml"
}

# --- (a) as root, in A, with the sources' times as they were written just now ------------------
A=$TEST_TMP/a
make_project "$A"
cd "$A"
must_pack steps.yaml steps.app --no-image-cache
must_pack files.yaml files.app --no-image-cache

# --- (b) as root, in B: a copy with other file times, another umask, TZ, TMPDIR and cwd --------
B=$TEST_TMP/elsewhere/deeper/b
mkdir -p "$B" "$TEST_TMP/other-tmp"
cp -a "$A/src" "$A/rootfs.tar.gz" "$A/steps.yaml" "$A/files.yaml" "$B/"
find "$B/src" -exec touch -h -d '2001-02-03 04:05:06' {} +  # older than the base
touch -d '2031-01-01' "$B/src/tree/sub/b.txt"                # newer than the clock
sleep 1.1  # another wall-clock second, so any leaked "now" would show
cd /
umask 077
run env TZ=Asia/Tokyo TMPDIR="$TEST_TMP/other-tmp" "$PACK" "$B/steps.yaml" -o "$B/steps.app" --no-image-cache
umask 022
((RC == 0)) || fail "build (b) failed: $ERR"
expect_eq "root, another directory, time, umask, TZ and source times: byte-identical with a run step" \
  "$(sha256_of "$B/steps.app")" "$(sha256_of "$A/steps.app")"

# --- (c) the unprivileged user, in C: the recipe without run steps ------------------------------
C=$(test_user_dir c)
cp -a "$A/src" "$A/rootfs.tar.gz" "$A/files.yaml" "$C/"
find "$C/src" -exec touch -h -d '2024-12-31 23:59:59' {} +
chown -R -h "$TEST_USER:" "$C"
cd "$C"
run as_test_user env TZ=America/Lima TMPDIR="$C" "$PACK" files.yaml -o "$C/out.app"
((RC == 0)) || fail "build (c) as $TEST_USER failed: $ERR"
cd "$A"
expect_eq "unprivileged user, another directory and source times: byte-identical to root's build" \
  "$(sha256_of "$C/out.app")" "$(sha256_of "$A/files.app")"

# --- what the rule puts in the image ------------------------------------------------------------
info_json steps.app info.json I
expect_eq "the SquashFS creation time is the base's newest time" "${I[squashfs.mkfs_time]}" "$base_epoch"
expect_eq "the manifest records no creation time" "$(json_get info.json manifest.build)" \
  "{\"bases\":[{\"kind\":\"tarball\",\"sha256\":\"$ALPINE_SHA256\",\"source\":\"rootfs.tar.gz\"}],\"havre_version\":\"${I[manifest.build.havre_version]}\"}"
unsquashfs -q -n -o "${I[image_offset]}" -d "$TEST_TMP/image" steps.app >/dev/null
mtime() { stat -c %Y "$TEST_TMP/image/$1"; }
expect_eq "a files entry gets the build time" "$(mtime opt/new/tree/sub/b.txt)" "$base_epoch"
expect_eq "a symlink copied by files gets the build time" "$(stat -c %Y "$TEST_TMP/image/opt/new/tree/link-to-a")" "$base_epoch"
expect_eq "a directory created for a files entry gets the build time" "$(mtime opt/new)" "$base_epoch"
expect_eq "a file a run step wrote is clamped to the build time" "$(mtime etc/built-by-step)" "$base_epoch"
expect_eq "a directory a run step changed is clamped to the build time" "$(mtime etc)" "$base_epoch"
# The base's oldest file, which neither files nor the run step touch, keeps its time.
read -r oldest_name oldest_mtime < <("$PYTHON" -I -S -c '
import sys, tarfile
m = min((m for m in tarfile.open(sys.argv[1]) if m.isfile()), key=lambda m: (m.mtime, m.name))
print(m.name.removeprefix("./"), m.mtime)' "$ALPINE_TARBALL")
((oldest_mtime < base_epoch)) || fail "the base's files all have the same time: nothing to check"
expect_eq "the base's own times are kept ($oldest_name)" "$(mtime "$oldest_name")" "$oldest_mtime"
newest=$(find "$TEST_TMP/image" -printf '%T@\n' | sort -n | tail -n1)
expect_eq "nothing in the image is newer than the build time" "${newest%.*}" "$base_epoch"
expect_eq "files entries are owned by root" "$(stat -c %u:%g "$TEST_TMP/image/opt/new/tree/sub/b.txt")" 0:0

# Nothing names the build's directories or users, in the image or the appliance.
expect_eq "no file in the image names the work directory" "$(grep -rlF "$TEST_TMP" "$TEST_TMP/image" || true)" ""
for app in "$A/steps.app" "$C/out.app"; do
  expect_false "${app#"$TEST_TMP"/} does not contain the test directory's path" grep -qaF "$TEST_TMP" "$app"
  expect_false "${app#"$TEST_TMP"/} does not contain the user name $TEST_USER" grep -qaF "$TEST_USER" "$app"
done

# --- a chosen time: another image, and not the cached one ---------------------------------------
must_pack steps.yaml cached.app  # fills the image cache for the default time
expect_eq "with the image cache: the same bytes" "$(sha256_of cached.app)" "$(sha256_of steps.app)"
must_pack steps.yaml cached-again.app
expect_contains "an unchanged rebuild reuses the image" "$ERR" "image unchanged"
expect_eq "the reused image gives the same bytes" "$(sha256_of cached-again.app)" "$(sha256_of steps.app)"
SOURCE_DATE_EPOCH=1800000000 must_pack steps.yaml sde.app
expect_not_contains "SOURCE_DATE_EPOCH: the cached image of another time is not reused" "$ERR" "image unchanged"
info_json sde.app sde.json S
expect_eq "SOURCE_DATE_EPOCH: the creation time" "${S[squashfs.mkfs_time]}" 1800000000
expect_eq "SOURCE_DATE_EPOCH: the manifest records it" "${S[manifest.build.created]}" 2027-01-15T08:00:00Z

sed 's/^name: repro$/name: repro\nsource_date_epoch: 1600000000/' steps.yaml >pinned.yaml
must_pack pinned.yaml pinned.app
info_json pinned.app pinned.json P
expect_eq "source_date_epoch in the recipe: the creation time" "${P[squashfs.mkfs_time]}" 1600000000
expect_eq "source_date_epoch in the recipe: the manifest records it" "${P[manifest.build.created]}" 2020-09-13T12:26:40Z
unsquashfs -q -n -o "${P[image_offset]}" -d "$TEST_TMP/pinned" pinned.app >/dev/null
expect_eq "source_date_epoch older than the base: the base's newer times are clamped to it" \
  "$(stat -c %Y "$TEST_TMP/pinned/etc/alpine-release")" 1600000000
SOURCE_DATE_EPOCH=1800000000 must_pack pinned.yaml pinned-sde.app
expect_eq "SOURCE_DATE_EPOCH wins over the recipe's source_date_epoch" "$(sha256_of pinned-sde.app)" "$(sha256_of sde.app)"

# An epoch in the future clamps nothing; files entries still get exactly it.
SOURCE_DATE_EPOCH=4000000000 must_pack files.yaml future.app --no-image-cache
expect_contains "a future SOURCE_DATE_EPOCH: a warning says the build is not reproducible" "$ERR" "is in the future"
info_json future.app future.json F
unsquashfs -q -n -o "${F[image_offset]}" -d "$TEST_TMP/future" future.app >/dev/null
expect_eq "a future SOURCE_DATE_EPOCH: a files entry gets it" \
  "$(stat -c %Y "$TEST_TMP/future/opt/new/tree/sub/b.txt")" 4000000000

SOURCE_DATE_EPOCH=yesterday pack steps.yaml bad.app
expect_rc "a malformed SOURCE_DATE_EPOCH: exit status 1" 1
expect_contains "a malformed SOURCE_DATE_EPOCH is named" "$ERR" "SOURCE_DATE_EPOCH: 'yesterday' is not a number of seconds since 1970"
check_no_leftovers "$A" bad.app
