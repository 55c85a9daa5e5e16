# shellcheck shell=bash
# Shared helpers for havre's end-to-end tests. Each tests/integration/test-*.sh sources this file.
#
# Environment (set by CTest, see tests/CMakeLists.txt):
#   HAVRE_BUILD   the build directory holding havre-pack and havre-runtime (default: <source>/build)
#   HAVRE_SOURCE  the source tree (default: the repository this file is in)
#   CI=true       every missing tool, file or capability is a failure, never a skip
#   HAVRE_KEEP_TMP=1  keep the per-test temporary directory for a post-mortem
#
# Conventions: `fail` and `skip` end the test at once; the expect_* checks print one line each,
# count failures and let the test go on, so one run reports every broken check. The test exits 0
# only when no check failed, 77 on a skip (CTest SKIP_RETURN_CODE), 1 otherwise.

set -euo pipefail
set -E  # the ERR trap below also fires inside functions

HAVRE_SOURCE=${HAVRE_SOURCE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
HAVRE_BUILD=${HAVRE_BUILD:-$HAVRE_SOURCE/build}
PACK=$HAVRE_BUILD/havre-pack
RUNTIME=$HAVRE_BUILD/havre-runtime
SHARED_ROOTFS=$HAVRE_SOURCE/../shared/rootfs
ALPINE_TARBALL=$SHARED_ROOTFS/alpine-minirootfs-3.20.3-x86_64.tar.gz
ALPINE_SHA256=d4e6fd67dcf75e40c451560ac7265166c2b72a0f38ddc9aae756a7de3d1efa0c
ALPINE_URL=https://dl-cdn.alpinelinux.org/alpine/v3.20/releases/x86_64/alpine-minirootfs-3.20.3-x86_64.tar.gz
TEST_USER=havre-test
TEST_NAME=$(basename "$0" .sh)
FAILURES=0
CHECKS=0
# Resolve python3 once: version-manager shims (pyenv) cost a few hundred ms per call.
PYTHON=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null || true)
_BG_PIDS=()

# --- reporting -------------------------------------------------------------------------------

say() { printf '%s: %s\n' "$TEST_NAME" "$*"; }

# Ends the test as failed.
fail() {
  say "FAIL $*" >&2
  exit 1
}

# Ends the test as skipped (exit 77), or as failed under CI=true where nothing may be missing.
skip() {
  if [[ ${CI:-} == true ]]; then fail "CI=true, so this is a failure, not a skip: $*"; fi
  say "SKIP $*"
  exit 77
}

_pass() {
  CHECKS=$((CHECKS + 1))
  say "ok   $1"
}

_failed() {
  CHECKS=$((CHECKS + 1))
  FAILURES=$((FAILURES + 1))
  say "FAIL $1" >&2
  shift
  local detail
  for detail in "$@"; do printf '      %s\n' "$detail" >&2; done
}

expect_eq() {  # DESC GOT WANT
  if [[ "$2" == "$3" ]]; then _pass "$1"; else _failed "$1" "got:  $2" "want: $3"; fi
}

expect_ne() {  # DESC GOT UNWANTED
  if [[ "$2" != "$3" ]]; then _pass "$1"; else _failed "$1" "got the unwanted value: $2"; fi
}

expect_contains() {  # DESC HAYSTACK NEEDLE
  if [[ "$2" == *"$3"* ]]; then _pass "$1"; else _failed "$1" "missing: $3" "in: $2"; fi
}

expect_not_contains() {  # DESC HAYSTACK NEEDLE
  if [[ "$2" != *"$3"* ]]; then _pass "$1"; else _failed "$1" "unexpected: $3" "in: $2"; fi
}

expect_true() {  # DESC CMD...   passes when CMD succeeds
  local desc=$1
  shift
  if "$@"; then _pass "$desc"; else _failed "$desc" "command failed: $*"; fi
}

expect_false() {  # DESC CMD...   passes when CMD fails
  local desc=$1
  shift
  if "$@"; then _failed "$desc" "command succeeded: $*"; else _pass "$desc"; fi
}

