#!/usr/bin/env bash
# The options of `./app run`: -e, --env-file, -w (and the recipe's workdir), --user, -v (rw, ro,
# relative host paths, files, new targets), `--` and arguments after CMD that look like options.
# shellcheck disable=SC2016 # the single-quoted scripts are expanded by the container's shell
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

require_run_env
cd "$TEST_TMP"
pack_alpine app 'hostname: options' 'workdir: /etc' 'env:' '  FROM_RECIPE: recipe' '  OVERRIDE_ME: recipe'
APP=$TEST_TMP/app

# --- -e ------------------------------------------------------------------------------------------------
run "$APP" run -e A=1 -e B=2 -e C=x=y -e EMPTY= -e OVERRIDE_ME=cli -e D=1 -e D=2 env
expect_rc "-e: runs" 0
for kv in A=1 B=2 C=x=y EMPTY= FROM_RECIPE=recipe OVERRIDE_ME=cli D=2; do
  expect_true "-e: $kv in the environment" grep -qx -- "$kv" <<<"$OUT"
done
expect_eq "-e: one D (the last -e wins)" "$(grep -c '^D=' <<<"$OUT")" 1
run "$APP" run -e 'SPACED=a  b' sh -c 'printf "[%s]\n" "$SPACED"'
expect_eq "-e: a value with spaces is kept as is" "$OUT" "[a  b]"

# --- --env-file ----------------------------------------------------------------------------------------
printf '%s\n' '# a comment' '' 'FILE_A=from-file' 'FILE_B=two words' '#FILE_X=commented out' \
  'FILE_EMPTY=' 'A=from-file' >env.list
run "$APP" run --env-file env.list -e A=from-cli env
expect_rc "--env-file: runs" 0
expect_true "--env-file: FILE_A=from-file" grep -qx 'FILE_A=from-file' <<<"$OUT"
expect_true "--env-file: FILE_B='two words'" grep -qx 'FILE_B=two words' <<<"$OUT"
expect_true "--env-file: FILE_EMPTY= (empty value)" grep -qx 'FILE_EMPTY=' <<<"$OUT"
expect_not_contains "--env-file: a commented line is skipped" "$OUT" FILE_X
expect_true "--env-file: -e overrides the file" grep -qx 'A=from-cli' <<<"$OUT"
printf '%s\n' 'GOOD=1' 'no equals sign' >bad.list
run "$APP" run --env-file bad.list env
expect_havre_error "--env-file with a line without '='" "bad.list:2"
run "$APP" run --env-file missing.list env
expect_havre_error "--env-file with a missing file" "missing.list"

# --- -w and the recipe's workdir ----------------------------------------------------------------------------
run "$APP" run pwd
expect_eq "without -w: the recipe's workdir (/etc)" "$OUT" /etc
run "$APP" run -w /var pwd
expect_eq "-w /var" "$OUT" /var
run "$APP" run -w /new/work/dir sh -c 'pwd; stat -c %a .'
expect_eq "-w /new/work/dir: created in the overlay (mode 755)" "$OUT" "/new/work/dir
755"
run "$APP" run ls -d /new/work/dir
expect_failed "... and gone on the next run"
run "$APP" run -w /etc/../usr//bin pwd
expect_eq "-w with .. and // is normalised by the kernel" "$OUT" /usr/bin

# --- --user ----------------------------------------------------------------------------------------------
run "$APP" run --user 1000:1000 sh -c 'id -u; id -g; id -G; echo "$HOME"'
expect_eq "--user 1000:1000: uid, gid, no supplementary groups, HOME=/" "$(tr '\n' ' ' <<<"$OUT")" "1000 1000 1000 / "
run "$APP" run --user 1234 sh -c 'id -u; id -g'
expect_eq "--user 1234: the gid defaults to the uid" "$(tr '\n' ' ' <<<"$OUT")" "1234 1234 "
run "$APP" run --user 1000:1000 sh -c 'touch /root-owned 2>&1; touch /tmp/user-file && echo tmp-ok'
expect_contains "--user 1000: / is not writable for it" "$OUT" "Permission denied"
expect_contains "--user 1000: /tmp is" "$OUT" tmp-ok
run "$APP" run --user 0:0 id -u
expect_eq "--user 0:0 is root" "$OUT" 0
run "$APP" run --user 1000:1000 sh -c 'grep -E "^(Uid|Gid|Groups):" /proc/self/status | tr -s "\t " " "'
expect_eq "--user: real, effective, saved and fs ids all 1000" "$OUT" "Uid: 1000 1000 1000 1000
Gid: 1000 1000 1000 1000
Groups: "

