#!/usr/bin/env bash
# `havre-pack --json`: stdout holds exactly one JSON document describing what was written (path,
# size, sha256 of the file, image and manifest as the footer records them, bases, build time,
# "signature": null) and nothing else -- logs stay on stderr, also from a reused cached image. A
# failed build prints nothing on stdout and exits 1; a bad command line exits 2.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

require_binaries
require_cmd fakeroot mksquashfs

cd "$TEST_TMP"
make_busybox_tarball rootfs.tar.gz
printf 'name: json\nbase:\n  tarball:\n    path: rootfs.tar.gz\n    sha256: %s\n' "$(sha256_of rootfs.tar.gz)" >recipe.yaml

# check_summary FILE APP FROM_CACHE: the summary against the file itself and its footer (info --json).
check_summary() {
  local summary=$1 app=$2 from_cache=$3
  load_json J "$summary"
  info_json "$app" "$app.info.json" I
  expect_eq "$app: output is the absolute path" "${J[output]}" "$TEST_TMP/$app"
  expect_eq "$app: size is the file's" "${J[size]}" "$(stat -c %s "$app")"
  expect_eq "$app: sha256 is the file's" "${J[sha256]}" "$(sha256_of "$app")"
  expect_eq "$app: image offset as in the footer" "${J[image.offset]}" "${I[image_offset]}"
  expect_eq "$app: image size as in the footer" "${J[image.size]}" "${I[image_size]}"
  expect_eq "$app: image sha256 as in the footer" "${J[image.sha256]}" "${I[image_sha256]}"
  expect_eq "$app: image sha256 is the image's" "${J[image.sha256]}" \
    "$(sha256_range "$app" "${I[image_offset]}" "${I[image_size]}")"
  expect_eq "$app: image from the cache" "${J[image.from_cache]}" "$from_cache"
  expect_eq "$app: manifest offset as in the footer" "${J[manifest.offset]}" "${I[manifest_offset]}"
  expect_eq "$app: manifest size as in the footer" "${J[manifest.size]}" "${I[manifest_size]}"
  expect_eq "$app: manifest sha256 as in the footer" "${J[manifest.sha256]}" "${I[manifest_sha256]}"
  expect_eq "$app: the bases, as in the manifest" "${J[bases]}" "${I[manifest.build.bases]}"
  expect_eq "$app: the base's sha256 is the tarball's" "${J[bases.0.sha256]}" "$(sha256_of rootfs.tar.gz)"
  expect_eq "$app: the build time is the image's creation time" "${J[source_date_epoch.seconds]}" "${I[squashfs.mkfs_time]}"
  expect_eq "$app: havre_version" "${J[havre_version]}" "${I[runtime_version]}"
  expect_eq "$app: not signed" "${J[signature]}" null
}

# --- a build, then the same build from the image cache -----------------------------------------
pack recipe.yaml first.app --json
expect_rc "--json: the build succeeds" 0
printf '%s\n' "$OUT" >first.json
expect_true "--json: stdout is one JSON document and nothing else" "$PYTHON" -I -S -c '
import json, sys
text = open(sys.argv[1]).read()
doc, end = json.JSONDecoder().raw_decode(text)
sys.exit(0 if isinstance(doc, dict) and text[end:].strip() == "" else 1)' first.json
expect_contains "--json: the logs are on stderr" "$ERR" "havre-pack: wrote"
check_summary first.json first.app false
expect_eq "--json: the build time comes from the base" "${J[source_date_epoch.from]}" base
expect_eq "--json: the busybox tarball's time" "${J[source_date_epoch.seconds]}" 1700000000

pack recipe.yaml second.app --json
expect_rc "--json, cached image: the build succeeds" 0
printf '%s\n' "$OUT" >second.json
expect_contains "--json, cached image: the image was reused" "$ERR" "image unchanged"
check_summary second.json second.app true
expect_eq "--json, cached image: the same file as the first build" "${J[sha256]}" "$(sha256_of first.app)"
expect_eq "--json, cached image: the build time read back from the image" "${J[source_date_epoch.seconds]}" 1700000000

SOURCE_DATE_EPOCH=1750000000 pack recipe.yaml chosen.app --json -q
expect_rc "--json -q, SOURCE_DATE_EPOCH: the build succeeds" 0
printf '%s\n' "$OUT" >chosen.json
expect_eq "--json -q: nothing on stderr" "$ERR" ""
check_summary chosen.json chosen.app false
expect_eq "--json, SOURCE_DATE_EPOCH: named as the source" "${J[source_date_epoch.from]}" environment
expect_eq "--json, SOURCE_DATE_EPOCH: its value" "${J[source_date_epoch.seconds]}" 1750000000

# --- failures: nothing on stdout, and the documented exit statuses -----------------------------
printf 'name: broken\nbase:\n  tarball:\n    path: no-such.tar.gz\n' >broken.yaml
pack broken.yaml broken.app --json
expect_rc "--json, a failed build: exit status 1" 1
expect_eq "--json, a failed build: nothing on stdout" "$OUT" ""
expect_contains "--json, a failed build: the error is on stderr" "$ERR" "no-such.tar.gz"

run "$PACK" recipe.yaml --json --no-such-option
expect_rc "a bad command line: exit status 2" 2
run "$PACK" --help
expect_rc "--help: exit status 0" 0
expect_contains "--help documents --json" "$OUT" "--json"
expect_contains "--help documents the exit statuses" "$OUT" "2 bad command line; 128+N interrupted by signal N"
