#!/usr/bin/env bash
# A recipe's files, run steps and exclude globs on Alpine's minirootfs (a local tarball base):
# files land with the modes and owners the recipe gives, in new directories too; run steps run as
# root in a container on the staged tree, their output prefixed "[step N] "; a failing step stops
# the build naming the step and its exit status; excluded paths stay out of the image. A missing
# source names the recipe's line, and a base whose symlinks point out of the tree (at the host's
# /tmp) cannot make a files entry write outside the tree. Needs root (run steps do).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/recipe_lib.sh"

require_binaries
require_root "run steps need root"
require_cmd mksquashfs unsquashfs
require_alpine_tarball

cd "$TEST_TMP"

# --- sources for the files entries ---
mkdir -p src/tree/sub src/conf-dir
printf '#!/bin/sh\necho "tool ran as $(id -u)"\n' >src/tool
chmod 644 src/tool  # the recipe makes it executable
printf 'top\n' >src/tree/a.txt
printf 'deep\n' >src/tree/sub/b.txt
printf 'noise\n' >src/tree/sub/debug.log
printf 'kept\n' >src/tree/sub/keep.log.txt
ln -s a.txt src/tree/link-to-a
chmod 700 src/tree/sub
printf 'key=value\n' >src/app.conf

alpine_recipe recipe.yaml filesrun <<'EOF'
env:
  GREETING: hello-from-env
files:
  - {src: src/tool, dst: /usr/local/bin/tool, mode: "0755", owner: "1000:1000"}
  - {src: src/tree, dst: /opt/tree}
  - {src: src/tree, dst: /srv/owned, mode: "0750", owner: "1234"}
  - {src: src/app.conf, dst: /new/dir/app.conf, mode: "0600"}
run:
  - echo "hello from step 1"; echo built-by-step-1 >/etc/step-file; /usr/local/bin/tool >/tool-output
  - |
    for i in 1 2 3; do
      echo "line $i"
    done >/multi
    cat /multi
    echo "GREETING=$GREETING" >/env-seen
    mkdir -p /var/scratch && echo scratch >/var/scratch/junk.tmp && echo keep >/var/scratch/keep
exclude: ["/etc/motd", "/opt/tree/sub/*.log", "/var/scratch/*.tmp"]
EOF

# --- the build ---
pack recipe.yaml app
expect_rc "build: succeeds" 0
build_err=$ERR
expect_eq "build: nothing on stdout" "$OUT" ""
expect_contains "build: step 1 output is prefixed [step 1]" "$build_err" $'\n[step 1] hello from step 1\n'
expect_contains "build: the step's command is announced" "$build_err" 'havre-pack: [step 1] echo "hello from step 1"'
expect_contains "build: step 2 output is prefixed [step 2]" "$build_err" $'[step 2] line 1\n[step 2] line 2\n[step 2] line 3'
check_no_leftovers "$TEST_TMP"
[[ -x app ]] || fail "no appliance: $build_err"

# stat of a path in the image: "MODE UID:GID TYPE"
img_stat() { ./app run stat -c '%a %u:%g %F' "$1" 2>&1; }

# files: a file made executable and owned by 1000:1000
expect_eq "files: tool has mode 755 and owner 1000:1000" "$(img_stat /usr/local/bin/tool)" "755 1000:1000 regular file"
expect_eq "files: the source keeps its own mode" "$(stat -c %a src/tool)" 644
run ./app run /usr/local/bin/tool
expect_eq "files: tool runs in the appliance" "$OUT" "tool ran as 0"
# files: a directory tree, with no mode/owner: root-owned, the sources' permission bits
expect_eq "files: tree dir" "$(img_stat /opt/tree)" "755 0:0 directory"
expect_eq "files: tree file" "$(img_stat /opt/tree/a.txt)" "644 0:0 regular file"
expect_eq "files: tree subdir keeps its mode" "$(img_stat /opt/tree/sub)" "700 0:0 directory"
expect_eq "files: tree nested file" "$(img_stat /opt/tree/sub/b.txt)" "644 0:0 regular file"
run ./app run cat /opt/tree/sub/b.txt
expect_eq "files: tree nested file content" "$OUT" deep
run ./app run readlink /opt/tree/link-to-a
expect_eq "files: a symlink in the tree stays a symlink" "$OUT" a.txt
# files: a tree with mode and owner: applied to everything copied; "1234" means 1234:1234
expect_eq "files: owned tree dir" "$(img_stat /srv/owned)" "750 1234:1234 directory"
expect_eq "files: owned tree file" "$(img_stat /srv/owned/a.txt)" "750 1234:1234 regular file"
expect_eq "files: owned tree nested file" "$(img_stat /srv/owned/sub/b.txt)" "750 1234:1234 regular file"
# files: dst in directories that did not exist: created root-owned 0755
expect_eq "files: new parent /new" "$(img_stat /new)" "755 0:0 directory"
expect_eq "files: new parent /new/dir" "$(img_stat /new/dir)" "755 0:0 directory"
expect_eq "files: file in new directory" "$(img_stat /new/dir/app.conf)" "600 0:0 regular file"
run ./app run cat /new/dir/app.conf
expect_eq "files: file in new directory: content" "$OUT" key=value