# --- -v --------------------------------------------------------------------------------------------------
mkdir -p host-dir/sub
echo from-host >host-dir/sub/host-file
run "$APP" run -v "$TEST_TMP/host-dir:/mnt/x" sh -c 'cat /mnt/x/sub/host-file && echo from-container >/mnt/x/written-inside'
expect_rc "-v DIR:/mnt/x: runs" 0
expect_eq "-v DIR:/mnt/x: the host's file is visible inside" "$OUT" from-host
expect_eq "-v DIR:/mnt/x: a file written inside appears on the host" "$(cat host-dir/written-inside 2>&1)" from-container
echo read-only-content >ro-file
run "$APP" run -v "$TEST_TMP/ro-file:/etc/x:ro" sh -c 'cat /etc/x; echo changed >/etc/x'
expect_eq "-v FILE:/etc/x:ro: readable" "$OUT" read-only-content
expect_failed "-v FILE:/etc/x:ro: writing it fails"
expect_contains "... with EROFS" "$ERR" "Read-only file system"
expect_eq "... and the host file is unchanged" "$(cat ro-file)" read-only-content
run "$APP" run -v "$TEST_TMP/host-dir:/mnt/ro:ro" touch /mnt/ro/new
expect_contains "-v DIR:CTR:ro: creating a file fails with EROFS" "$ERR" "Read-only file system"
expect_false "... and nothing appears on the host" test -e host-dir/new
run "$APP" run -v host-dir:/mnt/rel cat /mnt/rel/sub/host-file
expect_eq "-v with a relative host path (from the current directory)" "$OUT" from-host
run "$APP" run -v "./host-dir/sub/../sub:/deep/new/target:rw" sh -c 'cat /deep/new/target/host-file; echo rw >/deep/new/target/rw-file'
expect_eq "-v ./a/../b:/deep/new/target:rw: target created, contents visible" "$OUT" from-host
expect_eq "... and :rw is writable" "$(cat host-dir/sub/rw-file 2>&1)" rw
run "$APP" run -v "$TEST_TMP/ro-file:/new-dir/new-file" cat /new-dir/new-file
expect_eq "-v FILE onto a new path creates a file mount point" "$OUT" read-only-content
run "$APP" run -v "$TEST_TMP/host-dir:/mnt/a" -v "$TEST_TMP/ro-file:/mnt/b:ro" sh -c 'ls /mnt/a/sub/host-file; cat /mnt/b'
expect_eq "two -v at once" "$OUT" "/mnt/a/sub/host-file
read-only-content"
run "$APP" run --read-only -v "$TEST_TMP/host-dir:/mnt" cat /mnt/sub/host-file
expect_eq "-v onto an existing directory of a --read-only root" "$OUT" from-host
run "$APP" run -v "$TEST_TMP/host-dir:/" true
expect_havre_error "-v over the container's root" "root"
run "$APP" run -v "$TEST_TMP/host-dir:relative" true
expect_havre_error "-v with a relative container path" "relative"

# --- -- and arguments after CMD ------------------------------------------------------------------------------
run "$APP" run -- echo hi
expect_eq "run -- echo hi" "$OUT" hi
run "$APP" run -e X=1 -- sh -c 'echo "$X"'
expect_eq "run -e X=1 -- sh -c ..." "$OUT" 1
run "$APP" run printf '%s\n' -v -w --user -e
expect_eq "options after CMD are CMD's arguments" "$OUT" "-v
-w
--user
-e"
run "$APP" run sh -c 'printf "[%s]" "$@"' arg0 '' 'a b' '*'
expect_eq "arguments keep empty strings, spaces and globs" "$OUT" "[][a b][*]"
