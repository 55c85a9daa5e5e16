#!/usr/bin/env bash
# SLOW (about 1-2 minutes; needs the network to Debian's archive and root): a debootstrap base
# (Debian bookworm, minbase) with a files entry and a run step that installs a package with
# apt-get. The bootstrapped tree is cached as debootstrap/<key>.tar.zst: later builds of the same
# base say "cached" and never run debootstrap again (also with --offline). Without a cache entry,
# an unprivileged build is refused: debootstrap needs root. Outside CI, no network means a skip;
# under CI=true it is a failure.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/recipe_lib.sh"

require_binaries
require_root "debootstrap and run steps need root"
require_cmd mksquashfs unsquashfs
require_debian_archive bookworm

cd "$TEST_TMP"
cache=$XDG_CACHE_HOME/havre
printf 'hello from the host\n' >hello.txt
chmod 644 hello.txt

cat >jq.yaml <<'EOF'
name: bookworm-jq
version: "1"
base:
  debootstrap: {suite: bookworm, variant: minbase}
files:
  - {src: hello.txt, dst: /etc/havre/hello.txt, mode: "0640", owner: "0:1000"}
run:
  - apt-get update && apt-get install -y --no-install-recommends jq
  - |
    apt-get clean
    rm -rf /var/lib/apt/lists/*
    jq --version >/etc/havre/jq-version
exclude: ["/usr/share/doc/*", "/usr/share/man/*", "/var/cache/apt/*.bin"]
cmd: [/usr/bin/jq, --version]
EOF

# --- the first build bootstraps ---
start=$(now_ms)
pack jq.yaml jq.app
first_ms=$(($(now_ms) - start))
build_err=$ERR
say "first build (debootstrap + apt-get install jq): $first_ms ms"
((RC == 0)) || fail "the debootstrap build failed (exit status $RC): $build_err"
expect_contains "first build: runs debootstrap" "$build_err" "debootstrap bookworm (minbase): this takes a while"
expect_contains "first build: caches the bootstrapped tree" "$build_err" "caching the bootstrapped tree as $cache/debootstrap/"
expect_contains "first build: the apt-get step's output is prefixed" "$build_err" "[step 1] Setting up jq"
expect_eq "first build: nothing on stdout" "$OUT" ""
check_no_leftovers "$TEST_TMP"
expect_cache_tmp_empty "first build: nothing left in the cache's tmp/" "$cache"

mapfile -t trees < <(find "$cache/debootstrap" -type f)
expect_eq "cache: one debootstrap tree" "${#trees[@]}" 1
tree=${trees[0]:-}
expect_true "cache: the tree is debootstrap/<sha256>.tar.zst" \
  test -n "$(basename "$tree" | grep -E '^[0-9a-f]{64}\.tar\.zst$' || true)"
expect_true "cache: the tree is a valid zstd archive" zstd -q -t "$tree"
expect_true "cache: the tree holds a Debian root (etc/debian_version)" \
  test -n "$(zstd -dc "$tree" | tar -t 2>/dev/null | grep -E '^(\./)?etc/debian_version$' || true)"

info_json jq.app jq.json I
expect_eq "manifest: base kind" "${I[manifest.build.bases.0.kind]}" debootstrap
expect_eq "manifest: base source" "${I[manifest.build.bases.0.source]}" "debootstrap bookworm (minbase)"
expect_eq "manifest: base sha256 is the cached tree's" "${I[manifest.build.bases.0.sha256]}" "$(sha256_of "$tree")"

# --- the appliance ---
run ./jq.app run cat /etc/debian_version
expect_rc "run cat /etc/debian_version: exit status 0" 0
expect_true "Debian 12 (debian_version '$OUT')" test -n "$(grep -E '^12(\.|$)' <<<"$OUT" || true)"
run ./jq.app run jq --version
expect_rc "run jq --version: exit status 0" 0
expect_contains "run jq --version: jq is installed" "$OUT" "jq-1."
jq_version=$OUT
run sh -c "echo '{\"a\": [1, 2, 3]}' | ./jq.app run jq -c '.a | map(. * 2)'"
expect_eq "jq works on stdin" "$OUT" "[2,4,6]"
run ./jq.app
expect_eq "the default cmd runs jq --version" "$OUT" "$jq_version"
run ./jq.app run cat /etc/havre/jq-version
expect_eq "the multi-line step ran after the install" "$OUT" "$jq_version"
run ./jq.app run stat -c '%a %u:%g' /etc/havre/hello.txt
expect_eq "files: mode and owner" "$OUT" "640 0:1000"
run ./jq.app run cat /etc/havre/hello.txt
expect_eq "files: content" "$OUT" "hello from the host"
run ./jq.app run sh -c 'ls /var/lib/apt/lists | wc -l; ls /usr/share/doc | wc -l'
expect_eq "apt lists cleaned by the step, /usr/share/doc/* excluded" "$OUT" $'0\n0'

# --- later builds reuse the cached tree; debootstrap must not run ---
fake_failing_command fakebin debootstrap
export PATH=$TEST_TMP/fakebin:$PATH

pack jq.yaml jq-again.app
expect_rc "same recipe again: succeeds" 0
expect_contains "same recipe again: the tree is cached" "$ERR" "debootstrap bookworm: cached ($tree)"
expect_contains "same recipe again: the image is unchanged" "$ERR" "image unchanged"

# Another recipe on the same base: the cached tree is unpacked, without the first recipe's changes.
cat >plain.yaml <<'EOF'
name: bookworm-plain
base:
  debootstrap: {variant: minbase, suite: bookworm}
files:
  - {src: hello.txt, dst: /hello.txt}
cmd: [/bin/cat, /etc/debian_version]
squashfs: {compression: lz4}  # fast: this image only has to show the base
EOF
start=$(now_ms)
pack plain.yaml plain.app --offline
say "build from the cached tree: $(($(now_ms) - start)) ms"
expect_rc "another recipe, same base, --offline: succeeds" 0
expect_contains "another recipe, same base: the tree is cached" "$ERR" "debootstrap bookworm: cached ($tree)"
expect_not_contains "another recipe, same base: no bootstrap" "$ERR" "this takes a while"
expect_absent "debootstrap was not run again" fakebin/debootstrap.calls
check_no_leftovers "$TEST_TMP"
run ./plain.app
expect_true "another recipe, same base: Debian 12 ('$OUT')" test -n "$(grep -E '^12(\.|$)' <<<"$OUT" || true)"
run ./plain.app run cat /hello.txt
expect_eq "another recipe, same base: its files entry" "$OUT" "hello from the host"
run ./plain.app run sh -c 'command -v jq || echo none'
expect_eq "another recipe, same base: not the first recipe's image (no jq)" "$OUT" none
expect_eq "another recipe, same base: the same base sha256" \
  "$(json_get <(./plain.app info --json) manifest.build.bases.0.sha256)" "$(sha256_of "$tree")"

run "$PACK" cache list
expect_true "cache list: shows the debootstrap tree" \
  test -n "$(grep -E "^debootstrap .* $tree\$" <<<"$OUT" || true)"

# --- no cache entry ---
pack plain.yaml offline.app --offline --cache-dir empty-cache
expect_failed "empty cache, --offline: refused"
expect_contains "empty cache, --offline: says why" "$ERR" "debootstrap bookworm: not in the cache"
expect_absent "empty cache, --offline: debootstrap was not run" fakebin/debootstrap.calls
check_no_leftovers "$TEST_TMP" offline.app

ensure_test_user
outdir=$(test_user_dir unprivileged)
run as_test_user "$PACK" plain.yaml -o "$outdir/plain.app"
expect_failed "unprivileged, no cache entry: refused"
expect_contains "unprivileged, no cache entry: says debootstrap needs root" "$ERR" "debootstrap bookworm needs root"
expect_absent "unprivileged, no cache entry: debootstrap was not run" fakebin/debootstrap.calls
expect_absent "unprivileged, no cache entry: no output" "$outdir/plain.app"
check_no_leftovers "$outdir"