expect_same_file() {  # DESC WANT_FILE GOT_FILE   (diff shown on failure)
  local diff_out
  if diff_out=$(diff -u "$2" "$3"); then
    _pass "$1"
  else
    _failed "$1" "diff -u $2 $3:"
    printf '%s\n' "$diff_out" | sed -n '1,60s/^/      /p' >&2
  fi
}

# The exit status of the last `run`/`pack` is WANT_RC.
expect_rc() {  # DESC WANT_RC
  if [[ $RC == "$2" ]]; then _pass "$1"; else _failed "$1" "exit status $RC, want $2" "stderr: $ERR"; fi
}

expect_failed() {  # DESC   the last `run` exited non-zero but was not killed by a signal
  if ((RC != 0 && RC < 128)); then _pass "$1"; else _failed "$1" "exit status $RC" "stderr: $ERR"; fi
}

# --- environment -----------------------------------------------------------------------------

require_cmd() {
  local c
  for c; do command -v "$c" >/dev/null 2>&1 || skip "'$c' is not installed (scripts/setup installs it)"; done
}

# Both binaries; another build may be relinking them, so give it a moment.
require_python() {
  [[ -n $PYTHON && -x $PYTHON ]] || skip "python3 is not installed (scripts/setup installs it)"
}

# Takes a private copy of both binaries (side by side, as havre-pack expects to find its stub), so
# a rebuild while the test runs cannot swap or truncate them mid-test; PACK and RUNTIME then name
# the copies. A build that is relinking right now gets a moment to finish.
require_binaries() {
  local i src_pack=$PACK src_runtime=$RUNTIME bin=$TEST_TMP/.lib/bin
  mkdir -p "$bin"
  for ((i = 0; i < 60; i++)); do
    if [[ -x $src_pack && -x $src_runtime ]] &&
      cp "$src_pack" "$src_runtime" "$bin/" 2>/dev/null &&
      "$bin/havre-pack" --version >/dev/null 2>&1 && "$bin/havre-runtime" version >/dev/null 2>&1; then
      PACK=$bin/havre-pack
      RUNTIME=$bin/havre-runtime
      return 0
    fi
    sleep 0.5
  done
  fail "$src_pack or $src_runtime is missing or broken: build havre first (cmake --build $HAVRE_BUILD)"
}

require_root() {
  [[ $(id -u) -eq 0 ]] || skip "needs root: $*"
}

# Sets ALPINE_TARBALL to Alpine's minirootfs: ../shared/rootfs's copy when present (always under
# CI), else a download from the upstream URL through havre-pack's own fetch code into the test's
# cache; with neither, the test is skipped (a failure under CI=true).
require_alpine_tarball() {
  if [[ ! -f $ALPINE_TARBALL ]]; then
    [[ ${CI:-} != true ]] || fail "the Alpine minirootfs is not at $ALPINE_TARBALL (CI=true: it must be)"
    say "no $ALPINE_TARBALL; trying $ALPINE_URL"
    printf 'name: alpine-download\nbase:\n  tarball:\n    url: %s\n    sha256: %s\n' \
      "$ALPINE_URL" "$ALPINE_SHA256" >"$TEST_TMP/.lib/alpine-download.yaml"
    run "$PACK" "$TEST_TMP/.lib/alpine-download.yaml" -o "$TEST_TMP/.lib/alpine-download" \
      --cache-dir "$TEST_TMP/.lib/cache"
    ((RC == 0)) || skip "the Alpine minirootfs is not at $ALPINE_TARBALL and cannot be downloaded: $ERR"
    ALPINE_TARBALL=$TEST_TMP/.lib/cache/sha256/$ALPINE_SHA256
  fi
  local got
  got=$(sha256_of "$ALPINE_TARBALL")
  [[ $got == "$ALPINE_SHA256" ]] || fail "$ALPINE_TARBALL has sha256 $got, want $ALPINE_SHA256"
}

