#!/usr/bin/env bash
# Job control on a terminal, root and rootless: a runtime in a background process group (GNU
# `timeout`, `&`, `bg`) never touches the terminal, so it cannot be stopped by SIGTTOU and `timeout`
# ends it at its limit; Ctrl-Z stops a command that runs on the container's pty and the shell's `fg`
# and `bg` continue it; a runtime stopped with SIGTSTP gives the user's terminal back as it was. No
# stopped or zombie process is left behind.
# shellcheck disable=SC2016 # the single-quoted scripts are expanded by the shell in the tmux pane
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

require_run_env
require_cmd script tmux timeout runuser
ensure_test_user
[[ -c /dev/fuse ]] && as_test_user test -r /dev/fuse -a -w /dev/fuse ||
  skip "/dev/fuse is not usable by $TEST_USER (scripts/setup makes it 0666)"
pack_alpine app
app=$TEST_TMP/app
chmod 755 "$app"
tmux_socket=havre-job-control-$$
tmux_() { tmux -L "$tmux_socket" "$@"; }

# The sleep of this test, found by its unusual length.
nap() { printf '3.%03d' $(($$ % 1000)); }
# State (R, S, T...) of the sleep process itself in the container, "" when there is none.
sleep_state() { ps -eo stat=,args= | awk -v nap="$(nap)" '$2 == "sleep" && $3 == nap && NF == 3 {print substr($1, 1, 1); exit}'; }
# Waits for the sleep to run, then a little more: the runtime enters raw mode as the command starts.
sleeping() { [[ $(sleep_state) == S ]]; }
wait_sleeping() {
  wait_until 10000 sleeping || fail "$who: the sleep did not start: $(pane)"
  sleep 0.3
}
reader_stopped() { ps -eo stat=,args= | grep -q '^T.*head -n1'; }
pane() { tmux_ capture-pane -p -t job | sed '/^$/d'; }
pane_has() { pane | grep -qF -- "$1"; }
type_line() { tmux_ send-keys -t job "$1" Enter; }

for who in root user; do
  as=()
  [[ $who == user ]] && as=(runuser -u "$TEST_USER" -- env XDG_CACHE_HOME="$(test_user_dir cache)")

  # --- 1. a background process group on a terminal ---------------------------------------------
  # `timeout` puts its command in a process group of its own; the terminal's foreground group is
  # the shell's. The runtime used to enter raw mode there, got SIGTTOU and stayed stopped forever.
  start=$(now_ms)
  run timeout 60 script -qec "${as[*]} timeout 10 $app run true; echo rc=\$?" /dev/null
  expect_contains "$who: 'timeout 10 ./app run true' on a terminal ends with the command's status" "$OUT" "rc=0"
  run timeout 60 script -qec "${as[*]} timeout 2 $app run sleep 30; echo rc=\$?" /dev/null
  expect_contains "$who: 'timeout 2 ./app run sleep 30' ends at its limit with 124" "$OUT" "rc=124"
  expect_true "$who: both within their limits (took $(($(now_ms) - start)) ms)" test $(($(now_ms) - start)) -lt 25000
  run timeout 60 script -qec "${as[*]} timeout --foreground 10 $app run tty; echo rc=\$?" /dev/null
  expect_contains "$who: in the foreground the command has the container's pty" "$OUT" "/dev/pts/0"
  run timeout 60 script -qec "${as[*]} timeout 10 $app run sh -c 'test -t 0 && echo stdin-is-a-tty; echo done'" /dev/null
  expect_contains "$who: in the background the command still runs" "$OUT" "done"

  # --- 2. an interactive shell on a real terminal (tmux) ----------------------------------------
  tmux_ kill-server 2>/dev/null || true
  tmux_ new-session -d -s job -x 150 -y 40 "${as[*]} env PS1='prompt$ ' HOME=/ bash --norc --noprofile -i"
  register_pid "$(tmux_ display-message -p '#{pid}')"  # the tmux server dies with the test
  wait_until 5000 pane_has 'prompt$' || fail "$who: the shell in tmux did not start: $(pane)"

  # Ctrl-Z stops the command (it stays stopped past its own end) and `fg` finishes it.
  type_line "$app run sleep $(nap); echo rc=\$?"
  wait_sleeping
  tmux_ send-keys -t job C-z
  expect_true "$who: Ctrl-Z: the shell reports the job stopped" wait_until 5000 pane_has 'Stopped'
  expect_eq "$who: Ctrl-Z: the command in the container is stopped" "$(sleep_state)" T
  sleep 4  # longer than the nap: a command that was not really stopped would have ended by now
  expect_eq "$who: Ctrl-Z: still stopped after its own length" "$(sleep_state)" T
  tmux_ send-keys -t job clear Enter
  type_line 'fg; echo fg-rc=$?'
  expect_true "$who: fg: the command continues and ends with status 0" wait_until 10000 pane_has 'fg-rc=0'

  # Ctrl-Z, then `bg`: the job runs on in the background and ends by itself.
  type_line "$app run sleep $(nap)"
  wait_sleeping
  tmux_ send-keys -t job C-z
  wait_until 5000 pane_has 'Stopped' || _failed "$who: Ctrl-Z before bg: no 'Stopped'" "$(pane)"
  type_line 'bg; wait; echo bg-rc=$?'
  expect_true "$who: bg: the command continues in the background and ends with status 0" \
    wait_until 15000 pane_has 'bg-rc=0'
  expect_eq "$who: bg: no sleep is left" "$(sleep_state)" ""

  # Started in the background (&), brought back with fg: the command reads the terminal.
  type_line clear
  # Reading the terminal from the background stops the job (SIGTTIN), as for any program.
  type_line "$app run sh -c 'sleep 1; head -n1 | sed s/^/got:/' &"
  expect_true "$who: '&': reading the terminal stops the job (SIGTTIN)" wait_until 10000 reader_stopped
  type_line 'fg'
  sleep 1
  type_line 'hello'
  expect_true "$who: '&' then fg: the command reads what is typed" wait_until 10000 pane_has 'got:hello'

  # A runtime in raw mode stopped by SIGTSTP restores the terminal first; fg takes it back.
  type_line clear
  type_line "$app run sleep $(nap)"
  wait_sleeping
  runtime=$(pgrep -f -x "$app run sleep $(nap)" | sort -n | head -n1)
  kill -TSTP "$runtime"
  wait_until 5000 pane_has 'Stopped' || _failed "$who: SIGTSTP: no 'Stopped'" "$(pane)"
  type_line 'stty -a | grep -o -- "-*icanon" | sed s/^/mode:/'
  expect_true "$who: SIGTSTP: the shell gets the terminal back in canonical mode" wait_until 5000 pane_has 'mode:icanon'
  expect_false "$who: SIGTSTP: not left raw" pane_has 'mode:-icanon'
  type_line 'fg; echo tstp-rc=$?'
  expect_true "$who: SIGTSTP then fg: the run ends with status 0" wait_until 15000 pane_has 'tstp-rc=0'

  type_line exit
  wait_until 5000 sh -c "! tmux -L $tmux_socket has-session -t job 2>/dev/null" || true
  leftovers=$(ps -eo pid=,stat=,args= | awk -v app="$app" 'index($0, app) && $2 ~ /^[TZ]/')
  expect_eq "$who: no stopped or zombie runtime is left" "$leftovers" ""
done
