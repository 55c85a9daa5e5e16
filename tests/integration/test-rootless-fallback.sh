#!/usr/bin/env bash
# Rootless without FUSE: the image is extracted once into the user's cache, keyed by the image
# sha256 its bytes hash to (checked against the footer), and runs from there; `./app extract DIR` extracts on request; user
# namespaces switched off give an error naming the setting.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

require_run_env
ensure_test_user
pack_alpine app
chmod 755 "$TEST_TMP/app"
app=$TEST_TMP/app
cache=$(test_user_dir cache)
info_json "$app" "$TEST_TMP/info.json"
sha=$(json_get "$TEST_TMP/info.json" image_sha256)

# The leftover of an extraction that was killed two days ago goes with the next extraction.
mkdir -p "$cache/havre/extracted/.partial-killed/root/etc"
touch -d '2 days ago' "$cache/havre/extracted/.partial-killed"
chown -R "$TEST_USER:" "$cache/havre"

# HAVRE_EXTRACT_AND_RUN=1 takes the path a machine without /dev/fuse takes.
fallback() { run as_test_user env HAVRE_EXTRACT_AND_RUN=1 XDG_CACHE_HOME="$cache" "$app" "$@"; }
fallback run sh -c 'cat /etc/alpine-release; echo w > /etc/w; cat /etc/w'
expect_rc "without FUSE the command still runs" 0
expect_eq "from the extracted image, with a writable layer" "$OUT" "$(printf '3.20.3\nw')"
expect_contains "the fallback is announced on stderr" "$ERR" "FUSE is not available"
expect_eq "announced in one line" "$(line_count "$ERR")" "1"
expect_true "the copy is keyed by the image sha256 (hashed)" test -d "$cache/havre/extracted/sha256-$sha/etc"
fallback run cat /etc/alpine-release
expect_eq "the second run reuses the copy" "$OUT" "3.20.3"
expect_eq "and says nothing" "$ERR" ""
fallback run cat /etc/w
expect_rc "writes of the first run did not reach the extracted copy" 1
expect_eq "no partial extraction left, a stale one removed" "$(find "$cache/havre/extracted" -maxdepth 1 -name '.partial-*' | wc -l)" "0"

# ./app extract DIR, unprivileged.
out=$(test_user_dir out)
run as_test_user "$app" extract "$out/tree"
expect_rc "./app extract DIR works without root" 0
expect_eq "the tree holds the image's files" "$(cat "$out/tree/etc/alpine-release" 2>/dev/null)" "3.20.3"
expect_eq "symlinks stay symlinks" "$(readlink "$out/tree/bin/sh")" "/bin/busybox"
expect_eq "modes are kept" "$(stat -c %a "$out/tree/bin/busybox")" "755"
run as_test_user "$app" extract "$out/tree"
expect_failed "extracting into an existing directory is refused"
expect_contains "naming it" "$ERR" "$out/tree"

# User namespaces switched off: a clear error naming the setting, and a suggestion to use root. The
# limit is per user namespace, so the test lowers it to 0 inside one of its own (the host's stays).
run as_test_user unshare --user --map-root-user \
  sh -c 'echo 0 >/proc/sys/user/max_user_namespaces && exec "$0" run --rootless true' "$app"
expect_rc "with user namespaces disabled, exit 125" 125
expect_contains "the error names the sysctl" "$ERR" "user.max_user_namespaces is 0"
expect_contains "and suggests root" "$ERR" "run as root"
