#!/usr/bin/env bash
# The real Alpine minirootfs runs as a container: a login shell reads /etc/profile, sees
# Alpine 3.20.3 and only its own processes; busybox applets and apk work.
# shellcheck disable=SC2016 # the single-quoted scripts are expanded by the container's shell
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

require_run_env
cd "$TEST_TMP"
pack_alpine alpine 'hostname: alpine' 'cmd: [/bin/sh]'
APP=$TEST_TMP/alpine

run "$APP" run /bin/sh -lc 'cat /etc/alpine-release; ps -o pid,comm; true'
expect_rc "/bin/sh -lc exits 0" 0
expect_eq "/etc/alpine-release says 3.20.3" "$(sed -n 1p <<<"$OUT")" 3.20.3
expect_eq "ps shows only the container: the init, the shell and ps" \
  "$(sed -n '3,$p' <<<"$OUT" | awk '{ printf "%s:%s ", $1, $2 }' | sed -E 's/ [0-9]+:ps / N:ps /')" "1:alpine 2:sh N:ps "
expect_eq "nothing on stderr" "$ERR" ""

run "$APP" run /bin/sh -lc 'echo "$PS1" | grep -q . && echo profile-read; echo "$PATH"'
expect_contains "a login shell reads /etc/profile (PS1 set)" "$OUT" profile-read

run "$APP" run apk --version
expect_rc "apk --version exits 0" 0
expect_contains "... and prints apk-tools" "$OUT" "apk-tools"
run "$APP" run apk info
expect_rc "apk info reads the package database" 0
expect_contains "... which lists alpine-baselayout" "$OUT" alpine-baselayout
expect_contains "... and busybox" "$OUT" busybox

run "$APP" run sh -c 'cat /etc/os-release; uname -s; id -un; whoami; ls /bin/busybox'
expect_contains "/etc/os-release is Alpine's" "$OUT" 'ID=alpine'
expect_contains "uname -s: Linux" "$OUT" Linux
expect_contains "the command runs as root (id -un)" "$OUT" root
expect_contains "busybox is there" "$OUT" /bin/busybox

run "$APP" run sh -c 'echo "hello from sh" | sed s/sh/alpine/ | tr a-z A-Z; seq 3 | wc -l'
expect_eq "a pipeline of busybox applets" "$OUT" "HELLO FROM ALPINE
3"
run "$APP" <<<'cat /etc/alpine-release; exit 4'
expect_rc "the default cmd [/bin/sh] reads stdin and exits with its status" 4
expect_eq "... having printed the release" "$OUT" 3.20.3
