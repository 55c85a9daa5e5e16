#!/usr/bin/env bash
# The image cache: a rebuild from unchanged inputs reuses the image ("image unchanged") instead of
# running the build steps again; any input of the image (a files source, a run step, exclude,
# env, squashfs options) rebuilds it; manifest-only changes (cmd) reuse the image but write the
# new manifest; --no-image-cache rebuilds. `cache list` shows the images, `cache prune` removes
# them by size and age. Needs root (the recipe has run steps).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/recipe_lib.sh"

require_binaries
require_root "the recipe's run steps need root"
require_cmd mksquashfs
require_alpine_tarball

cd "$TEST_TMP"
cache=$XDG_CACHE_HOME/havre
mkdir -p src
printf 'version 1\n' >src/data.txt

# The first step writes a random build id: the same id in two appliances means the same image.
# It sleeps so that a real build is measurably slower than reusing the image.
write_recipe() {  # FILE with overrides through variables
  alpine_recipe recipe.yaml cached <<EOF
files:
  - {src: src/data.txt, dst: /etc/data.txt, mode: "${MODE:-0644}"}
run:
  - cat /proc/sys/kernel/random/uuid >/build-id; sleep 1${STEP_TAIL:-}
${EXTRA_STEP:-}
exclude: [${EXCLUDE:-"/etc/motd"}]
env: {STAGE: ${STAGE:-one}}
cmd: [${CMD:-/bin/cat, /build-id}]
squashfs: {compression: ${COMP:-zstd}}
EOF
}

LAST_MS=0
BUILD_ERR=""
build() {  # OUT [ARGS...]; sets LAST_MS, BUILD_ERR; a failed build ends the test
  local out=$1 start
  shift
  start=$(now_ms)
  pack recipe.yaml "$out" "$@"
  LAST_MS=$(($(now_ms) - start))
  BUILD_ERR=$ERR
  ((RC == 0)) || fail "havre-pack recipe.yaml -o $out $* failed with exit status $RC: $ERR"
}
build_id() { ./"$1" run cat /build-id; }

# Expects OUT to be a fresh build (steps ran, new build id) or a reused image (same id as REF).
expect_rebuilt() {  # DESC OUT REF_APP
  expect_not_contains "$1: not reported unchanged" "$BUILD_ERR" "image unchanged"
  expect_contains "$1: the steps ran" "$BUILD_ERR" "[step 1]"
  expect_ne "$1: a new build id" "$(build_id "$2")" "$(build_id "$3")"
}
expect_reused() {  # DESC OUT REF_APP
  expect_contains "$1: reported unchanged" "$BUILD_ERR" "havre-pack: image unchanged: reusing $cache/images/"
  expect_not_contains "$1: no step ran" "$BUILD_ERR" "[step 1]"
  expect_eq "$1: the same build id" "$(build_id "$2")" "$(build_id "$3")"
}

# --- first build, then an unchanged rebuild ---
write_recipe
build first
first_ms=$LAST_MS
expect_not_contains "first build: not reported unchanged" "$BUILD_ERR" "image unchanged"
expect_eq "first build: one image cached" "$(find "$cache/images" -name '*.sqfs' | wc -l)" 1
image_file=$(find "$cache/images" -name '*.sqfs' | head -n1)
check_no_leftovers "$TEST_TMP"
expect_cache_tmp_empty "first build: nothing left in the cache's tmp/" "$cache"

build second
second_ms=$LAST_MS
expect_reused "unchanged rebuild" second first
say "first build ${first_ms} ms, unchanged rebuild ${second_ms} ms"
expect_true "unchanged rebuild: much faster (${second_ms} ms vs ${first_ms} ms)" test $((second_ms * 2)) -lt "$first_ms"
expect_eq "unchanged rebuild: the very same image" \
  "$(json_get <(./second info --json) image_sha256)" "$(json_get <(./first info --json) image_sha256)"
expect_eq "unchanged rebuild: still one image cached" "$(find "$cache/images" -name '*.sqfs' | wc -l)" 1
check_no_leftovers "$TEST_TMP"

# --- manifest-only change: cmd ---
CMD='/bin/echo, new-cmd' write_recipe
build cmd-changed
expect_reused "cmd changed" cmd-changed first
expect_eq "cmd changed: the manifest has the new cmd" "$(json_get <(./cmd-changed info --json) manifest.cmd)" \
  '["/bin/echo","new-cmd"]'
run ./cmd-changed
expect_eq "cmd changed: the appliance runs the new cmd" "$OUT" new-cmd
write_recipe

# --- inputs of the image: each change rebuilds ---
printf 'version 2\n' >src/data.txt
build files-changed
expect_rebuilt "files source changed" files-changed first
run ./files-changed run cat /etc/data.txt
expect_eq "files source changed: the image has the new content" "$OUT" "version 2"
printf 'version 1\n' >src/data.txt
build files-back
expect_reused "files source changed back" files-back first

MODE=0600 write_recipe
build mode-changed
expect_rebuilt "files mode changed" mode-changed first

EXTRA_STEP='  - echo second step' write_recipe
build step-added
expect_rebuilt "a run step added" step-added first
STEP_TAIL='; true' write_recipe
build step-changed
expect_rebuilt "a run step changed" step-changed first

EXCLUDE='"/etc/motd", "/etc/issue"' write_recipe
build exclude-changed
expect_rebuilt "exclude changed" exclude-changed first
run ./exclude-changed run test -e /etc/issue
expect_rc "exclude changed: the new glob applies" 1

