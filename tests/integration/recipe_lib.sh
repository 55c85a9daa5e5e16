# shellcheck shell=bash
# Helpers for the recipe tests (bases, files, run steps, caches, downloads). Source it after lib.sh:
#   source "$(dirname "$0")/lib.sh"
#   source "$(dirname "$0")/recipe_lib.sh"

# The cache's tmp/ holds nothing: no partial download or half-written cache entry was left behind.
expect_cache_tmp_empty() {  # DESC CACHE_DIR
  expect_eq "$1" "$(ls -A "$2/tmp" 2>/dev/null || true)" ""
}

# Fails a check when FILE (or symlink) exists.
expect_absent() {  # DESC PATH
  if [[ -e $2 || -L $2 ]]; then _failed "$1" "$2 exists"; else _pass "$1"; fi
}

# Seconds since the epoch, with milliseconds, for timing builds.
now_ms() { date +%s%3N; }

# Writes FILE: a recipe on Alpine's minirootfs as a local tarball base, followed by the YAML on stdin
# (files, run, exclude, cmd ... at the top level).
alpine_recipe() {  # FILE NAME < EXTRA_YAML
  {
    printf 'name: %s\nbase:\n  tarball:\n    path: %s\n    sha256: %s\n' "$2" "$ALPINE_TARBALL" "$ALPINE_SHA256"
    cat
  } >"$1"
}

# Sets DEB_MIRROR to the mirror debootstrap uses by default (read from debootstrap itself, so no
# host name is written into the tests) and checks that it answers for SUITE. Without debootstrap
# or the network the test is skipped -- a failure under CI=true.
require_debian_archive() {  # SUITE
  local suite=${1:-bookworm} debootstrap
  require_cmd debootstrap dpkg zstd
  debootstrap=$(command -v debootstrap)
  DEB_MIRROR=$(sed -n 's/^DEF_MIRROR="\(.*\)"$/\1/p' "$debootstrap" | head -n1)
  [[ -n $DEB_MIRROR ]] || fail "cannot find debootstrap's default mirror (DEF_MIRROR) in $debootstrap"
  local probe
  if ! probe=$("$PYTHON" -I -S - "$DEB_MIRROR/dists/$suite/Release" 2>&1 <<'EOF'
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=20) as r:
    if r.status != 200 or not r.read(64):
        sys.exit(f"HTTP {r.status}")
EOF
  ); then
    skip "Debian's archive is unreachable ($DEB_MIRROR/dists/$suite/Release: ${probe##*$'\n'}); this test needs the network"
  fi
}

# A fake command NAME in a new directory DIR that records each call in DIR/NAME.calls and fails.
# Put DIR first in PATH to prove that a build does not run NAME.
fake_failing_command() {  # DIR NAME
  mkdir -p "$1"
  printf '#!/bin/sh\necho "$0 $*" >>"%s/%s.calls"\necho "fake %s: must not run" >&2\nexit 99\n' \
    "$1" "$2" "$2" >"$1/$2"
  chmod 755 "$1/$2"
}