# run steps
run ./app run cat /etc/step-file
expect_eq "run: step 1 wrote its file" "$OUT" built-by-step-1
expect_eq "run: the step's file is root-owned" "$(img_stat /etc/step-file)" "644 0:0 regular file"
run ./app run cat /tool-output
expect_eq "run: steps run as root, after the files are in place" "$OUT" "tool ran as 0"
run ./app run cat /multi
expect_eq "run: the multi-line step ran whole" "$OUT" $'line 1\nline 2\nline 3'
run ./app run cat /env-seen
expect_eq "run: steps see the recipe's env" "$OUT" GREETING=hello-from-env

# exclude
run ./app run test -e /etc/motd
expect_rc "exclude: /etc/motd is not in the image" 1
run ./app run test -e /etc/os-release
expect_rc "exclude: its sibling /etc/os-release is" 0
run ./app run ls /opt/tree/sub
expect_eq "exclude: /opt/tree/sub/*.log left out, the rest kept" "$OUT" $'b.txt\nkeep.log.txt'
run ./app run ls /srv/owned/sub
expect_eq "exclude: the same file elsewhere is kept" "$OUT" $'b.txt\ndebug.log\nkeep.log.txt'
run ./app run ls /var/scratch
expect_eq "exclude: a step's file matching a glob is left out" "$OUT" keep

# --- failing steps ---
# bad_steps NAME WANT_MESSAGE < RUN_YAML
bad_steps() {
  local name=$1 want=$2
  alpine_recipe "$name.yaml" "$name"
  cat >>"$name.yaml"
  pack "$name.yaml" "$name.app"
  expect_failed "$name: the build fails (exit status $RC)"
  expect_contains "$name: names the step and its exit status" "$ERR" "error: $want"
  expect_eq "$name: nothing on stdout" "$OUT" ""
  check_no_leftovers "$TEST_TMP" "$name.app"
}

bad_steps step2-false "step 2 (false) failed with exit status 1" <<'EOF'
run:
  - echo "first step ran"
  - "false"
  - echo "third step ran"
EOF
expect_contains "step2-false: step 1 ran before" "$ERR" "[step 1] first step ran"
expect_not_contains "step2-false: step 3 did not run" "$ERR" "third step ran"

bad_steps exit3 "step 1 (exit 3) failed with exit status 3" <<'EOF'
run:
  - exit 3
EOF

# /bin/sh -e: a failing command stops a multi-line step; the message quotes its first line.
bad_steps errexit "step 1 (echo before) failed with exit status 7" <<'EOF'
run:
  - |
    echo before
    sh -c 'exit 7'
    echo after
EOF
expect_contains "errexit: output before the failure is shown" "$ERR" "[step 1] before"
expect_not_contains "errexit: the step stopped at the failing command" "$ERR" "[step 1] after"

bad_steps not-found "step 1 (no-such-command-xyz) failed with exit status 127" <<'EOF'
run:
  - no-such-command-xyz
EOF

# --- run steps need root ---
ensure_test_user
outdir=$(test_user_dir unprivileged)
run as_test_user "$PACK" recipe.yaml -o "$outdir/app"
expect_failed "unprivileged: a recipe with run steps is refused"
expect_contains "unprivileged: says run steps need root" "$ERR" "\`run\` steps need root"
expect_absent "unprivileged: no output" "$outdir/app"
check_no_leftovers "$outdir"

# --- a files entry whose source is missing: the recipe's file and line ---
alpine_recipe missing-src.yaml missing-src <<'EOF'
files:
  - {src: src/app.conf, dst: /etc/app.conf}
  - {src: src/no-such-file, dst: /etc/no-such-file}