# --- per-test temporary directory ------------------------------------------------------------

TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/havre-$TEST_NAME.XXXXXX")
chmod 755 "$TEST_TMP"  # the unprivileged test user must be able to reach its own directory in it
mkdir "$TEST_TMP/.lib"
# havre-pack's download, debootstrap and image caches: private to each test, so no test sees another's
# (or the user's) cached images and every build really runs.
export XDG_CACHE_HOME=$TEST_TMP/.cache

# A background process to kill (and reap) when the test ends.
register_pid() { _BG_PIDS+=("$1"); }

_lib_exit() {
  local rc=$?
  local pid
  for pid in "${_BG_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [[ ${HAVRE_KEEP_TMP:-} == 1 ]]; then
    say "keeping $TEST_TMP"
  else
    chmod -R u+rwX "$TEST_TMP" 2>/dev/null || true
    rm -rf "$TEST_TMP"
  fi
  if ((FAILURES > 0 && (rc == 0 || rc == 77))); then rc=1; fi  # a late skip does not hide failures
  if ((rc == 0)); then
    say "PASS ($CHECKS checks)"
  elif ((rc != 77)); then
    say "FAILED (exit status $rc; $FAILURES of $CHECKS checks failed)" >&2
  fi
  exit "$rc"
}
trap _lib_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'say "error: line $LINENO of ${BASH_SOURCE[0]##*/}: command failed: $BASH_COMMAND" >&2' ERR

# --- running things --------------------------------------------------------------------------

# Runs CMD without stopping the test; sets RC, OUT (stdout) and ERR (stderr).
run() {
  RC=0
  "$@" >"$TEST_TMP/.lib/out" 2>"$TEST_TMP/.lib/err" || RC=$?
  OUT=$(cat "$TEST_TMP/.lib/out")
  ERR=$(cat "$TEST_TMP/.lib/err")
}

# havre-pack RECIPE -o OUT [ARGS...], through `run`.
pack() {
  local recipe=$1 out=$2
  shift 2
  run "$PACK" "$recipe" -o "$out" "$@"
}

# Like `pack`, but a failed build ends the test.
must_pack() {
  pack "$@"
  ((RC == 0)) || fail "havre-pack $* failed with exit status $RC: $ERR"
}

# `APP info --json` into FILE, and into the associative array NAME if given (see load_json);
# a failure ends the test.
info_json() {  # APP FILE [NAME]
  run "$(exe_path "$1")" info --json
  ((RC == 0)) || fail "$1 info --json failed with exit status $RC: $ERR"
  printf '%s\n' "$OUT" >"$2"
  if [[ -n ${3:-} ]]; then load_json "$3" "$2"; fi
}

