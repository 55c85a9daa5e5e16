#!/usr/bin/env bash
# Mistakes in the recipe keys for alpine and debootstrap bases, files, run, exclude, user and args
# are refused before any work starts, naming recipe.yaml:LINE:COL and the key; nothing is
# written, no work directory is left, nothing is downloaded or bootstrapped.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/recipe_lib.sh"

require_binaries
require_cmd mksquashfs fakeroot

cd "$TEST_TMP"
mkdir -p base-dir/etc
printf 'x\n' >file.txt
SHA=d4e6fd67dcf75e40c451560ac7265166c2b72a0f38ddc9aae756a7de3d1efa0c
# A debootstrap that records being called: no recipe mistake may get as far as bootstrapping.
fake_failing_command fakebin debootstrap
export PATH=$TEST_TMP/fakebin:$PATH

# bad_recipe NAME WANT_LOCATION WANT_TEXT < RECIPE: refused, naming recipe.yaml:LINE:COL and the key.
bad_recipe() {
  local name=$1 location=$2 text=$3
  cat >recipe.yaml
  rm -f out
  pack recipe.yaml out --cache-dir cache
  expect_failed "$name: refused (exit status $RC)"
  expect_contains "$name: names recipe.yaml:$location" "$ERR" "error: recipe.yaml:$location: "
  expect_contains "$name: explains" "$ERR" "$text"
  expect_eq "$name: nothing on stdout" "$OUT" ""
  expect_eq "$name: one line on stderr" "$(wc -l <<<"$ERR")" 1
  check_no_leftovers "$TEST_TMP" out
}

# --- base.alpine ---
bad_recipe "alpine without sha256" 3:11 "base.alpine: missing required key 'sha256'" <<'EOF'
name: x
base:
  alpine: {version: 3.20.3, arch: x86_64}
EOF
bad_recipe "alpine without version" 3:11 "base.alpine: missing required key 'version'" <<EOF
name: x
base:
  alpine: {sha256: $SHA}
EOF
bad_recipe "alpine version 'latest'" 4:14 "base.alpine.version: expected a release version like 3.20.3" <<EOF
name: x
base:
  alpine:
    version: latest
    sha256: $SHA
EOF
bad_recipe "alpine version 3.20" 4:14 "base.alpine.version: expected a release version like 3.20.3" <<EOF
name: x
base:
  alpine:
    version: "3.20"
    sha256: $SHA
EOF
bad_recipe "alpine arch with a slash" 5:11 "base.alpine.arch: not an architecture name" <<EOF
name: x
base:
  alpine:
    version: 3.20.3
    arch: ../x86
    sha256: $SHA
EOF
bad_recipe "alpine short sha256" 5:13 "base.alpine.sha256: expected 64 hex digits" <<'EOF'
name: x
base:
  alpine:
    version: 3.20.3
    sha256: d4e6fd67
EOF
bad_recipe "alpine unknown key" 5:5 "base.alpine.url: unknown key" <<EOF
name: x
base:
  alpine:
    version: 3.20.3
    url: https://example.invalid/x.tar.gz
    sha256: $SHA
EOF
bad_recipe "two kinds of base" 2:7 "base: expected exactly one of: alpine, debootstrap, directory, tarball" <<EOF
name: x
base: {directory: base-dir, alpine: {version: 3.20.3, sha256: $SHA}}
EOF

# --- base.debootstrap ---
bad_recipe "debootstrap without suite" 4:5 "base.debootstrap: missing required key 'suite'" <<'EOF'
name: x
base:
  debootstrap:
    variant: minbase
EOF
bad_recipe "debootstrap suite with a space" 3:24 "base.debootstrap.suite: 'bookworm main' is not a valid name" <<'EOF'
name: x
base:
  debootstrap: {suite: bookworm main}
EOF
bad_recipe "debootstrap include with an option" 5:14 "base.debootstrap.include: '--foo' is not a valid name" <<'EOF'
name: x
base:
  debootstrap:
    suite: bookworm
    include: [jq, --foo]
EOF
bad_recipe "debootstrap mirror not a URL" 5:13 "base.debootstrap.mirror: expected a URL" <<'EOF'
name: x
base:
  debootstrap:
    suite: bookworm
    mirror: not a url
EOF
bad_recipe "debootstrap unknown key" 5:5 "base.debootstrap.release: unknown key" <<'EOF'
name: x
base:
  debootstrap:
    suite: bookworm
    release: 12
EOF

# --- files ---
bad_recipe "files not a list" 3:8 "files: expected a list of {src, dst, mode, owner}" <<'EOF'
name: x
base: {directory: base-dir}
files: {src: file.txt, dst: /etc/file.txt}
EOF
bad_recipe "files entry without dst" 4:5 "files[0]: missing required key 'dst'" <<'EOF'
name: x
base: {directory: base-dir}
files:
  - src: file.txt
    mode: "0644"
EOF
bad_recipe "files entry without src" 5:5 "files[1]: missing required key 'src'" <<'EOF'
name: x
base: {directory: base-dir}
files:
  - {src: file.txt, dst: /etc/a}
  - {dst: /etc/b}
