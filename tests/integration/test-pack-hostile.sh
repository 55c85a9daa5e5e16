#!/usr/bin/env bash
# Tarballs that try to write outside the staging directory are refused: non-zero exit, the
# offending entry named on stderr, no output, no work directory left, and nothing written outside.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

require_binaries
require_cmd fakeroot mksquashfs

cd "$TEST_TMP"
# Everything a hostile entry could reach: the output directory is a few levels down, so "../" paths
# land in directories this test watches; absolute names and links point at $victim.
victim=$TEST_TMP/victim
mkdir -p "$victim" out/a/b
mark=havre-hostile-$$-$RANDOM  # unique names, so a hit cannot be someone else's file

# hostile NAME WHY_ENTRY SPEC...: builds the tarball, packs it, checks the refusal.
hostile() {
  local name=$1 entry=$2
  shift 2
  printf '%s\n' "$@" | make_tarball_from_spec "$name.tar"
  cat >"$name.yaml" <<EOF
name: $name
base:
  tarball:
    path: $name.tar
EOF
  pack "$name.yaml" "out/a/b/$name"
  expect_failed "$name: refused (exit status $RC)"
  expect_contains "$name: stderr names the entry '$entry'" "$ERR" "'$entry'"
  expect_contains "$name: stderr says it was refused" "$ERR" "refused"
  [[ -z ${VERBOSE:-} ]] || say "     stderr: $ERR"
  check_no_leftovers out/a/b "out/a/b/$name"
  local found
  found=$(find "$TEST_TMP" /tmp -maxdepth 6 -name "$mark*" -print 2>/dev/null || true)
  expect_eq "$name: no $mark* file written anywhere" "$found" ""
  expect_eq "$name: the victim directory is still empty" "$(ls -A "$victim")" ""
}

# A harmless entry first, so a refusal cannot come from an empty or unreadable archive.
ok='("dir", "./")'
ok2='("reg", "./fine")'

hostile dotdot "../$mark-escape" "$ok" "$ok2" "(\"reg\", \"../$mark-escape\")"
hostile deep-dotdot "a/../../../../$mark-deep" "$ok" "$ok2" '("dir", "a/")' "(\"reg\", \"a/../../../../$mark-deep\")"
hostile absolute "$victim/$mark-abs" "$ok" "$ok2" "(\"reg\", \"$victim/$mark-abs\")"
hostile abs-root "/$mark-root" "$ok" "$ok2" "(\"reg\", \"/$mark-root\")"
# A symlink to a directory outside, then a file "inside" it: written through the link.
hostile symlink-abs "evil/$mark-owned" "$ok" "$ok2" "(\"sym\", \"evil\", \"$victim\")" \
  "(\"reg\", \"evil/$mark-owned\")"
hostile symlink-rel "evil/$mark-owned" "$ok" "$ok2" '("sym", "evil", "../../../../../../../../..'"$victim"'")' \
  "(\"reg\", \"evil/$mark-owned\")"
hostile symlink-tmp "evil/$mark-owned" "$ok" "$ok2" '("sym", "evil", "/tmp")' "(\"reg\", \"evil/$mark-owned\")"
# A symlinked directory, then a directory and a file below it.
hostile symlink-dir "evil/sub/" "$ok" "$ok2" "(\"sym\", \"evil\", \"$victim\")" '("dir", "evil/sub/")' \
  "(\"reg\", \"evil/sub/$mark-owned\")"
# Hard links that name something outside the archive.
hostile hardlink-dotdot "link" "$ok" "$ok2" '("hard", "link", "../x")'
hostile hardlink-abs "link" "$ok" "$ok2" '("hard", "link", "/etc/passwd")'
# A hard link through a symlink to a file outside.
mkdir outside
echo precious >outside/target
hostile hardlink-via-symlink "link" "$ok" "$ok2" "(\"sym\", \"evil\", \"$TEST_TMP/outside\")" '("hard", "link", "evil/target")'
expect_eq "the file outside has no new hard link" "$(stat -c %h outside/target)" 1
expect_eq "the file outside is unchanged" "$(cat outside/target)" precious

# The same safe entries without the hostile one pack fine: the refusals above were about that entry.
printf '%s\n' "$ok" "$ok2" '("sym", "inside", "fine")' '("hard", "again", "fine")' | make_tarball_from_spec safe.tar
printf 'name: safe\nbase:\n  tarball:\n    path: safe.tar\n' >safe.yaml
pack safe.yaml out/a/b/safe
expect_rc "a harmless tarball with the same kinds of entries packs" 0