# Prints one field of a JSON document, by dotted path ("manifest.build.bases.0.sha256").
# Strings print raw, null as "null", lists and mappings as compact JSON with sorted keys.
json_get() {  # FILE PATH
  "$PYTHON" -I -S - "$1" "$2" <<'EOF'
import json, sys
value = json.load(open(sys.argv[1]))
for part in sys.argv[2].split("."):
    if isinstance(value, list):
        value = value[int(part)]
    elif isinstance(value, dict) and part in value:
        value = value[part]
    else:
        sys.exit(f"json_get: no '{part}' in {sys.argv[2]}")
if isinstance(value, str):
    print(value)
else:
    print(json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
EOF
}

# Loads every field of a JSON document into the global associative array NAME, keyed by dotted
# path (NAME[image_offset], NAME[manifest.build.bases.0.sha256]), valued as json_get prints them.
# One python run instead of one per field.
load_json() {  # NAME FILE
  local code
  code=$("$PYTHON" -I -S - "$1" "$2" <<'EOF'
import json, shlex, sys
name, doc = sys.argv[1], json.load(open(sys.argv[2]))
def text(v):
    if isinstance(v, str):
        return v
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
def walk(path, v):
    if path:
        print(f"{name}[{shlex.quote(path)}]={shlex.quote(text(v))}")
    items = v.items() if isinstance(v, dict) else enumerate(v) if isinstance(v, list) else ()
    for k, child in items:
        walk(f"{path}.{k}" if path else str(k), child)
print(f"unset {name}; declare -gA {name}=()")
walk("", doc)
EOF
  ) || fail "load_json: cannot read $2"
  eval "$code"
}

# The JSON text on stdin, in the form json_get prints.
json_norm() {
  "$PYTHON" -I -S -c 'import json,sys; print(json.dumps(json.load(sys.stdin), sort_keys=True, separators=(",", ":"), ensure_ascii=False))'
}

# sha256 of LENGTH bytes of FILE from OFFSET.
sha256_range() {  # FILE OFFSET LENGTH
  "$PYTHON" -I -S - "$@" <<'EOF'
import hashlib, sys
path, offset, length = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
h = hashlib.sha256()
with open(path, "rb") as f:
    f.seek(offset)
    left = length
    while left:
        chunk = f.read(min(left, 1 << 20))
        if not chunk:
            sys.exit(f"sha256_range: {path} ends before {offset}+{length}")
        h.update(chunk)
        left -= len(chunk)
print(h.hexdigest())
EOF
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# Writes LENGTH bytes of FILE from OFFSET to stdout.
read_bytes() {  # FILE OFFSET LENGTH
  "$PYTHON" -I -S -c 'import sys; f = open(sys.argv[1], "rb"); f.seek(int(sys.argv[2])); sys.stdout.buffer.write(f.read(int(sys.argv[3])))' "$@"
}

# A path that runs FILE as a command even when it has no slash.
exe_path() { if [[ $1 == */* ]]; then printf '%s\n' "$1"; else printf './%s\n' "$1"; fi; }

# --- listings: "MODE UID/GID [MAJOR,MINOR] NAME[ -> TARGET]", sorted, root shown as "." ---------

# Normalizes `tar -tv --numeric-owner` or `unsquashfs -lln` lines on stdin.
_normalize_listing() {  # tar|squashfs
  "$PYTHON" -I -S -c '
import re, sys
kind = sys.argv[1]
line_re = re.compile(r"^(\S{10})\s+(\d+)/(\d+)\s+(\d+,\s*\d+|\d+)\s+\d{4}-\d\d-\d\d \d\d:\d\d\s(.*)$")
rows = []
for line in sys.stdin.read().splitlines():
    m = line_re.match(line)
    if not m:
        sys.exit(f"unrecognized listing line: {line!r}")
    mode, uid, gid, size, name = m.groups()
    if mode[0] == "h":  # a tar hard link: in the image it is one more name of a regular file
        mode = "-" + mode[1:]
        name = name.split(" link to ", 1)[0]
    target = ""
    if mode[0] == "l":
        name, target = name.split(" -> ", 1)
    if kind == "squashfs":
        name = "." if name == "squashfs-root" else name[len("squashfs-root/"):]
    else:
        while name.startswith("./"):
            name = name[2:]
        name = name.rstrip("/") or "."
    dev = " " + re.sub(r"\s", "", size) if mode[0] in "cb" else ""
    rows.append(f"{mode} {uid}/{gid}{dev} {name}" + (f" -> {target}" if target else ""))
print("\n".join(sorted(rows)))
' "$1"
}

# The entries of an appliance's image (offset from `info --json` unless given).
image_listing() {  # APP [OFFSET]
  local offset=${2:-}
  if [[ -z $offset ]]; then
    info_json "$1" "$TEST_TMP/.lib/listing-info.json"
    offset=$(json_get "$TEST_TMP/.lib/listing-info.json" image_offset)
  fi
  unsquashfs -o "$offset" -lln "$1" | _normalize_listing squashfs
}

tarball_listing() {  # TARBALL
  tar -tvf "$1" --numeric-owner | _normalize_listing tar
}

# --- checks on what a build leaves behind ----------------------------------------------------

# No ".OUT.havre-XXXXXX" work directory in DIR, and none of the OUTPUTs exists.
check_no_leftovers() {  # DIR [OUTPUT...]
  local dir=$1
  shift
  local left
  left=$(find "$dir" -mindepth 1 -maxdepth 1 -name '.*.havre-*' -printf '%f ')
  expect_eq "no temporary work directory left in ${dir#"$TEST_TMP"/}" "$left" ""
  local out
  for out; do
    if [[ -e $out || -L $out ]]; then _failed "no output file ${out#"$TEST_TMP"/}" "$out exists"; else _pass "no output file ${out#"$TEST_TMP"/}"; fi
  done
}

# PIDs of live processes whose environment holds HAVRE_TEST_MARK=MARK (havre-pack started with it,
# and everything it started, daemons included: they keep the environment when they detach).
procs_with_mark() {  # MARK
  "$PYTHON" -I -S - "HAVRE_TEST_MARK=$1" <<'EOF'
import os, sys
want = sys.argv[1].encode()
found = []
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        if want not in open(f"/proc/{pid}/environ", "rb").read().split(b"\0"):
            continue
        stat = open(f"/proc/{pid}/stat").read()
    except OSError:  # gone, or not ours to read
        continue
    comm, state = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2]
    if state != "Z":  # a zombie holds nothing; reaping it is its parent's business
        found.append(f"{pid}({comm})")
print(" ".join(found))
EOF
}

# --- an unprivileged user --------------------------------------------------------------------

# As root: make sure the system user havre-test exists. As anyone else: we already are unprivileged.
ensure_test_user() {
  [[ $(id -u) -eq 0 ]] || return 0
  require_cmd useradd
  if ! id -u "$TEST_USER" >/dev/null 2>&1; then
    # Another test running in parallel may win the race; only its absence afterwards is an error.
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin "$TEST_USER" 2>/dev/null || true
    id -u "$TEST_USER" >/dev/null 2>&1 || fail "cannot create the user $TEST_USER"
  fi
}

# Runs CMD as havre-test (as root), or as ourselves when not root.
as_test_user() {
  if [[ $(id -u) -ne 0 ]]; then
    "$@"
    return
  fi
  # The test's cache directory belongs to root; the test user gets one of its own.
  local cache=$TEST_TMP/.cache-$TEST_USER
  mkdir -p "$cache" && chown "$TEST_USER:" "$cache"
  if command -v runuser >/dev/null 2>&1; then
    XDG_CACHE_HOME=$cache runuser -u "$TEST_USER" -- "$@"
  else
    XDG_CACHE_HOME=$cache setpriv --reuid="$TEST_USER" --regid="$TEST_USER" --init-groups -- "$@"
  fi
}

# A directory under the test's temp dir that the test user owns.
test_user_dir() {  # NAME
  local d=$TEST_TMP/$1
  mkdir -p "$d"
  if [[ $(id -u) -eq 0 ]]; then chown "$TEST_USER:$TEST_USER" "$d"; fi
  printf '%s\n' "$d"
}

# --- root filesystems ------------------------------------------------------------------------

# A rootfs tarball around Debian's static busybox, with headers written by Python's tarfile so
# that ownership, modes and node types are exactly what the test says, whoever runs it:
# setuid/setgid files, files and a directory owned by 1000:1000, devices, a fifo, a hard link,
# directories with modes that would lock out an unprivileged extractor.
make_busybox_tarball() {  # OUT (.tar, .tar.gz, .tar.xz)
  local busybox=/bin/busybox
  [[ -x $busybox ]] || skip "$busybox is missing (Debian package busybox-static)"
  file -L "$busybox" | grep -q 'statically linked' || skip "$busybox is not statically linked (install busybox-static)"
  "$PYTHON" -I -S - "$1" "$busybox" <<'EOF'
import io, sys, tarfile
out, busybox = sys.argv[1], sys.argv[2]
mode = "w:gz" if out.endswith(".gz") else "w:xz" if out.endswith(".xz") else "w"
MTIME = 1700000000
with tarfile.open(out, mode, format=tarfile.GNU_FORMAT) as tar:
    def add(name, kind=tarfile.REGTYPE, perm=0o644, owner=(0, 0), data=b"", link="", dev=(0, 0)):
        info = tarfile.TarInfo(name)
        info.type, info.mode, (info.uid, info.gid) = kind, perm, owner
        info.uname = info.gname = ""
        info.linkname, (info.devmajor, info.devminor) = link, dev
        info.mtime = MTIME
        info.size = len(data) if kind == tarfile.REGTYPE else 0
        tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
    d, sym, hard = tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE
    add("./", d, 0o755)
    add("./bin/", d, 0o755)
    add("./bin/busybox", perm=0o755, data=open(busybox, "rb").read())
    for applet in ("sh", "ls", "cat", "echo", "id", "stat", "sleep"):
        add(f"./bin/{applet}", sym, 0o777, link="busybox")
    add("./bin/busybox.hard", hard, 0o755, link="./bin/busybox")
    add("./sbin/", d, 0o755)
    add("./sbin/suid-root", perm=0o4755, data=b"#!/bin/sh\nid\n")
    add("./sbin/sgid-shadow", perm=0o2755, owner=(0, 42), data=b"#!/bin/sh\ncat /etc/shadow\n")
    add("./etc/", d, 0o755)
    add("./etc/passwd", data=b"root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n")
    add("./etc/group", data=b"root:x:0:\nshadow:x:42:\nuser:x:1000:\n")
    add("./etc/shadow", perm=0o640, owner=(0, 42), data=b"root:*:19000:0:99999:7:::\n")
    add("./etc/owned-by-user", owner=(1000, 1000), data=b"mine\n")
    add("./etc/no-permissions", perm=0o000, data=b"nobody may read this\n")
    add("./home/", d, 0o755)
    add("./home/user/", d, 0o750, owner=(1000, 1000))
    add("./home/user/notes.txt", perm=0o600, owner=(1000, 1000), data=b"private\n")
    add("./root/", d, 0o700)
    add("./root/.profile", perm=0o600, data=b"export PS1='# '\n")
    add("./locked/", d, 0o000)
    add("./locked/inside", data=b"behind a mode-0 directory\n")
    add("./dev/", d, 0o755)
    add("./dev/null", tarfile.CHRTYPE, 0o666, dev=(1, 3))
    add("./dev/loop0", tarfile.BLKTYPE, 0o660, owner=(0, 6), dev=(7, 0))
    add("./run/", d, 0o755)
    add("./run/initctl", tarfile.FIFOTYPE, 0o600)
    add("./tmp/", d, 0o1777)
    add("./var/", d, 0o755)
    add("./var/empty/", d, 0o555, owner=(65534, 65534))
EOF
}

# A tarball from a list of hostile or odd entries, given as Python tuples on stdin:
#   ("reg", NAME) ("dir", NAME) ("sym", NAME, TARGET) ("hard", NAME, TARGET)
make_tarball_from_spec() {  # OUT < SPEC
  "$PYTHON" -I -S -c '
import ast, io, sys, tarfile
kinds = {"reg": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "sym": tarfile.SYMTYPE, "hard": tarfile.LNKTYPE}
with tarfile.open(sys.argv[1], "w", format=tarfile.GNU_FORMAT) as tar:
    for line in sys.stdin.read().splitlines():
        if not line.strip():
            continue
        spec = ast.literal_eval(line)
        info = tarfile.TarInfo(spec[1])
        info.type = kinds[spec[0]]
        info.mode = 0o755 if spec[0] == "dir" else 0o644
        info.mtime = 1700000000
        if len(spec) > 2:
            info.linkname = spec[2]
        data = b"written by a hostile tarball\n" if spec[0] == "reg" else b""
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data) if data else None)
' "$1"
}

# Every helper above leans on python3.
require_python