EOF
bad_recipe "files dst relative" 4:26 "files[0].dst: must be an absolute path in the image" <<'EOF'
name: x
base: {directory: base-dir}
files:
  - {src: file.txt, dst: etc/file.txt}
EOF
bad_recipe "files dst /" 4:26 "files[0].dst: must name a path below /" <<'EOF'
name: x
base: {directory: base-dir}
files:
  - {src: file.txt, dst: /}
EOF
bad_recipe "files mode '999'" 4:40 "files[0].mode: expected an octal mode like 0755" <<'EOF'
name: x
base: {directory: base-dir}
files:
  - {src: file.txt, dst: /etc/a, mode: '999'}
EOF
bad_recipe "files mode 'rwx'" 6:11 "files[0].mode: expected an octal mode like 0755" <<'EOF'
name: x
base: {directory: base-dir}
files:
  - src: file.txt
    dst: /etc/a
    mode: rwxr-xr-x
EOF
bad_recipe "files owner 'bob'" 4:41 "files[0].owner: expected a numeric owner UID[:GID], got 'bob'" <<'EOF'
name: x
base: {directory: base-dir}
files:
  - {src: file.txt, dst: /etc/a, owner: bob}
EOF
bad_recipe "files owner 'bob:bob'" 4:41 "files[0].owner: expected a numeric owner UID[:GID], got 'bob:bob'" <<'EOF'
name: x
base: {directory: base-dir}
files:
  - {src: file.txt, dst: /etc/a, owner: "bob:bob"}
EOF
bad_recipe "files owner out of range" 4:41 "files[0].owner: owner '4294967295' is out of range" <<'EOF'
name: x
base: {directory: base-dir}
files:
  - {src: file.txt, dst: /etc/a, owner: "4294967295"}
EOF
bad_recipe "files entry unknown key" 4:34 "files[0].chmod: unknown key" <<'EOF'
name: x
base: {directory: base-dir}
files:
  - {src: file.txt, dst: /etc/a, chmod: "0644"}
EOF

# --- run ---
bad_recipe "run not a list" 3:6 "run: expected a list of strings" <<'EOF'
name: x
base: {directory: base-dir}
run: echo hello
EOF
bad_recipe "run item not a string" 5:5 "run[1]: expected a string" <<'EOF'
name: x
base: {directory: base-dir}
run:
  - echo hello
  - {sh: echo}
EOF

# --- exclude ---
bad_recipe "exclude with .." 3:21 "exclude[1]: expected a glob inside the image" <<'EOF'
name: x
base: {directory: base-dir}
exclude: ["/etc/*", "/var/../../etc"]
EOF
bad_recipe "exclude empty" 3:11 "exclude[0]: expected a glob inside the image" <<'EOF'
name: x
base: {directory: base-dir}
exclude: [""]
EOF
bad_recipe "exclude not a list" 3:10 "exclude: expected a list of strings" <<'EOF'
name: x
base: {directory: base-dir}
exclude: /etc/motd
EOF

# --- user, args ---
bad_recipe "user 'bob'" 3:7 "user: expected a numeric owner UID[:GID], got 'bob'" <<'EOF'
name: x
base: {directory: base-dir}
user: bob
EOF
bad_recipe "user '1000:'" 3:7 "user: expected a numeric owner UID[:GID], got '1000:'" <<'EOF'
name: x
base: {directory: base-dir}
user: "1000:"
EOF
bad_recipe "args 'sometimes'" 3:7 "args: the only value is 'passthrough'" <<'EOF'
name: x
base: {directory: base-dir}
args: sometimes
EOF

# --- reported before any work: nothing downloaded, nothing bootstrapped ---
bad_recipe "mistake after a debootstrap base" 5:36 "files[0].mode: expected an octal mode" <<'EOF'
name: x
base:
  debootstrap: {suite: bookworm, variant: minbase}
files:
  - {src: file.txt, dst: /a, mode: "8"}
EOF
expect_absent "no recipe mistake ran debootstrap" fakebin/debootstrap.calls
expect_eq "no recipe mistake cached anything" "$(if [[ -d cache ]]; then find cache -type f; fi)" ""

# The valid forms of the same keys are accepted (the recipe gets past parsing to the base).
cat >recipe.yaml <<'EOF'
name: x
base: {directory: base-dir}
files:
  - {src: file.txt, dst: /etc/a, mode: "644", owner: "1000"}
  - {src: file.txt, dst: /etc/b, mode: "0755", owner: "1000:1001"}
exclude: ["/etc/a*"]
user: "1000:1000"
args: passthrough
EOF
pack recipe.yaml ok --cache-dir cache
expect_rc "the valid forms: the build succeeds" 0
check_no_leftovers "$TEST_TMP"
if [[ -x ok ]]; then
  run ./ok --havre-info --json  # args: passthrough, so the runtime's commands are --havre-*
  printf '%s\n' "$OUT" >ok.json
  load_json I ok.json
  expect_eq "the valid forms: manifest user" "${I[manifest.user]}" 1000:1000
  expect_eq "the valid forms: manifest args" "${I[manifest.args]}" passthrough
fi
