#!/usr/bin/env bash
# The extraction cache (rootless without FUSE, HAVRE_EXTRACT_AND_RUN=1) cannot be poisoned: an
# unsigned appliance whose footer claims a signed appliance's image sha256 (footer checksum
# recomputed, so the footer itself is valid) plants no tree that the signed appliance later runs under
# --require-signature. A tree is stored and reused only under the sha256 its bytes were hashed to.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

require_run_env
require_python
ensure_test_user
cd "$TEST_TMP"
keys=$(test_user_dir keys)
run "$PACK" keygen -o "$keys/release"
expect_rc "keygen" 0
chmod 644 "$keys/release.pub"

pack_alpine signed 'cmd: [cat, /etc/who]' 'run:' '  - echo signed-content > /etc/who'
run "$PACK" sign signed --key "$keys/release.key"
expect_rc "signing the appliance" 0
pack_alpine evil 'cmd: [cat, /etc/who]' 'run:' '  - echo evil-content > /etc/who'
chmod 755 signed evil
info_json signed signed.json S
expect_eq "the signed appliance is signed" "${S[signed]}" true

# The forgery: evil's footer now records the signed image's sha256, its checksum recomputed.
"$PYTHON" -I -S - evil "${S[image_sha256]}" <<'PY'
import hashlib, os, sys
path, sha = sys.argv[1], bytes.fromhex(sys.argv[2])
with open(path, "r+b") as f:
    f.seek(-128, os.SEEK_END)
    footer = bytearray(f.read(128))
    footer[48:80] = sha
    footer[112:120] = hashlib.sha256(bytes(footer[:112])).digest()[:8]
    f.seek(-128, os.SEEK_END)
    f.write(footer)
PY
info_json evil evil.json E
expect_eq "the forged footer is accepted as a footer" "${E[located_by]}" footer
expect_eq "and claims the signed image's sha256" "${E[image_sha256]}" "${S[image_sha256]}"

cache=$(test_user_dir cache)
fallback() { run as_test_user env HAVRE_EXTRACT_AND_RUN=1 XDG_CACHE_HOME="$cache" "$@"; }

# 1. The attacker's appliance runs first (without --require-signature: nothing asks it to).
fallback ./evil run cat /etc/who
expect_rc "the forged appliance is refused" 125
expect_contains "because its bytes do not match the footer's sha256" "$ERR" "does not match the sha256 its footer records"
expect_eq "no tree was planted under the signed image's sha256" \
  "$(find "$cache/havre/extracted" -mindepth 1 -maxdepth 1 -name "*${S[image_sha256]}*" | wc -l)" 0
expect_eq "no partial tree left" "$(find "$cache/havre/extracted" -maxdepth 1 -name '.partial-*' | wc -l)" 0

# 2. A tree under the name the cache used before it checked anything (extracted/<sha256>, as an
#    old runtime would have left it, poisoned) is ignored.
old=$cache/havre/extracted/${S[image_sha256]}
mkdir -p "$old"
tar -xzf "$ALPINE_TARBALL" -C "$old"
echo evil-content >"$old/etc/who"
chown -R "$TEST_USER:" "$cache/havre"

# 3. The signed appliance, required to be signed: what runs is the signed content.
fallback ./signed run --require-signature "$keys/release.pub" cat /etc/who
expect_rc "the signed appliance runs under --require-signature" 0
expect_eq "and what runs is the signed content" "$OUT" "signed-content"
fallback ./signed run --require-signature "$keys/release.pub" cat /etc/who
expect_eq "the second run reuses the verified tree" "$OUT" "signed-content"
expect_false "the untrusted tree of the old layout was removed" test -e "$old"
expect_eq "and says nothing" "$ERR" ""

# 4. The forged appliance now finds a verified tree under the sha256 it claims: it still does not run it
#    (its file was never hashed to that sha256), and a run of it cannot change the tree.
fallback ./evil run cat /etc/who
expect_rc "the forged appliance is still refused once the real tree exists" 125
fallback ./signed run --require-signature "$keys/release.pub" cat /etc/who
expect_eq "the signed appliance still runs the signed content" "$OUT" "signed-content"

# 5. The appliance file changed in place after its tree was recorded (same inode, new ctime): hashed
#    again, and refused when the bytes no longer match.
cp signed signed2
chmod 755 signed2
fallback ./signed2 run cat /etc/who
expect_eq "a copy of the signed appliance (hashed once) runs the same tree" "$OUT" "signed-content"
"$PYTHON" -I -S - signed2 "${S[image_offset]}" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2]) + 200)
    b = f.read(1)
    f.seek(-1, 1)
    f.write(bytes([b[0] ^ 0x01]))
PY
fallback ./signed2 run cat /etc/who
expect_rc "one flipped image byte in a recorded file: hashed again and refused" 125
expect_contains "naming the mismatch" "$ERR" "does not match the sha256 its footer records"

# 6. With FUSE available, the verified tree is the signed appliance's warm copy; --require-signature
#    still checks the file first: one flipped image byte is refused before any tree is used.
run as_test_user env XDG_CACHE_HOME="$cache" HAVRE_DEBUG=1 ./signed run --require-signature "$keys/release.pub" cat /etc/who
expect_eq "the signed appliance's warm copy runs under --require-signature" "$OUT" "signed-content"
expect_not_contains "from the warm copy, no FUSE server" "$ERR" "serving the image over FUSE"
"$PYTHON" -I -S - signed "${S[image_offset]}" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2]) + 300)
    b = f.read(1)
    f.seek(-1, 1)
    f.write(bytes([b[0] ^ 0x01]))
PY
run as_test_user env XDG_CACHE_HOME="$cache" ./signed run --require-signature "$keys/release.pub" cat /etc/who
expect_rc "a tampered signed appliance is refused under --require-signature despite its warm copy" 125
expect_contains "naming the image mismatch" "$ERR" "image does not match its sha256"
