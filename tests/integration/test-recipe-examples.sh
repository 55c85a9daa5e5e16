#!/usr/bin/env bash
# SLOW (about 2-4 minutes; needs the network to Debian's archive and root): the shipped recipes.
# recipes/examples/wordcount builds a Python program on Debian bookworm into an appliance that
# behaves like the program (args: passthrough; --havre-* reaches the runtime);
# recipes/debian-bookworm.yaml builds from the same cached debootstrap tree; recipes/ubuntu-xenial.yaml
# parses and is refused only for want of Ubuntu's archive keyring (not packaged on Debian hosts).
# Outside CI, no network means a skip; under CI=true it is a failure.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/recipe_lib.sh"

require_binaries
require_root "debootstrap and run steps need root"
require_cmd mksquashfs
recipes=$HAVRE_SOURCE/recipes
for r in examples/wordcount/wordcount.yaml debian-bookworm.yaml ubuntu-xenial.yaml; do
  [[ -f $recipes/$r ]] || fail "$recipes/$r is missing"
done
require_debian_archive bookworm

cd "$TEST_TMP"
cache=$XDG_CACHE_HOME/havre

# --- recipes/examples/wordcount ---
start=$(now_ms)
pack "$recipes/examples/wordcount/wordcount.yaml" wordcount.app
say "wordcount build: $(($(now_ms) - start)) ms"
((RC == 0)) || fail "building the wordcount example failed (exit status $RC): $ERR"
expect_contains "wordcount: the steps ran" "$ERR" "[step 2] Setting up python3-minimal"
check_no_leftovers "$TEST_TMP"

run sh -c 'echo "a b c" | ./wordcount.app'
expect_rc "wordcount: stdin: exit status 0" 0
expect_eq "wordcount: stdin: 1 line, 3 words, 6 chars" "$OUT" "      1       3       6 -"
run ./wordcount.app --version
expect_rc "wordcount --version: exit status 0" 0
expect_contains "wordcount --version: names the program and Python 3" "$OUT" "wordcount 1.0 on Python 3."
expect_eq "wordcount --version: one line" "$(wc -l <<<"$OUT")" 1

# A file in the image, counted like the host's wc counts the source it was copied from.
src=$recipes/examples/wordcount/wordcount.py
want=$(printf '%7d %7d %7d %s' "$(wc -l <"$src")" "$(wc -w <"$src")" "$(wc -m <"$src")" /opt/wordcount/wordcount.py)
run ./wordcount.app /opt/wordcount/wordcount.py /etc/debian_version
expect_rc "wordcount FILES: exit status 0" 0
expect_eq "wordcount FILES: the first file's counts" "$(head -n1 <<<"$OUT")" "$want"
expect_contains "wordcount FILES: a total line" "$OUT" " total"
run ./wordcount.app /no/such/file
expect_rc "wordcount of a missing file: the program's exit status 1" 1
expect_eq "wordcount of a missing file: the program's message" "$ERR" "wordcount: /no/such/file: No such file or directory"

# --havre-*: the runtime's own commands.
run ./wordcount.app --havre-info
expect_rc "--havre-info: exit status 0" 0
expect_contains "--havre-info: the runtime's info (name)" "$OUT" "wordcount"
expect_contains "--havre-info: the runtime's info (base)" "$OUT" "debootstrap bookworm (minbase)"
expect_contains "--havre-info: the runtime's info (image)" "$OUT" "image sha256"
run ./wordcount.app --havre-info --json
expect_rc "--havre-info --json: exit status 0" 0
printf '%s\n' "$OUT" >wordcount.json
load_json W wordcount.json
expect_eq "manifest: name" "${W[manifest.name]:-}" wordcount
expect_eq "manifest: version" "${W[manifest.version]:-}" 1.0
expect_eq "manifest: args" "${W[manifest.args]:-}" passthrough
expect_eq "manifest: entrypoint" "${W[manifest.entrypoint]:-}" '["/usr/bin/python3","/opt/wordcount/wordcount.py"]'
expect_eq "manifest: base kind" "${W[manifest.build.bases.0.kind]:-}" debootstrap
run ./wordcount.app --havre-run stat -c '%a %u:%g' /opt/wordcount/wordcount.py
expect_eq "--havre-run: the program file has mode 0755, root-owned" "$OUT" "755 0:0"
run ./wordcount.app --havre-run sh -c 'find /usr/share/doc /var/lib/apt/lists -mindepth 1 | wc -l'
expect_eq "--havre-run: /usr/share/doc/* excluded, apt lists cleaned" "$OUT" 0

