#!/usr/bin/env bash
# base: {directory: DIR} packs that directory as it is: its entries, modes, owners, links and file
# contents; a relative DIR is taken from the recipe's directory; DIR itself is left untouched.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

require_binaries
require_cmd fakeroot mksquashfs unsquashfs tar

cd "$TEST_TMP"
mkdir -p tree/bin tree/etc/conf.d "tree/with space" tree/empty tree/private recipes elsewhere
printf '#!/bin/sh\necho hi\n' >tree/bin/hello
chmod 755 tree/bin/hello
ln -s hello tree/bin/hi
ln tree/bin/hello tree/bin/hello-hard
ln -s /etc/passwd tree/etc/outside-link  # kept as a link, never followed
echo 'key=value' >tree/etc/conf.d/app.conf
echo spaced >"tree/with space/file name.txt"
head -c 200000 /dev/urandom >tree/etc/blob
chmod 700 tree/private
echo secret >tree/private/key
chmod 600 tree/private/key
chmod 4755 tree/bin/hello  # setuid survives a directory base too
mkfifo tree/etc/fifo
chmod 755 tree

snapshot() {  # a listing with checksums, to prove the packer did not touch the tree
  (cd tree && find . -printf '%p %M %U/%G %s %T@ %l\n' | LC_ALL=C sort && find . -type f -exec sha256sum {} + | LC_ALL=C sort)
}
snapshot >before.snap

# A relative directory is relative to the recipe's location, not to the working directory.
cat >recipes/dir.yaml <<'EOF'
name: from-dir
base:
  directory: ../tree
cmd: [/bin/hello]
EOF
(cd elsewhere && pack ../recipes/dir.yaml ../app && printf '%s\n' "$RC" >../rc && printf '%s\n' "$ERR" >../err)
expect_eq "packing a directory base succeeds" "$(cat rc)" 0
[[ $(cat rc) == 0 ]] || fail "havre-pack failed: $(cat err)"
check_no_leftovers "$TEST_TMP"
snapshot >after.snap
expect_same_file "the base directory was not modified" before.snap after.snap

info_json app info.json I
expect_eq "manifest.name" "${I[manifest.name]}" from-dir
expect_eq "manifest base kind" "${I[manifest.build.bases.0.kind]}" directory
expect_eq "manifest base source is the recipe's text" "${I[manifest.build.bases.0.source]}" ../tree
expect_eq "image_sha256 is the sha256 of the image bytes" "${I[image_sha256]}" \
  "$(sha256_range app "${I[image_offset]}" "${I[image_size]}")"

# What tar makes of the same directory is what the image must hold.
tar --numeric-owner -C tree -cf tree.tar .
tarball_listing tree.tar >tree.list
image_listing app "${I[image_offset]}" >image.list
expect_same_file "image entries equal the directory's (mode, owner, links)" tree.list image.list
list=$(cat image.list)
expect_contains "setuid file" "$list" "-rwsr-xr-x $(id -u)/$(id -g) bin/hello"
expect_contains "symlink" "$list" "bin/hi -> hello"
expect_contains "symlink out of the tree kept as a link" "$list" "etc/outside-link -> /etc/passwd"
expect_contains "empty directory" "$list" "empty"
expect_contains "name with spaces" "$list" "with space/file name.txt"
expect_contains "private directory" "$list" "drwx------ $(id -u)/$(id -g) private"
expect_contains "fifo" "$list" "etc/fifo"

unsquashfs -o "${I[image_offset]}" -d extracted -no-xattrs app >/dev/null
expect_true "file contents equal the directory's" diff -r --no-dereference --exclude=fifo tree extracted
expect_eq "hard links share an inode in the image" \
  "$(stat -c %i extracted/bin/hello)" "$(stat -c %i extracted/bin/hello-hard)"
