#!/usr/bin/env bash
# The warm copy (issue 14): HAVRE_WARM_COPY=1 extracts the verified image after a run; later runs
# of the same file, root and rootless, use that tree instead of mounting the image (no loop device,
# no FUSE) and see the same files. A changed file (new ctime), another file claiming the same
# sha256, or a cache directory someone else could write is never served from it.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

require_run_env
ensure_test_user
pack_alpine app 'run:' '  - echo warm-marker > /etc/marker'
cd "$TEST_TMP"
chmod 755 "$TEST_TMP" app
export XDG_CACHE_HOME=$TEST_TMP/root-cache
ucache=$(test_user_dir user-cache)

# Root: the first run mounts (a loop device) and fills the copy; the second uses it.
run env HAVRE_DEBUG=1 HAVRE_WARM_COPY=1 ./app run cat /etc/marker
expect_eq "root: the filling run runs the image" "$OUT" warm-marker
expect_contains "root: the filling run mounts the image on a loop device" "$ERR" "attached /dev/loop"
expect_eq "root: one tree in the cache" "$(find "$XDG_CACHE_HOME/havre/extracted" -maxdepth 1 -name 'sha256-*' | wc -l)" 1
expect_eq "root: the cache is private" "$(stat -c %a "$XDG_CACHE_HOME/havre/extracted")" 700
run env HAVRE_DEBUG=1 ./app run sh -c 'cat /etc/marker; echo w > /etc/w; cat /etc/w'
expect_eq "root: the warm run sees the image's files, writable" "$OUT" "$(printf 'warm-marker\nw')"
expect_not_contains "root: the warm run attaches no loop device" "$ERR" "attached /dev/loop"
run ./app run cat /etc/w
expect_rc "root: writes of a warm run do not reach the copy" 1
tree=$(find "$XDG_CACHE_HOME/havre/extracted" -maxdepth 1 -name 'sha256-*')
expect_false "root: the tree holds no write of a run" test -e "$tree/etc/w"

# Rootless: the same, in the user's own cache.
urun() { run as_test_user env XDG_CACHE_HOME="$ucache" "$@"; }
urun env HAVRE_DEBUG=1 HAVRE_WARM_COPY=1 ./app run cat /etc/marker
expect_eq "rootless: the filling run runs the image" "$OUT" warm-marker
expect_contains "rootless: the filling run serves the image over FUSE" "$ERR" "serving the image over FUSE"
expect_eq "rootless: one tree in the user's cache" "$(find "$ucache/havre/extracted" -maxdepth 1 -name 'sha256-*' | wc -l)" 1
expect_eq "rootless: the tree belongs to the user" "$(stat -c %U "$(find "$ucache/havre/extracted" -maxdepth 1 -name 'sha256-*')")" "$TEST_USER"
urun env HAVRE_DEBUG=1 ./app run cat /etc/marker
expect_eq "rootless: the warm run sees the image's files" "$OUT" warm-marker
expect_not_contains "rootless: the warm run starts no FUSE server" "$ERR" "serving the image over FUSE"

# The file changed in place (ctime moves): not served from the copy, mounted again.
cp -p app app.bak && cat app.bak >app && rm app.bak  # same inode, same bytes, new ctime
run env HAVRE_DEBUG=1 ./app run cat /etc/marker
expect_eq "changed file: still runs" "$OUT" warm-marker
expect_contains "changed file: mounted again, not served from the copy" "$ERR" "attached /dev/loop"

# A cache directory another user can write is not trusted (root with a user's HOME under sudo).
run env HAVRE_DEBUG=1 HAVRE_WARM_COPY=1 ./app run true
chown "$TEST_USER" "$XDG_CACHE_HOME/havre/extracted"
run env HAVRE_DEBUG=1 ./app run cat /etc/marker
expect_eq "a cache of another user: still runs" "$OUT" warm-marker
expect_contains "a cache of another user: not used, the image is mounted" "$ERR" "attached /dev/loop"
chown root "$XDG_CACHE_HOME/havre/extracted"
run env HAVRE_DEBUG=1 ./app run true
expect_not_contains "owned by root again: used" "$ERR" "attached /dev/loop"

# kill -9 of ./app at several moments of a warm run (root): no process, no host mount left, and the
# tree unchanged (the overlay's upper layer is the container's tmpfs).
APP=$TEST_TMP/app
NAP=$((8000 + $$ % 1000))
mounts_before=$(suspect_host_mounts)
files_before=$(find "$tree" | wc -l)
_warm_clean() { [[ -z $(procs_matching "$APP") && -z $(procs_matching "^sleep $NAP\$") ]]; }
for d in 0 1 2 5 10 30 100; do
  "$APP" run sleep "$NAP" >/dev/null 2>&1 &
  pid=$!
  register_pid "$pid"
  for ((i = 0; i < 200000; i++)); do [[ /proc/$pid/exe -ef $APP || ! -e /proc/$pid ]] && break; done
  if ((d > 0)); then sleep "$(printf '0.%03d' "$d")"; fi
  kill -KILL "$pid"
  { wait "$pid"; } 2>/dev/null || true
  wait_until 2000 _warm_clean || true
  expect_true "warm run killed after $d ms: no process left" _warm_clean
  expect_eq "warm run killed after $d ms: no new host mount" "$(new_suspect_host_mounts "$mounts_before")" ""
done
expect_eq "the tree is unchanged by the killed runs" "$(find "$tree" | wc -l)" "$files_before"

# A device node in the image (made by a run: step; /dev/null's numbers, harmless if it opened) is a
# real node in root's warm copy: the overlay and the --read-only bind over the copy are nodev, so the
# command cannot open it -- as with the image mounted (squashfs nodev).
pack_alpine nodes 'run:' '  - mknod /evil c 1 3'
chmod 755 "$TEST_TMP/nodes"
run env HAVRE_WARM_COPY=1 "$TEST_TMP/nodes" run true
expect_true "the warm copy holds the device node" test -c "$(find "$XDG_CACHE_HOME/havre/extracted" -maxdepth 2 -name evil | head -1)"
for ro in "" --read-only; do
  run env HAVRE_DEBUG=1 "$TEST_TMP/nodes" run $ro sh -c 'echo x >/evil && echo opened; cat /evil && echo read'
  expect_not_contains "warm ${ro:-overlay}: served from the copy" "$ERR" "attached /dev/loop"
  expect_not_contains "warm ${ro:-overlay}: the image's device node cannot be opened" "$OUT" "opened"
  expect_contains "warm ${ro:-overlay}: refused" "$ERR" "Permission denied"
done