# --- recipes/debian-bookworm.yaml: the same base, from the cached debootstrap tree ---
fake_failing_command fakebin debootstrap
start=$(now_ms)
PATH=$TEST_TMP/fakebin:$PATH pack "$recipes/debian-bookworm.yaml" bookworm.app --offline
say "debian-bookworm build from the cached tree: $(($(now_ms) - start)) ms"
expect_rc "debian-bookworm: builds offline from the cached tree" 0
expect_contains "debian-bookworm: the tree is cached" "$ERR" "debootstrap bookworm: cached ("
expect_absent "debian-bookworm: debootstrap was not run again" fakebin/debootstrap.calls
check_no_leftovers "$TEST_TMP"
run sh -c 'echo "cat /etc/debian_version; hostname; echo \$0" | ./bookworm.app'
expect_rc "debian-bookworm: the default cmd (bash -l) runs stdin" 0
expect_true "debian-bookworm: Debian 12 ('$(head -n1 <<<"$OUT")')" test -n "$(head -n1 <<<"$OUT" | grep -E '^12(\.|$)' || true)"
expect_eq "debian-bookworm: hostname and shell" "$(tail -n2 <<<"$OUT")" $'bookworm\n/bin/bash'
run ./bookworm.app run sh -c 'ls /var/cache/apt/ | grep -c "\.bin$" || true'
expect_eq "debian-bookworm: /var/cache/apt/*.bin excluded" "$OUT" 0
expect_eq "debian-bookworm: manifest name" "$(json_get <(./bookworm.app info --json) manifest.name)" debian-bookworm

# --- recipes/ubuntu-xenial.yaml: cannot be bootstrapped here ---
keyring=/usr/share/keyrings/ubuntu-archive-keyring.gpg
pack "$recipes/ubuntu-xenial.yaml" xenial.app --offline
expect_failed "ubuntu-xenial: not built here"
if [[ -f $keyring ]]; then
  say "note: $keyring exists on this host; the keyring check is not exercised"
  expect_contains "ubuntu-xenial (keyring present): refused only for the cache (--offline)" "$ERR" \
    "debootstrap xenial: not in the cache"
else
  expect_contains "ubuntu-xenial: the message names base.debootstrap.keyring" "$ERR" "base.debootstrap.keyring"
  expect_contains "ubuntu-xenial: the message names the keyring file" "$ERR" "$keyring"
  expect_not_contains "ubuntu-xenial: no recipe mistake" "$ERR" "ubuntu-xenial.yaml:"
fi
expect_absent "ubuntu-xenial: debootstrap was not run" fakebin/debootstrap.calls
check_no_leftovers "$TEST_TMP" xenial.app

# With a keyring file in place, the recipe gets as far as the (offline) bootstrap: every other key parses.
sed "s|keyring: .*|keyring: $TEST_TMP/ubuntu-keyring.gpg|" "$recipes/ubuntu-xenial.yaml" >xenial.yaml
printf 'not really a keyring\n' >ubuntu-keyring.gpg
PATH=$TEST_TMP/fakebin:$PATH pack xenial.yaml xenial.app --offline
expect_failed "ubuntu-xenial with a keyring, --offline: refused"
expect_contains "ubuntu-xenial with a keyring, --offline: only because the tree is not cached" "$ERR" \
  "debootstrap xenial: not in the cache $cache and --offline was given"
expect_absent "ubuntu-xenial with a keyring: debootstrap was not run" fakebin/debootstrap.calls
check_no_leftovers "$TEST_TMP" xenial.app
