#!/usr/bin/env bash
# Build failures are reported clearly and leave nothing behind: recipe mistakes name
# recipe.yaml:LINE:COL and the key; a missing base or a sha256 mismatch names the path and the
# digests; no output, no work directory, and an existing output file is left exactly as it was.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

require_binaries
require_cmd fakeroot mksquashfs

cd "$TEST_TMP"
printf '%s\n' '("dir", "./")' '("reg", "./file")' | make_tarball_from_spec rootfs.tar
good_sha=$(sha256_of rootfs.tar)
bad_sha=$(printf '%064d' 0 | tr 0 a)

# bad_recipe NAME WANT_LOCATION WANT_TEXT < RECIPE: the recipe is refused before any work starts.
bad_recipe() {
  local name=$1 location=$2 text=$3
  cat >recipe.yaml
  pack recipe.yaml out
  expect_failed "$name: refused (exit status $RC)"
  expect_contains "$name: stderr names the place" "$ERR" "recipe.yaml:$location"
  expect_contains "$name: stderr explains" "$ERR" "$text"
  check_no_leftovers "$TEST_TMP" out
}

bad_recipe "unknown key" "5:1:" "colour: unknown key" <<EOF
name: x
base:
  tarball:
    path: rootfs.tar
colour: red
EOF
bad_recipe "unknown nested key" "4:5:" "base.tarball.pth: unknown key" <<EOF
name: x
base:
  tarball:
    pth: rootfs.tar
EOF
bad_recipe "wrong type (mapping for a list)" "5:6:" "cmd: expected a list of strings" <<EOF
name: x
base:
  tarball:
    path: rootfs.tar
cmd: {a: b}
EOF
bad_recipe "wrong type (list for a mapping)" "2:6:" "env: expected a mapping" <<EOF
name: x
env: [A=1]
base:
  tarball:
    path: rootfs.tar
EOF
bad_recipe "wrong type (list for a string)" "1:7:" "name: expected a string" <<EOF
name: [x, y]
base:
  tarball:
    path: rootfs.tar
EOF
bad_recipe "missing base" "1:1:" "missing required key 'base'" <<EOF
name: x
cmd: [/bin/sh]
EOF
bad_recipe "url without sha256" "4:5:" "base.tarball: a remote url needs 'sha256'" <<EOF
name: x
base:
  tarball:
    url: http://127.0.0.1:9/rootfs.tar
EOF
bad_recipe "unknown compression" "6:16:" "squashfs.compression: 'brotli' is not one of" <<EOF
name: x
base:
  tarball:
    path: rootfs.tar
squashfs:
  compression: brotli
EOF
bad_recipe "bad block size" "6:15:" "squashfs.block_size" <<EOF
name: x
base:
  tarball:
    path: rootfs.tar
squashfs:
  block_size: 3K
EOF
bad_recipe "sha256 not hex" "5:13:" "base.tarball.sha256: expected 64 hex digits" <<EOF
name: x
base:
  tarball:
    path: rootfs.tar
    sha256: 1234
