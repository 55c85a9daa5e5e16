#!/usr/bin/env bash
# A damaged image cache entry is never copied into an appliance: havre-pack records each cached
# image's sha256 beside it (images/KEY.sha256) and checks it on reuse. One flipped byte, or a lost
# record, gives a one-line warning and a rebuild; the rebuilt entry is then reused. (Before, the
# damaged bytes went into an appliance whose footer vouched for them: `verify` said ok, `run` crashed.)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/recipe_lib.sh"

require_binaries
require_cmd mksquashfs
require_alpine_tarball
cd "$TEST_TMP"
cache=$XDG_CACHE_HOME/havre

alpine_recipe recipe.yaml integrity <<'EOF'
cmd: [/bin/cat, /etc/alpine-release]
squashfs: {compression: gzip}
EOF

must_pack recipe.yaml app1
image=$(ls "$cache"/images/*.sqfs)
record=${image%.sqfs}.sha256
expect_true "the cached image has a record" test -f "$record"
expect_eq "the record is the image's sha256" "$(cat "$record")" "$(sha256_of "$image")"
expect_not_contains "cache list shows no record as an entry" "$("$PACK" cache list)" ".sha256"

check_app() {  # DESC APP
  run ./"$2" verify
  expect_rc "$1: verify says intact" 0
  run ./"$2"
  expect_rc "$1: runs" 0
  expect_eq "$1: prints the release" "$OUT" "$(tar -xOzf "$ALPINE_TARBALL" ./etc/alpine-release)"
}

# One byte in the middle of the image (file data, not the superblock).
"$PYTHON" -I -S - "$image" <<'EOF'
import os, sys
path = sys.argv[1]
with open(path, "r+b") as f:
    f.seek(os.path.getsize(path) // 2)
    b = f.read(1)
    f.seek(-1, 1)
    f.write(bytes([b[0] ^ 0x40]))
EOF
expect_ne "the byte is flipped" "$(sha256_of "$image")" "$(cat "$record")"
pack recipe.yaml app2
expect_rc "flipped byte: the build succeeds" 0
expect_contains "flipped byte: a warning says why it rebuilds" "$ERR" "rebuilding the image: the cached one is unusable"
expect_eq "flipped byte: the warning is one line" "$(grep -c 'rebuilding the image' <<<"$ERR")" "1"
expect_not_contains "flipped byte: the damaged image is not reused" "$ERR" "image unchanged"
check_app "flipped byte" app2
expect_eq "flipped byte: the entry is replaced by a good one" "$(sha256_of "$image")" "$(cat "$record")"

pack recipe.yaml app3
expect_rc "after the rebuild: the build succeeds" 0
expect_contains "after the rebuild: the new entry is reused" "$ERR" "image unchanged: reusing"
check_app "after the rebuild" app3
expect_same_file "after the rebuild: the same appliance as the rebuild" app2 app3

# An entry whose record is lost (or one from before records existed) is not trusted either.
rm "$record"
pack recipe.yaml app4
expect_rc "no record: the build succeeds" 0
expect_contains "no record: rebuilt with a warning" "$ERR" "no sha256 recorded"
check_app "no record" app4
expect_true "no record: the rebuilt entry has one" test -f "$record"

run "$PACK" cache prune --max-size 0
expect_rc "prune: succeeds" 0
expect_false "prune: removes the image" test -e "$image"
expect_false "prune: removes its record" test -e "$record"
