#!/usr/bin/env bash
# Exit statuses of `./app run` (the command's own, 128+signal, 125 havre, 126 not executable,
# 127 not found), the default command (entrypoint + cmd, arguments replace cmd), `./app shell`,
# `args: passthrough` and the runtime's own commands.
# shellcheck disable=SC2016 # the single-quoted scripts are expanded by the container's shell
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

require_run_env
cd "$TEST_TMP"
pack_alpine app 'hostname: exit-status' 'cmd: [echo, hello]'
pack_alpine ep 'entrypoint: [echo]' 'cmd: [hello]'
pack_alpine pt 'entrypoint: [echo, "ep:"]' 'cmd: [default-arg]' 'args: passthrough'
APP=$TEST_TMP/app

# --- the command's own status ------------------------------------------------------------------
run "$APP" run sh -c 'exit 42'
expect_rc "exit 42 is passed on" 42
run "$APP" run sh -c 'exit 200'
expect_rc "exit 200 is passed on (not mistaken for a signal)" 200
run "$APP" run true
expect_rc "true: 0" 0
run "$APP" run false
expect_rc "false: 1" 1
run "$APP" run sh -c 'echo out; echo err >&2; exit 3'
expect_eq "the command's stdout is ours" "$OUT" out
expect_eq "the command's stderr is ours (and havre adds nothing)" "$ERR" err
expect_rc "... with its status 3" 3

# --- killed by a signal: 128+N -------------------------------------------------------------------
run "$APP" run sh -c 'kill -9 $$'
expect_rc "a command killed by SIGKILL gives 137" 137
run "$APP" run sh -c 'kill -TERM $$'
expect_rc "a command killed by SIGTERM gives 143" 143
run "$APP" run sh -c 'kill -SEGV $$'
expect_rc "a command killed by SIGSEGV gives 139" 139

# --- not found / not executable ----------------------------------------------------------------
run "$APP" run nosuch-command-xyz
expect_rc "a command not on PATH: 127" 127
expect_contains "... stderr names it" "$ERR" "nosuch-command-xyz"
run "$APP" run /no/such/path/cmd
expect_rc "a missing absolute path: 127" 127
expect_contains "... stderr names it" "$ERR" "/no/such/path/cmd"
run "$APP" run /etc/passwd
expect_rc "a file without x permission: 126" 126
expect_contains "... stderr names it" "$ERR" "/etc/passwd"
run "$APP" run /etc
expect_rc "a directory: 126" 126
# A script without #! runs with /bin/sh, as execvp(3) does (by path, and found on PATH).
mkdir -p "$TEST_TMP/scripts"
printf 'echo "no-shebang $# $1"; exit 3\n' >"$TEST_TMP/scripts/plain"
chmod 755 "$TEST_TMP/scripts/plain"
run "$APP" run -v "$TEST_TMP/scripts:/opt/scripts:ro" /opt/scripts/plain one
expect_rc "a script without #!: run by /bin/sh, its status" 3
expect_eq "... with its arguments" "$OUT" "no-shebang 1 one"
run "$APP" run -v "$TEST_TMP/scripts:/opt/scripts:ro" -e PATH=/opt/scripts:/bin plain a b
expect_eq "... also when found on PATH" "$RC $OUT" "3 no-shebang 2 a"

# --- havre's own failures: 125 and one line "havre: error: ..." --------------------------------
run "$APP" run --bogus x
expect_havre_error "an unknown option" "--bogus"
run "$APP" run -v /nonexistent-havre-src:/x echo ran
expect_havre_error "-v with a missing host path" "/nonexistent-havre-src"
run "$APP" run --user bob id
expect_havre_error "--user with a name" "bob"
run "$APP" run -e =x echo ran
expect_havre_error "-e without a key" "=x"
run "$APP" run -w relative/dir echo ran
expect_havre_error "-w with a relative path" "relative/dir"
run "$APP" run --net bridge echo ran
expect_havre_error "--net with an unknown mode" "bridge"
run "$APP" run --read-only --persist "$TEST_TMP/p" echo ran
expect_havre_error "--read-only with --persist" "--persist"
run "$APP" run
expect_havre_error "run without a command" "command"
run "$APP" run --read-only -w /no/such/dir echo ran
expect_havre_error "a missing workdir on a read-only root" "/no/such/dir"

# --- the default command: entrypoint + cmd; arguments replace cmd -------------------------------
run "$APP"
expect_rc "./app runs cmd [echo, hello]" 0
expect_eq "... which prints hello" "$OUT" hello
run "$TEST_TMP/ep"
expect_eq "entrypoint [echo] + cmd [hello]" "$OUT" hello
run "$TEST_TMP/ep" world
expect_eq "./ep world: arguments replace cmd, the entrypoint stays" "$OUT" world
run "$TEST_TMP/ep" a 'b c'
expect_eq "./ep a 'b c': arguments are passed as they are" "$OUT" "a b c"
run "$APP" run echo explicit
expect_eq "./app run CMD ignores entrypoint and cmd" "$OUT" explicit

# --- ./app shell: a login shell reading stdin --------------------------------------------------
run "$APP" shell <<<'echo "shell:$0"; exit 3'
expect_rc "./app shell exits with the shell's status" 3
expect_contains "... and ran a shell from the image" "$OUT" "shell:"
expect_contains "... /bin/sh" "$OUT" "sh"

# --- args: passthrough ---------------------------------------------------------------------------
PT=$TEST_TMP/pt
run "$PT"
expect_eq "passthrough: no arguments run entrypoint + cmd" "$OUT" "ep: default-arg"
run "$PT" info
expect_eq "passthrough: 'info' goes to the entrypoint" "$OUT" "ep: info"
run "$PT" run x
expect_eq "passthrough: 'run x' goes to the entrypoint" "$OUT" "ep: run x"
run "$PT" --help
expect_eq "passthrough: '--help' goes to the entrypoint" "$OUT" "ep: --help"
run "$PT" --havre-info
expect_rc "passthrough: --havre-info exits 0" 0
expect_contains "passthrough: --havre-info prints the info" "$OUT" "appliance     $PT"
expect_contains "... with the manifest" "$OUT" "cmd           default-arg"
run "$PT" --havre-version
expect_rc "passthrough: --havre-version exits 0" 0
expect_contains "... and prints the version" "$OUT" "havre "
run "$PT" --havre-run echo via-run
expect_eq "passthrough: --havre-run CMD runs CMD" "$OUT" via-run

# --- the runtime's own commands ------------------------------------------------------------------
run "$APP" version
expect_rc "version exits 0" 0
expect_true "version prints 'havre X.Y.Z'" grep -Eq '^havre [0-9]+\.[0-9]+\.[0-9]+' <<<"$OUT"
run "$APP" --help
expect_rc "--help exits 0" 0
expect_contains "--help describes ./app run" "$OUT" "./app run [OPTIONS] CMD..."
run "$APP" help
expect_rc "help exits 0" 0
expect_contains "help describes ./app run (the appliance's help, not the help subcommand's)" "$OUT" \
  "./app run [OPTIONS] CMD..."
run "$APP" info
expect_rc "info exits 0" 0
expect_contains "info names the appliance" "$OUT" "$APP"
