#!/usr/bin/env bash
# recipes/alpine.yaml (base: alpine) built offline from a seeded cache: Alpine's servers are not
# needed once `havre-pack cache add` holds the release tarball. Without the seed, --offline refuses
# naming the upstream URL and writes nothing.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/recipe_lib.sh"

require_binaries
require_cmd fakeroot mksquashfs
require_alpine_tarball

recipe=$HAVRE_SOURCE/recipes/alpine.yaml
[[ -f $recipe ]] || fail "$recipe is missing"
cd "$TEST_TMP"

# --- without the seed: --offline refuses, naming the URL ---
pack "$recipe" app-unseeded --cache-dir cache --offline
expect_failed "unseeded --offline: refused"
expect_contains "unseeded --offline: names the upstream URL" "$ERR" "$ALPINE_URL"
expect_contains "unseeded --offline: says it is not in the cache" "$ERR" "not in the cache"
expect_contains "unseeded --offline: mentions --offline" "$ERR" "--offline"
expect_eq "unseeded --offline: nothing on stdout" "$OUT" ""
expect_eq "unseeded --offline: nothing cached" "$(ls -A cache/sha256 2>/dev/null || true)" ""
expect_cache_tmp_empty "unseeded --offline: nothing in the cache's tmp/" cache
check_no_leftovers "$TEST_TMP" app-unseeded

# --- seed the cache ---
run "$PACK" cache --cache-dir cache add "$ALPINE_TARBALL"
expect_rc "cache add: succeeds" 0
expect_eq "cache add: prints the tarball's sha256 and name" "$OUT" "$ALPINE_SHA256  $ALPINE_TARBALL"
expect_true "cache add: the tarball is in cache/sha256/<hex>" cmp -s "$ALPINE_TARBALL" "cache/sha256/$ALPINE_SHA256"

# --- offline build of the recipe ---
pack "$recipe" alpine --cache-dir cache --offline
expect_rc "offline build from the seeded cache: succeeds" 0
expect_not_contains "offline build: downloads nothing" "$ERR" "downloading"
expect_contains "offline build: unpacks the cached tarball" "$ERR" "unpacking $TEST_TMP/cache/sha256/$ALPINE_SHA256"
check_no_leftovers "$TEST_TMP"
[[ -x alpine ]] || fail "no appliance was written: $ERR"

info_json alpine info.json I
expect_eq "manifest: one base" "$("$PYTHON" -I -S -c 'import json,sys; print(len(json.loads(sys.argv[1])))' "${I[manifest.build.bases]}")" 1
expect_eq "manifest: base kind is alpine" "${I[manifest.build.bases.0.kind]}" alpine
expect_eq "manifest: base source is the upstream URL" "${I[manifest.build.bases.0.source]}" "$ALPINE_URL"
expect_eq "manifest: base sha256" "${I[manifest.build.bases.0.sha256]}" "$ALPINE_SHA256"
expect_eq "manifest: name" "${I[manifest.name]}" alpine
expect_eq "manifest: version" "${I[manifest.version]}" 3.20.3
expect_eq "manifest: cmd" "${I[manifest.cmd]}" '["/bin/sh","-l"]'
expect_eq "manifest: hostname" "${I[manifest.hostname]}" alpine
expect_eq "manifest: label" "${I[manifest.labels.org.opencontainers.image.source]:-}" "https://alpinelinux.org"

run ./alpine run cat /etc/alpine-release
expect_rc "run cat /etc/alpine-release: exit status 0" 0
expect_eq "run cat /etc/alpine-release: 3.20.3" "$OUT" 3.20.3
run ./alpine run hostname
expect_eq "run hostname: the recipe's hostname" "$OUT" alpine
run ./alpine run id -u
expect_eq "run: as root" "$OUT" 0
# The default command is a login shell (it read /etc/profile, which sets PAGER); it reads stdin.
run sh -c 'echo "cat /etc/alpine-release; echo \"pager=\$PAGER\"" | ./alpine'
expect_rc "default cmd (/bin/sh -l) runs: exit status 0" 0
expect_eq "default cmd (/bin/sh -l) is a login shell reading stdin" "$OUT" $'3.20.3\npager=less'

# --- the same offline build from the default cache ($XDG_CACHE_HOME/havre) ---
run "$PACK" cache add "$ALPINE_TARBALL"
expect_rc "cache add (default cache dir): succeeds" 0
expect_true "cache add (default cache dir): lands in \$XDG_CACHE_HOME/havre/sha256" \
  test -f "$XDG_CACHE_HOME/havre/sha256/$ALPINE_SHA256"
run "$PACK" "$recipe" -o alpine2 --offline
expect_rc "offline build from \$XDG_CACHE_HOME/havre: succeeds" 0
run ./alpine2 run cat /etc/alpine-release
expect_eq "offline build from \$XDG_CACHE_HOME/havre: runs" "$OUT" 3.20.3

# --- a damaged seed is not used offline ---
mkdir -p damaged/sha256
head -c 1000 "$ALPINE_TARBALL" >"damaged/sha256/$ALPINE_SHA256"
pack "$recipe" app-damaged --cache-dir damaged --offline
expect_failed "damaged seed, --offline: refused"
expect_contains "damaged seed, --offline: names the URL" "$ERR" "$ALPINE_URL"
check_no_leftovers "$TEST_TMP" app-damaged
