#!/usr/bin/env bash
# Remote bases: a url + sha256 tarball is downloaded from a local HTTP server into the
# content-addressed cache, reused with --offline, verified, and refused clearly when missing,
# not found or not matching. `havre-pack cache add` seeds the cache for air-gapped builds.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

require_binaries
require_cmd fakeroot mksquashfs unsquashfs tar

cd "$TEST_TMP"
export SOURCE_DATE_EPOCH=1700000000  # reproducible images: the offline build must equal the online one
mkdir srv
make_busybox_tarball srv/rootfs.tar.gz
sha=$(sha256_of srv/rootfs.tar.gz)
tarball_listing srv/rootfs.tar.gz >tar.list

# A local HTTP server on a free port (port 0: the kernel picks, the server prints it).
"$PYTHON" -u -m http.server --bind 127.0.0.1 --directory srv 0 >server.out 2>server.log &
register_pid $!
port=""
for ((i = 0; i < 100; i++)); do
  port=$(sed -n 's/.*port \([0-9][0-9]*\).*/\1/p' server.out | head -n1)
  [[ -n $port ]] && break
  sleep 0.1
done
[[ -n $port ]] || fail "the HTTP server did not start: $(cat server.out server.log)"
url=http://127.0.0.1:$port/rootfs.tar.gz
requests() { grep -c 'GET /rootfs.tar.gz' server.log || true; }

recipe() {  # FILE URL SHA
  printf 'name: from-url\nbase:\n  tarball:\n    url: %s\n    sha256: %s\n' "$2" "$3" >"$1"
}
recipe url.yaml "$url" "$sha"

# --- download into the cache ---
pack url.yaml app --cache-dir cache
expect_rc "download: the build succeeds" 0
expect_contains "download: says what it downloads" "$ERR" "downloading $url"
expect_eq "download: one request reached the server" "$(requests)" 1
expect_true "download: the cache holds sha256/<hex>" test -f "cache/sha256/$sha"
expect_eq "download: the cached file has that sha256" "$(sha256_of "cache/sha256/$sha")" "$sha"
expect_eq "download: nothing left in the cache's tmp/" "$(ls -A cache/tmp 2>/dev/null)" ""
check_no_leftovers "$TEST_TMP"
info_json app info.json I
expect_eq "download: manifest base source is the url" "${I[manifest.build.bases.0.source]}" "$url"
expect_eq "download: manifest base sha256" "${I[manifest.build.bases.0.sha256]}" "$sha"
image_listing app "${I[image_offset]}" >image.list
expect_same_file "download: image entries equal the tarball's" tar.list image.list

# --- offline, from the cache ---
pack url.yaml app-offline --cache-dir cache --offline
expect_rc "offline: the build succeeds from the cache" 0
expect_eq "offline: no request reached the server" "$(requests)" 1
expect_eq "offline: the very same image as the online build" \
  "$(json_get <(./app-offline info --json) image_sha256)" "${I[image_sha256]}"

pack url.yaml app-again --cache-dir cache
expect_rc "cached: an online build succeeds" 0
expect_eq "cached: and does not download again" "$(requests)" 1

pack url.yaml app-empty --cache-dir empty-cache --offline
expect_failed "offline, empty cache: refused"
expect_contains "offline, empty cache: names the url" "$ERR" "$url"
expect_contains "offline, empty cache: mentions --offline" "$ERR" "offline"
expect_eq "offline, empty cache: no request reached the server" "$(requests)" 1
check_no_leftovers "$TEST_TMP" app-empty

# --- the default cache directory: $XDG_CACHE_HOME/havre ---
XDG_CACHE_HOME=$TEST_TMP/xdg run "$PACK" url.yaml -o app-xdg
expect_rc "XDG_CACHE_HOME: the build succeeds" 0
expect_true "XDG_CACHE_HOME: the download lands in \$XDG_CACHE_HOME/havre/sha256/<hex>" \
  test -f "xdg/havre/sha256/$sha"

