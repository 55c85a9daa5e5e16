#!/usr/bin/env bash
# `files: src:` edge cases. A source named with a component over 255 bytes is an error naming the
# recipe line (before: an uncaught std::filesystem exception, exit 134, the work directory left). A
# source that is a symlink is copied as a symlink, as inside a copied tree (before: it was followed,
# and the target's contents were copied under the link's name).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/recipe_lib.sh"

require_binaries
require_cmd mksquashfs
require_alpine_tarball
cd "$TEST_TMP"

long=$(printf 'x%.0s' {1..300})
mkdir out-long dir  # dir exists: the kernel sees the long name (and refuses it)
alpine_recipe long.yaml long <<EOF
files:
  - {src: dir/$long/file, dst: /etc/file}
EOF
pack long.yaml out-long/app
expect_rc "a 300-byte path component: exit status 1" 1
expect_contains "a 300-byte path component: the error names the recipe line" "$ERR" "long.yaml:7: files: /etc/file: source"
expect_contains "a 300-byte path component: and the reason" "$ERR" "File name too long"
check_no_leftovers out-long out-long/app

mkdir -p src/dir
printf 'data\n' >src/data.txt
printf 'inner\n' >src/dir/inner.txt
ln -s data.txt src/link.txt
ln -s dir src/dirlink
ln -s /nonexistent/elsewhere src/dangling
alpine_recipe links.yaml links <<'EOF'
files:
  - {src: src/link.txt, dst: /etc/link.txt}
  - {src: src/dirlink, dst: /etc/dirlink}
  - {src: src/dangling, dst: /etc/dangling}
  - {src: src/data.txt, dst: /etc/data.txt}
EOF
pack links.yaml links
expect_rc "symlink sources: the build succeeds" 0
run ./links run sh -c 'readlink /etc/link.txt; readlink /etc/dirlink; readlink /etc/dangling; cat /etc/link.txt'
expect_rc "symlink sources: the appliance runs" 0
expect_eq "symlink sources: copied as symlinks with their targets" "$OUT" "data.txt
dir
/nonexistent/elsewhere
data"