STAGE=two write_recipe
build env-changed
expect_rebuilt "env changed (steps see it)" env-changed first

COMP=gzip write_recipe
build squashfs-changed
expect_rebuilt "squashfs compression changed" squashfs-changed first
expect_eq "squashfs compression changed: the image is gzip" \
  "$(json_get <(./squashfs-changed info --json) squashfs.compression)" gzip

# The build steps see the recipe's name as their hostname, so the name is an input of the image.
write_recipe
sed -i 's/^name: cached$/name: renamed/' recipe.yaml
sed -i 's|random/uuid >/build-id;|random/uuid >/build-id; hostname >/built-on;|' recipe.yaml
build name-v1
sed -i 's/^name: renamed$/name: renamed-again/' recipe.yaml
build name-v2
run ./name-v2 run cat /built-on
expect_eq "name changed: a step that records the hostname sees the new name" "$OUT" renamed-again

# --- --no-image-cache ---
write_recipe
build no-cache --no-image-cache
expect_rebuilt "--no-image-cache" no-cache first

# --- cache list ---
images_before=$(find "$cache/images" -name '*.sqfs' | wc -l)
run "$PACK" cache add "$ALPINE_TARBALL"
expect_rc "cache add: succeeds" 0
run "$PACK" cache list
expect_rc "cache list: succeeds" 0
expect_contains "cache list: lists the first image" "$OUT" "$image_file"
expect_eq "cache list: one 'image' line per cached image" "$(grep -c '^image ' <<<"$OUT" || true)" "$images_before"
expect_contains "cache list: lists the download" "$OUT" "$cache/sha256/$ALPINE_SHA256"
expect_eq "cache list: the download's kind" "$(grep -c "^download .*$ALPINE_SHA256" <<<"$OUT" || true)" 1
expect_contains "cache list: a total line" "$OUT" "$((images_before + 1)) entries"
run "$PACK" cache --cache-dir "$cache" list
expect_rc "cache list --cache-dir: succeeds" 0
expect_contains "cache list --cache-dir: the same entries" "$OUT" "$((images_before + 1)) entries"

# --- cache prune --older-than: recent entries stay, old ones go ---
old_image=$(find "$cache/images" -name '*.sqfs' ! -path "$image_file" | head -n1)
touch -d '40 days ago' "$old_image"
touch -d '40 days ago' "$cache/tmp/download-stale"
run "$PACK" cache prune --older-than 30
expect_rc "prune --older-than 30: succeeds" 0
expect_contains "prune --older-than 30: reports the old image" "$OUT" "removed $old_image"
expect_absent "prune --older-than 30: the old image is gone" "$old_image"
expect_absent "prune --older-than 30: a stale temporary file is gone" "$cache/tmp/download-stale"
expect_true "prune --older-than 30: the recent image stays" test -f "$image_file"
expect_true "prune --older-than 30: the recent download stays" test -f "$cache/sha256/$ALPINE_SHA256"
expect_eq "prune --older-than 30: the others stay" "$(find "$cache/images" -name '*.sqfs' | wc -l)" $((images_before - 1))
run "$PACK" cache prune --older-than 1
expect_rc "prune --older-than 1: succeeds" 0
expect_eq "prune --older-than 1: keeps everything used today" "$(find "$cache/images" -name '*.sqfs' | wc -l)" $((images_before - 1))
expect_contains "prune --older-than 1: reports nothing freed" "$OUT" "freed 0.0 MB"

# A reused image counts as used: it is touched.
touch -d '40 days ago' "$image_file"
build reuse-touches
expect_reused "reuse after 40 days idle" reuse-touches first
expect_true "reuse marks the image as used (mtime now)" test -z "$(find "$image_file" -mtime +1)"

# --- cache prune --max-size ---
run "$PACK" cache prune --max-size lots
expect_rc "prune --max-size lots: a usage error (exit status 2)" 2
expect_contains "prune --max-size lots: says it is not a size" "$OUT$ERR" "'lots' is not a size"
run "$PACK" cache prune --max-size 10X
expect_rc "prune --max-size 10X: a usage error (exit status 2)" 2
expect_true "prune with bad sizes removed nothing" test -f "$image_file"
run "$PACK" cache prune --older-than soon
expect_rc "prune --older-than soon: a usage error (exit status 2)" 2

# Each image's sha256 record (images/KEY.sha256) goes with its image and is not an entry.
entries=$(find "$cache/images" "$cache/sha256" -type f ! -name '*.sha256' | wc -l)
run "$PACK" cache prune --max-size 0
expect_rc "prune --max-size 0: succeeds" 0
expect_eq "prune --max-size 0: one 'removed' line per entry" "$(grep -c '^removed ' <<<"$OUT" || true)" "$entries"
expect_contains "prune --max-size 0: reports the image" "$OUT" "removed $image_file ("
expect_contains "prune --max-size 0: reports the download" "$OUT" "removed $cache/sha256/$ALPINE_SHA256 ("
expect_contains "prune --max-size 0: reports what it freed" "$OUT" "freed "
expect_eq "prune --max-size 0: no image left" "$(find "$cache/images" -type f | wc -l)" 0
expect_eq "prune --max-size 0: no download left" "$(find "$cache/sha256" -type f | wc -l)" 0
run "$PACK" cache list
expect_contains "cache list after prune: 0 entries" "$OUT" "0 entries"

# After pruning, the image is built again.
build after-prune
expect_rebuilt "after prune" after-prune first