EOF
# the second files entry is on line 8 of missing-src.yaml
pack missing-src.yaml missing-src.app
expect_failed "missing src: the build fails"
expect_contains "missing src: names the recipe file and line" "$ERR" "missing-src.yaml:8"
expect_contains "missing src: names the missing source" "$ERR" "$TEST_TMP/src/no-such-file"
check_no_leftovers "$TEST_TMP" missing-src.app
pack missing-src.yaml missing-src.app --no-image-cache
expect_failed "missing src, --no-image-cache: the build fails"
expect_contains "missing src, --no-image-cache: names the recipe file and line" "$ERR" "missing-src.yaml:8"
check_no_leftovers "$TEST_TMP" missing-src.app

# --- symlinks in the base that point at the host's /tmp ---
tag=havre-escape-$$-$RANDOM
host_files() { find /tmp -maxdepth 2 -name "$tag*" 2>/dev/null | sort; }
printf '%s\n' '("dir", "./")' '("sym", "./etc", "/tmp")' | make_tarball_from_spec etc-to-tmp.tar
printf '%s\n' '("dir", "./")' '("dir", "./etc/")' "(\"sym\", \"./etc/inner\", \"/tmp\")" \
  "(\"sym\", \"./etc/passwd\", \"/tmp/$tag-passwd\")" | make_tarball_from_spec inner-to-tmp.tar
mkdir -p merge/inner
printf 'evil\n' >"merge/inner/$tag-merged"
printf 'host\n' >"/tmp/$tag-passwd"

hostile() {  # NAME TARBALL DST SRC -> refused
  printf 'name: %s\nbase:\n  tarball:\n    path: %s\nfiles:\n  - {src: %s, dst: %s}\n' "$1" "$2" "$4" "$3" >"$1.yaml"
  pack "$1.yaml" "$1.app"
}

hostile etc-symlink etc-to-tmp.tar "/etc/$tag-file" src/app.conf
expect_failed "/etc -> /tmp, dst /etc/FILE: refused"
expect_contains "/etc -> /tmp, dst /etc/FILE: names the recipe line" "$ERR" "etc-symlink.yaml:6"
expect_contains "/etc -> /tmp, dst /etc/FILE: says /etc is a symlink" "$ERR" "/etc is a symlink"
check_no_leftovers "$TEST_TMP" etc-symlink.app

hostile etc-symlink-sub etc-to-tmp.tar "/etc/$tag-dir/file" src/app.conf
expect_failed "/etc -> /tmp, dst /etc/NEWDIR/FILE: refused"
expect_contains "/etc -> /tmp, dst /etc/NEWDIR/FILE: says /etc is a symlink" "$ERR" "/etc is a symlink"
check_no_leftovers "$TEST_TMP" etc-symlink-sub.app

hostile etc-symlink-tree etc-to-tmp.tar "/etc/$tag-tree" src/tree
expect_failed "/etc -> /tmp, a tree to /etc/DIR: refused"
check_no_leftovers "$TEST_TMP" etc-symlink-tree.app
expect_eq "/etc -> /tmp: nothing written to the host's /tmp" "$(host_files | grep -v -- "-passwd\$" || true)" ""

# The dst itself is a symlink out of the tree: it is replaced, the host file is untouched.
hostile passwd-symlink inner-to-tmp.tar /etc/passwd src/app.conf
expect_rc "dst is a symlink to a host file: the build succeeds, replacing the symlink" 0
expect_eq "dst is a symlink to a host file: the host file is untouched" "$(cat "/tmp/$tag-passwd")" host
if [[ -f passwd-symlink.app ]]; then
  off=$(json_get <(./passwd-symlink.app info --json) image_offset)
  expect_eq "dst is a symlink to a host file: the image holds the new file" \
    "$(unsquashfs -o "$off" -cat passwd-symlink.app etc/passwd 2>&1)" key=value
fi

# A tree copied onto an existing directory of the image whose entry is a symlink to /tmp: the copy
# must not follow it onto the host.
hostile merge-through-symlink inner-to-tmp.tar /etc merge
expect_eq "tree merged over /etc/inner -> /tmp: nothing written to the host's /tmp" \
  "$(host_files | grep -v -- "-passwd\$" || true)" ""
check_no_leftovers "$TEST_TMP"
rm -rf "/tmp/$tag"* 2>/dev/null || true
