# shellcheck shell=bash
# Helpers for the root-mode runtime tests (tests/integration/test-run-*.sh), on top of lib.sh:
#   source "$(dirname "$0")/lib.sh"
#   source "$(dirname "$0")/run_lib.sh"
#
# Every runtime test builds its appliances from Alpine's real minirootfs (pack_alpine), runs them as
# root and checks what the container sees and what the host is left with.

# Root, both binaries (private copies), the Alpine tarball and the host tools the checks lean on.
require_run_env() {
  require_root "the runtime mounts a loop device and creates namespaces"
  require_binaries
  require_cmd losetup pgrep
  require_alpine_tarball
  [[ -c /dev/loop-control ]] || skip "/dev/loop-control is missing: the kernel has no loop driver"
}

# Writes an Alpine recipe named NAME to FILE; every further argument is one more line of YAML
# (e.g. 'cmd: [echo, hello]').
write_alpine_recipe() {  # FILE NAME [YAML_LINE...]
  local file=$1 name=$2
  shift 2
  {
    printf 'name: %s\n' "$name"
    printf 'base:\n  tarball:\n    path: %s\n    sha256: %s\n' "$ALPINE_TARBALL" "$ALPINE_SHA256"
    if (($#)); then printf '%s\n' "$@"; fi
  } >"$file"
}

# Packs an Alpine appliance to $TEST_TMP/NAME (recipe lines as for write_alpine_recipe); a failed
# build ends the test.
pack_alpine() {  # NAME [YAML_LINE...]
  local name=$1
  shift
  write_alpine_recipe "$TEST_TMP/$name.yaml" "$name" "$@"
  must_pack "$TEST_TMP/$name.yaml" "$TEST_TMP/$name"
}

# Milliseconds since the epoch.
now_ms() {
  local t=${EPOCHREALTIME/./}
  printf '%s\n' "$((t / 1000))"
}

# Polls CMD every 20 ms until it succeeds (status 0) or TIMEOUT_MS pass (status 1).
wait_until() {  # TIMEOUT_MS CMD...
  local deadline
  deadline=$(($(now_ms) + $1))
  shift
  while ! "$@"; do
    (($(now_ms) < deadline)) || return 1
    sleep 0.02
  done
}

# FILE holds the fixed string NEEDLE.
file_has() { [[ -f $1 ]] && grep -qF -- "$2" "$1"; }

# Loop devices whose backing file is FILE, space-separated ("" when none).
loops_of() {  # FILE
  local out
  out=$(losetup -l -n -O NAME -j "$1" 2>/dev/null || true)
  printf '%s\n' "$(printf '%s' "$out" | tr -s ' \n' '  ' | sed 's/^ //; s/ $//')"
}
no_loops_of() { [[ -z $(loops_of "$1") ]]; }

# Lines of the host's mountinfo that could be ours: SquashFS, overlay, or the staging tmpfs
# (source "havre"), or any loop device. Compare against a snapshot taken before the runs.
suspect_host_mounts() {
  grep -E ' - (squashfs|overlay) | - tmpfs havre |/dev/loop' /proc/self/mountinfo | LC_ALL=C sort || true
}

# The lines of suspect_host_mounts that are not in BEFORE (an earlier suspect_host_mounts): what
# was mounted since (mounts others removed meanwhile do not count).
new_suspect_host_mounts() {  # BEFORE
  LC_ALL=C comm -13 <(printf '%s\n' "$1") <(suspect_host_mounts) | sed '/^$/d' || true
}

# PIDs (with command lines) of live, non-zombie processes whose command line matches the
# extended regular expression ERE, other than this shell and its pipeline.
procs_matching() {  # ERE
  local pid out=""
  for pid in $(pgrep -f -- "$1" || true); do
    [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
    local state
    state=$(awk '{ s = $0; sub(/.*\) /, "", s); split(s, f, " "); print f[1] }' "/proc/$pid/stat" 2>/dev/null) || continue
    [[ $state == Z ]] && continue
    out+="$pid($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | sed 's/ $//')) "
  done
  printf '%s\n' "${out% }"
}
no_procs_matching() { [[ -z $(procs_matching "$1") ]]; }
procs_matching_nonempty() { [[ -n $(procs_matching "$1") ]]; }

# Directory entries in the usual temporary directories whose name mentions havre, apart from the
# test suite's own per-test directories (lib.sh: havre-test-*.XXXXXX, the unit tests: havre-unit-*).
havre_temp_entries() {
  find /tmp /var/tmp /run /dev/shm -mindepth 1 -maxdepth 1 -name '*havre*' ! -name 'havre-test-*' \
    ! -name 'havre-unit-*' -printf '%p\n' 2>/dev/null | LC_ALL=C sort || true
}

# The entries of havre_temp_entries that are not in BEFORE (an earlier havre_temp_entries), one
# per line: what appeared since (entries others removed meanwhile do not count).
new_havre_temp_entries() {  # BEFORE
  LC_ALL=C comm -13 <(printf '%s\n' "$1") <(havre_temp_entries) | sed '/^$/d' || true
}

# Starts CMD in the background with stdout and stderr in OUT_PREFIX.out and OUT_PREFIX.err; sets
# BG_PID and registers it for cleanup.
start_bg() {  # OUT_PREFIX CMD...
  local prefix=$1
  shift
  "$@" >"$prefix.out" 2>"$prefix.err" &
  BG_PID=$!
  register_pid "$BG_PID"
}

# Waits up to TIMEOUT_MS for the background PID (e.g. BG_PID) to exit; sets BG_RC to its exit
# status (or "timeout", after killing it with SIGKILL) and BG_MS to the milliseconds waited.
# shellcheck disable=SC2034 # BG_RC and BG_MS are for the caller
wait_bg() {  # PID TIMEOUT_MS
  local pid=$1 start
  start=$(now_ms)
  if ! wait_until "$2" _pid_gone "$pid"; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    BG_RC=timeout
    BG_MS=$(($(now_ms) - start))
    return 0
  fi
  BG_MS=$(($(now_ms) - start))
  BG_RC=0
  wait "$pid" || BG_RC=$?
}

# PID has exited (it may still be a zombie waiting for us to reap it).
_pid_gone() {
  local state
  state=$(awk '{ s = $0; sub(/.*\) /, "", s); split(s, f, " "); print f[1] }' "/proc/$1/stat" 2>/dev/null) || return 0
  [[ $state == Z || $state == X ]]
}

# Number of lines in TEXT (0 for "").
line_count() { if [[ -z $1 ]]; then echo 0; else printf '%s\n' "$1" | wc -l; fi; }

# The last `run` failed as havre itself (125) with exactly one line "havre: error: ..." on stderr
# that contains NEEDLE, and its command printed nothing.
expect_havre_error() {  # DESC NEEDLE
  expect_rc "$1: exit status 125" 125
  expect_eq "$1: one line on stderr" "$(line_count "$ERR")" 1
  expect_eq "$1: the line starts with 'havre: error: '" "${ERR:0:14}" "havre: error: "
  expect_contains "$1: the message names $2" "$ERR" "$2"
  expect_eq "$1: nothing on stdout" "$OUT" ""
}