# --- a damaged cache entry is downloaded again ---
printf 'garbage' >>"cache/sha256/$sha"
pack url.yaml app-repaired --cache-dir cache
expect_rc "damaged cache entry: the build succeeds" 0
expect_contains "damaged cache entry: warns about it" "$ERR" "damaged"
expect_eq "damaged cache entry: downloaded again" "$(requests)" 3
expect_eq "damaged cache entry: repaired in the cache" "$(sha256_of "cache/sha256/$sha")" "$sha"

# --- failures ---
recipe missing.yaml "http://127.0.0.1:$port/no-such.tar.gz" "$sha"
pack missing.yaml app-404 --cache-dir cache404
expect_failed "404: refused"
expect_contains "404: names the url" "$ERR" "http://127.0.0.1:$port/no-such.tar.gz"
expect_contains "404: says 404" "$ERR" "404"
expect_eq "404: nothing cached" "$(ls -A cache404/sha256)" ""
expect_eq "404: no partial download left in the cache" "$(ls -A cache404/tmp)" ""
check_no_leftovers "$TEST_TMP" app-404

wrong=$(printf '%064d' 0 | tr 0 b)
recipe wrong.yaml "$url" "$wrong"
pack wrong.yaml app-wrong --cache-dir cache-wrong
expect_failed "wrong sha256: refused"
expect_contains "wrong sha256: says sha256 mismatch" "$ERR" "sha256 mismatch"
expect_contains "wrong sha256: names the url" "$ERR" "$url"
expect_contains "wrong sha256: names the expected digest" "$ERR" "$wrong"
expect_contains "wrong sha256: names the actual digest" "$ERR" "$sha"
expect_eq "wrong sha256: nothing cached" "$(ls -A cache-wrong/sha256)" ""
expect_eq "wrong sha256: no partial download left in the cache" "$(ls -A cache-wrong/tmp)" ""
check_no_leftovers "$TEST_TMP" app-wrong

# A port nothing listens on (the server's, once it is gone would race; ask the kernel for one).
closed=$("$PYTHON" -I -S -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
recipe refused.yaml "http://127.0.0.1:$closed/rootfs.tar.gz" "$sha"
pack refused.yaml app-refused --cache-dir cache-refused
expect_failed "connection refused: refused"
expect_contains "connection refused: names the url" "$ERR" "http://127.0.0.1:$closed/rootfs.tar.gz"
check_no_leftovers "$TEST_TMP" app-refused

# --- cache add: seeding for air-gapped builds ---
cp srv/rootfs.tar.gz seed.tar.gz
run "$PACK" cache --cache-dir seeded add seed.tar.gz
expect_rc "cache add: succeeds" 0
expect_eq "cache add: prints '<sha256>  FILE'" "$OUT" "$sha  seed.tar.gz"
expect_true "cache add: the file is in the cache under its sha256" cmp -s seed.tar.gz "seeded/sha256/$sha"
run "$PACK" cache --cache-dir seeded add seed.tar.gz
expect_rc "cache add: adding again succeeds" 0
expect_eq "cache add: adding again prints the same line" "$OUT" "$sha  seed.tar.gz"
recipe airgap.yaml "http://127.0.0.1:$closed/rootfs.tar.gz" "$sha"
pack airgap.yaml app-airgap --cache-dir seeded --offline
expect_rc "cache add: an offline build of an unreachable url succeeds from the seeded cache" 0
expect_eq "cache add: manifest records the url" "$(json_get <(./app-airgap info --json) manifest.build.bases.0.source)" \
  "http://127.0.0.1:$closed/rootfs.tar.gz"

run "$PACK" cache --cache-dir seeded add no-such-file
expect_failed "cache add: a missing file is refused"
expect_contains "cache add: names the missing file" "$OUT$ERR" "no-such-file"
