#!/usr/bin/env bash
# Root builds keep extended attributes: file capabilities (security.capability, as `setcap
# cap_net_raw+ep` sets and Debian's ping has) and user.* attributes from the base tarball, and a
# capability a `run:` step sets, reach the image. (Before, mksquashfs ran with -no-xattrs and the
# tarball was extracted without them.) Unprivileged builds store none: the fakeroot state holds
# owners and modes, not xattrs.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

require_binaries
require_root "file capabilities need root to set and to extract"
require_cmd mksquashfs unsquashfs setcap getcap tar
require_alpine_tarball
cd "$TEST_TMP"
probe=$HAVRE_BUILD/tests/havre-probe
[[ -x $probe ]] || fail "$probe is missing: build the tests"

# The base: Alpine plus /usr/bin/capped carrying cap_net_raw+ep and a user.* attribute (GNU tar's
# SCHILY.xattr records).
mkdir root
tar -xzf "$ALPINE_TARBALL" -C root
cp "$probe" root/usr/bin/capped
setcap cap_net_raw+ep root/usr/bin/capped
"$PYTHON" -I -S -c 'import os; os.setxattr("root/usr/bin/capped", "user.havre.note", b"kept")'
tar --xattrs --xattrs-include='*' -cf base.tar -C root .
rm -rf root
cat >xattrs.yaml <<EOF
name: xattrs
base:
  tarball:
    path: base.tar
files:
  - {src: $probe, dst: /probe, mode: "0755"}
run:
  - cp /bin/busybox /usr/bin/stepcap && /probe setcap:/usr/bin/stepcap
EOF
pack xattrs.yaml app
expect_rc "the build succeeds" 0
expect_contains "the step set the capability" "$ERR" "[step 1] setcap=ok"

offset=$(./app info --json | "$PYTHON" -I -S -c 'import json, sys; print(json.load(sys.stdin)["image_offset"])')
unsquashfs -no-progress -o "$offset" -d image app >/dev/null
expect_contains "the base's file capability is in the image" "$(getcap image/usr/bin/capped)" "cap_net_raw=ep"
expect_eq "the base's user.* attribute is in the image" \
  "$("$PYTHON" -I -S -c 'import os; print(os.getxattr("image/usr/bin/capped", "user.havre.note").decode())')" "kept"
expect_contains "the run step's file capability is in the image" "$(getcap image/usr/bin/stepcap)" "cap_net_raw=ep"
expect_eq "a file without one has none" "$(getcap image/bin/busybox)" ""
