#!/usr/bin/env bash
# havre-pack -o onto another filesystem than the stub and the cache (a tmpfs, as a CI volume would
# be), and a `files:` source on yet another one: copy_file_range refuses copies across filesystems
# (EXDEV), so the copies fall back to reads and writes. The first build copies the stub and the
# image out to the tmpfs and back into the cache; the second copies the cached image onto the tmpfs.
# (Before: "copy ... Invalid cross-device link".) The tmpfs mounts live in a private mount namespace.
set -euo pipefail
if [[ -z ${HAVRE_TEST_IN_MOUNT_NS:-} && $(id -u) -eq 0 ]]; then
  exec env HAVRE_TEST_IN_MOUNT_NS=1 unshare -m --propagation private bash "$0" "$@"
fi
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/recipe_lib.sh"

require_binaries
require_root "mounting a tmpfs needs root (in a private mount namespace)"
require_cmd mksquashfs unshare
require_alpine_tarball
cd "$TEST_TMP"

mkdir out src
mount -t tmpfs -o size=256m havre-test-out out
mount -t tmpfs -o size=16m havre-test-src src
expect_ne "the output is on another filesystem than the cache" "$(stat -c %d out)" "$(stat -c %d "$TEST_TMP")"
printf 'from another filesystem\n' >src/data.txt
alpine_recipe recipe.yaml crossfs <<EOF
files:
  - {src: $TEST_TMP/src/data.txt, dst: /etc/data.txt}
cmd: [/bin/cat, /etc/data.txt]
EOF

check_app() {  # DESC APP
  run "$1" verify
  expect_rc "$2: verify says intact" 0
  run "$1"
  expect_rc "$2: runs" 0
  expect_eq "$2: the files: entry from the other filesystem is in the image" "$OUT" "from another filesystem"
}

# Only the files: source elsewhere (output, stub and cache on one filesystem).
mkdir same
pack recipe.yaml same/app --no-image-cache
expect_rc "build with a files: source on another filesystem" 0
check_app same/app "files: source elsewhere"

pack recipe.yaml out/app
expect_rc "build onto a tmpfs (stub, files: source and image cache across filesystems)" 0
expect_not_contains "the first build caches its image" "$ERR" "not caching"
check_app out/app "first build"
expect_eq "the image is in the cache" "$(find "$XDG_CACHE_HOME/havre/images" -name '*.sqfs' | wc -l)" 1

pack recipe.yaml out/app2
expect_rc "rebuild onto the tmpfs from the image cache" 0
expect_contains "the rebuild reuses the cached image" "$ERR" "image unchanged"
check_app out/app2 "from the cache"
expect_same_file "the same appliance both ways" out/app out/app2
check_no_leftovers out
umount out src