EOF
bad_recipe "YAML syntax error (reported where the parser gave up)" "4:1:" "end of sequence flow not found" <<EOF
name: x
base:
  tarball: [unclosed
EOF

# The location also carries the path the recipe was given by.
printf 'name: x\nbogus: 1\nbase:\n  tarball:\n    path: rootfs.tar\n' >"$TEST_TMP/abs.yaml"
pack "$TEST_TMP/abs.yaml" out
expect_contains "an absolute recipe path is named in full" "$ERR" "$TEST_TMP/abs.yaml:2:1: bogus"

# --- the base itself ---
printf 'name: x\nbase:\n  tarball:\n    path: no-such.tar\n' >recipe.yaml
pack recipe.yaml out
expect_failed "missing tarball: refused"
expect_contains "missing tarball: the path is named" "$ERR" "$TEST_TMP/no-such.tar"
check_no_leftovers "$TEST_TMP" out

printf 'name: x\nbase:\n  tarball:\n    path: rootfs.tar\n    sha256: %s\n' "$bad_sha" >recipe.yaml
pack recipe.yaml out
expect_failed "sha256 mismatch: refused"
expect_contains "sha256 mismatch: says so" "$ERR" "sha256 mismatch"
expect_contains "sha256 mismatch: names the expected digest" "$ERR" "$bad_sha"
expect_contains "sha256 mismatch: names the actual digest" "$ERR" "$good_sha"
expect_contains "sha256 mismatch: names the tarball" "$ERR" "rootfs.tar"
check_no_leftovers "$TEST_TMP" out

printf 'name: x\nbase:\n  directory: no-such-dir\n' >recipe.yaml
pack recipe.yaml out
expect_failed "missing base directory: refused"
expect_contains "missing base directory: the path is named" "$ERR" "$TEST_TMP/no-such-dir"
check_no_leftovers "$TEST_TMP" out

printf 'not a tarball\n' >junk.tar
printf 'name: x\nbase:\n  tarball:\n    path: junk.tar\n' >recipe.yaml
pack recipe.yaml out
expect_failed "a file that is not a tarball: refused"
expect_contains "a file that is not a tarball: the path is named" "$ERR" "junk.tar"
check_no_leftovers "$TEST_TMP" out

# --- command line and output ---
pack no-such-recipe.yaml out
expect_failed "missing recipe: refused"
expect_contains "missing recipe: the path is named" "$ERR" "no-such-recipe.yaml"
check_no_leftovers "$TEST_TMP" out

printf 'name: x\nbase:\n  tarball:\n    path: rootfs.tar\n' >recipe.yaml
run "$PACK" recipe.yaml
expect_rc "no -o: usage error (exit 2)" 2
expect_contains "no -o: says what is missing" "$OUT$ERR" "output"

pack recipe.yaml no-such-dir/out
expect_failed "output in a missing directory: refused"
expect_contains "output in a missing directory: the directory is named" "$ERR" "$TEST_TMP/no-such-dir"
expect_false "output in a missing directory: the directory was not created" test -e no-such-dir

mkdir out-dir
pack recipe.yaml out-dir
expect_failed "output is a directory: refused"
expect_contains "output is a directory: says so" "$ERR" "is a directory"
check_no_leftovers "$TEST_TMP"
expect_eq "output is a directory: the directory is untouched" "$(ls -A out-dir)" ""

pack recipe.yaml out --runtime "$TEST_TMP/no-such-runtime"
expect_failed "missing runtime stub: refused"
expect_contains "missing runtime stub: the path is named" "$ERR" "$TEST_TMP/no-such-runtime"
check_no_leftovers "$TEST_TMP" out

# --- a failed build never touches an existing output ---
printf 'precious contents\n' >existing
chmod 640 existing
before=$(sha256_of existing)
inode=$(stat -c %i existing)
for recipe in sha bad-key hostile; do
  case $recipe in
    sha) printf 'name: x\nbase:\n  tarball:\n    path: rootfs.tar\n    sha256: %s\n' "$bad_sha" >r.yaml ;;
    bad-key) printf 'name: x\nbase:\n  tarball:\n    path: rootfs.tar\nbogus: 1\n' >r.yaml ;;
    hostile)
      printf '%s\n' '("dir", "./")' '("reg", "../escape")' | make_tarball_from_spec hostile.tar
      printf 'name: x\nbase:\n  tarball:\n    path: hostile.tar\n' >r.yaml
      ;;
  esac
  pack r.yaml existing
  expect_failed "existing output, failing build ($recipe): refused"
  expect_eq "existing output, failing build ($recipe): contents unchanged" "$(sha256_of existing)" "$before"
  expect_eq "existing output, failing build ($recipe): same file (inode)" "$(stat -c %i existing)" "$inode"
  expect_eq "existing output, failing build ($recipe): mode unchanged" "$(stat -c %a existing)" 640
  check_no_leftovers "$TEST_TMP"
done

# An appliance given as the runtime stub is refused (it has data after its ELF image) and the
# existing output survives that too.
must_pack recipe.yaml appliance
pack recipe.yaml existing --runtime "$TEST_TMP/appliance"
expect_failed "an appliance as the runtime stub: refused"
expect_contains "an appliance as the runtime stub: says why" "$ERR" "after its ELF image"
expect_eq "an appliance as the runtime stub: existing output unchanged" "$(sha256_of existing)" "$before"
check_no_leftovers "$TEST_TMP"

# And a successful build does replace it, with a new file (rename, not an in-place rewrite).
pack recipe.yaml existing
expect_rc "existing output, good build: succeeds" 0
expect_ne "existing output, good build: replaced" "$(sha256_of existing)" "$before"
expect_ne "existing output, good build: a new inode" "$(stat -c %i existing)" "$inode"
expect_eq "existing output, good build: executable" "$(stat -c %a existing)" 755
check_no_leftovers "$TEST_TMP"
