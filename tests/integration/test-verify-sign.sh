#!/usr/bin/env bash
# `havre-pack keygen`, `--sign`, `havre-pack sign`, `./app verify [--key]` and
# `run --require-signature`: verification passes on intact appliances and fails on one flipped byte in
# the image, the manifest or the signature; signing never changes the image bytes; and a required
# signature that is missing, wrong or over tampered bytes stops the run before anything is mounted
# (strace shows no mount, clone, unshare or loop ioctl; the same trace of a normal run shows them).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

require_run_env
require_cmd strace cmp
require_python
cd "$TEST_TMP"

# --- keygen -------------------------------------------------------------------------------------
mkdir keys
run "$PACK" keygen -o keys/release
expect_rc "keygen succeeds" 0
expect_eq "keygen: the secret key is mode 0600" "$(stat -c %a keys/release.key)" 600
expect_eq "keygen: the public key is mode 0644" "$(stat -c %a keys/release.pub)" 644
expect_true "keygen: the .pub is one line 'havre-ed25519 <base64> release'" \
  grep -Eqx 'havre-ed25519 [A-Za-z0-9+/]{43}= release' keys/release.pub
expect_true "keygen: the .key is one line 'havre-ed25519-secret <base64>'" \
  grep -Eqx 'havre-ed25519-secret [A-Za-z0-9+/]{86}==' keys/release.key
expect_eq "keygen: the .pub has one line" "$(wc -l <keys/release.pub)" 1
key_before=$(sha256_of keys/release.key)
run "$PACK" keygen -o keys/release
expect_rc "keygen over an existing pair fails" 1
expect_contains "... naming the existing file" "$ERR" "keys/release.key exists"
expect_eq "... and leaves the secret key as it was" "$(sha256_of keys/release.key)" "$key_before"
expect_eq "... and leaves nothing else behind" "$(ls -A keys | tr '\n' ' ')" "release.key release.pub "
run "$PACK" keygen -o keys/other --comment "someone else"
expect_rc "a second key pair" 0
expect_true "... with its comment" grep -q ' someone else$' keys/other.pub

# --- packing, signed and not ---------------------------------------------------------------------
pack_alpine plain 'cmd: [echo, plain-ran]'
write_alpine_recipe "$TEST_TMP/signed.yaml" signed 'cmd: [echo, signed-ran]'
must_pack "$TEST_TMP/signed.yaml" "$TEST_TMP/signed" --sign keys/release.key
info_json plain plain.json P
info_json signed signed.json S
expect_eq "unsigned: info --json says signed false" "${P[signed]}" false
expect_eq "unsigned: no signature" "${P[signature]}" null
expect_eq "signed: info --json says signed true" "${S[signed]}" true
expect_eq "signed: the key id is the first 8 bytes of sha256(public key)" "${S[signature.key_id]}" \
  "$(awk '{print $2}' keys/release.pub | base64 -d | sha256sum | cut -c1-16)"
expect_eq "signed: the manifest ends 256 bytes before the end" \
  $((S[manifest_offset] + S[manifest_size] + 256)) "$(stat -c %s signed)"
run ./signed info
expect_contains "info (text) shows the signature's key id" "$OUT" "signature     ed25519, key id ${S[signature.key_id]}"
run ./plain info
expect_contains "info (text) says unsigned" "$OUT" "signature     none"

# --- verify --------------------------------------------------------------------------------------
run ./plain verify
expect_rc "unsigned: verify passes" 0
expect_contains "... image ok" "$OUT" "image      ok: sha256 ${P[image_sha256]}"
expect_contains "... manifest ok" "$OUT" "manifest   ok: sha256 ${P[manifest_sha256]}"
expect_contains "... signature none" "$OUT" "signature  none (not signed)"
run ./plain verify --key keys/release.pub
expect_rc "unsigned: verify --key fails with 1" 1
expect_contains "... saying it is not signed" "$ERR" "not signed, and a signature by the key"
run ./signed verify
expect_rc "signed: verify passes" 0
expect_contains "... the signature is valid" "$OUT" "signature  ok: valid ed25519 signature by key id ${S[signature.key_id]}"
expect_contains "... with --key: by that key" "$(./signed verify --key keys/release.pub)" \
  "signature  ok: valid ed25519 signature by key id ${S[signature.key_id]}, the --key keys/release.pub"
run ./signed verify --key keys/release.pub
expect_rc "signed: verify --key with the signer's key passes" 0
expect_contains "... and says verified (naming the real path)" "$OUT" "verified   $TEST_TMP/signed"
run ./signed verify --key keys/other.pub
expect_rc "signed: verify --key with another key fails with 1" 1
expect_contains "... naming the signer" "$ERR" "signed by key id ${S[signature.key_id]}, not by the key (--key keys/other.pub"
run ./signed verify --key keys/release.key
expect_rc "verify --key with a secret key file: 125" 125
expect_contains "... explained" "$ERR" "this is a secret key (pass the .pub file"
run ./signed verify --key keys/missing.pub
expect_rc "verify --key with a missing file: 125" 125
expect_contains "... naming it" "$ERR" "keys/missing.pub"

# flip APP COPY OFFSET: COPY is APP with the byte at OFFSET xor 0x01.
flip() {
  cp "$1" "$2"
  "$PYTHON" -I -S -c '
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2])); b = f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 1]))
' "$2" "$3"
}
size=$(stat -c %s signed)
flip signed bad-image $((S[image_offset] + S[image_size] / 2))
flip signed bad-manifest $((S[manifest_offset] + 10))
flip signed bad-signature $((size - 128 - 30))
flip plain plain-bad-image $((P[image_offset] + 4096))
run ./bad-image verify --key keys/release.pub
expect_rc "a flipped image byte: verify fails with 1" 1
expect_contains "... image MISMATCH" "$OUT" "image      MISMATCH: sha256 "
expect_contains "... against the footer's sha256" "$OUT" "the footer says ${S[image_sha256]}"
expect_contains "... and says so on stderr" "$ERR" "image does not match its sha256 in the footer"
expect_contains "... the manifest is fine" "$OUT" "manifest   ok"
run ./bad-manifest verify --key keys/release.pub
expect_rc "a flipped manifest byte: verify fails with 1" 1
expect_contains "... manifest MISMATCH" "$OUT" "manifest   MISMATCH: sha256 "
expect_contains "... and says so on stderr" "$ERR" "manifest does not match its sha256 in the footer"
run ./bad-signature verify --key keys/release.pub
expect_rc "a flipped signature byte: verify fails with 1" 1
expect_contains "... INVALID" "$OUT" "signature  INVALID"
expect_contains "... image still ok" "$OUT" "image      ok"
run ./bad-signature verify
expect_rc "a flipped signature byte: verify without --key fails too" 1
run ./plain-bad-image verify
expect_rc "unsigned, a flipped image byte: verify fails with 1" 1
expect_contains "... image MISMATCH" "$OUT" "image      MISMATCH"

# --- havre-pack sign: in place, the image bytes unchanged -------------------------------------------
cp plain later-signed
run "$PACK" sign later-signed --key keys/release.key
expect_rc "havre-pack sign succeeds" 0
info_json later-signed later.json L
expect_eq "sign: now signed" "${L[signed]}" true
expect_eq "sign: image_sha256 unchanged" "${L[image_sha256]}" "${P[image_sha256]}"
expect_eq "sign: image offset unchanged" "${L[image_offset]}" "${P[image_offset]}"
expect_eq "sign: 128 bytes longer" "$(stat -c %s later-signed)" $(($(stat -c %s plain) + 128))
manifest_end=$((P[manifest_offset] + P[manifest_size]))
expect_true "sign: every byte up to the end of the manifest is unchanged" \
  cmp -n "$manifest_end" plain later-signed
expect_eq "sign: the mode is kept" "$(stat -c %a later-signed)" "$(stat -c %a plain)"
run ./later-signed verify --key keys/release.pub
expect_rc "sign: verify --key passes" 0
run "$PACK" sign later-signed --key keys/other.key
expect_rc "sign again with another key (replaces the signature)" 0
run ./later-signed verify --key keys/other.pub
expect_rc "... verify --key other passes" 0
expect_eq "... still 128 bytes longer than unsigned" "$(stat -c %s later-signed)" $(($(stat -c %s plain) + 128))
run "$PACK" sign later-signed --key keys/release.pub
expect_rc "sign --key with a public key: fails" 1
expect_contains "... explained" "$ERR" "keys/release.pub: this is a public key"
cp plain-bad-image bad-to-sign
run "$PACK" sign bad-to-sign --key keys/release.key
expect_rc "sign refuses an appliance whose image does not match its footer" 1
expect_contains "... explained" "$ERR" "the image does not match its sha256 in the footer"
expect_true "... and leaves it unsigned" cmp bad-to-sign plain-bad-image
cp keys/release.key loose.key
chmod 644 loose.key
run "$PACK" sign later-signed --key loose.key
expect_rc "sign with a world-readable secret key: fails" 1
expect_contains "... explained" "$ERR" "loose.key: mode 0644 lets others read it"
expect_eq "no temporary files left beside the appliances" "$(find . -maxdepth 1 -name '.*havre-*' | wc -l)" 0

# --- run --require-signature: refused before anything is mounted -----------------------------------
TRACED="mount|umount2|clone|clone3|unshare|pivot_root|ioctl"
# traced TRACE CMD...: runs CMD under strace -f, recording the system calls that set up a container.
traced() {
  local trace=$1
  shift
  run strace -f -qq -o "$trace" -e trace=mount,umount2,clone,clone3,unshare,pivot_root,ioctl "$@"
}
# The calls in TRACE that would mean container setup had begun (mount/clone/unshare/pivot_root, loop ioctls).
setup_calls() { grep -E "^[0-9]+ +($TRACED)\(" "$1" | grep -vE '^[0-9]+ +ioctl\([0-9]+, (TCGETS|TIOCGWINSZ|FIONREAD)' || true; }

traced control.trace ./signed run --require-signature keys/release.pub echo control-ran
expect_rc "signed, the right key: runs" 0
expect_eq "... the command's output" "$OUT" control-ran
expect_true "control: the trace of a run shows a mount" grep -qE '^[0-9]+ +mount\(' control.trace
expect_true "control: ... and a clone into new namespaces" grep -qE 'CLONE_NEWNS' control.trace

check_refused() {  # APP KEY NEEDLE DESC
  traced "$1.trace" "./$1" run --require-signature "$2" echo must-not-run
  expect_havre_error "$4" "$3"
  expect_contains "$4: it refuses to run" "$ERR" "refusing to run"
  expect_eq "$4: no mount, clone, unshare or loop ioctl before refusing" "$(setup_calls "$1.trace")" ""
}
before=$(suspect_host_mounts)
check_refused plain keys/release.pub "not signed" "unsigned"
check_refused signed keys/other.pub "signed by key id ${S[signature.key_id]}, not by the key" "wrong key"
check_refused bad-signature keys/release.pub "is INVALID" "flipped signature byte"
check_refused bad-image keys/release.pub "image does not match its sha256" "flipped image byte"
check_refused bad-manifest keys/release.pub "manifest does not match its sha256" "flipped manifest byte"
expect_eq "no loop device left on the signed appliance" "$(loops_of "$TEST_TMP/signed")" ""
expect_eq "no mount left behind" "$(new_suspect_host_mounts "$before")" ""
run ./signed run --require-signature keys/missing.pub echo x
expect_havre_error "--require-signature with a missing key file" "keys/missing.pub"
run ./signed shell --require-signature keys/other.pub <<<'echo in-shell'
expect_havre_error "shell --require-signature with the wrong key" "not by the key"

# The default command takes no options: $HAVRE_REQUIRE_SIGNATURE covers it.
run env HAVRE_REQUIRE_SIGNATURE=keys/release.pub ./signed
expect_rc "HAVRE_REQUIRE_SIGNATURE, signed: the default command runs" 0
expect_eq "... and prints" "$OUT" signed-ran
run env HAVRE_REQUIRE_SIGNATURE=keys/release.pub ./plain
expect_havre_error "HAVRE_REQUIRE_SIGNATURE, unsigned: refused" "not signed"
run ./bad-image
expect_rc "without a required signature, a tampered image is not hashed at start (documented)" 0

# --- passthrough appliances: --havre-verify ----------------------------------------------------------
pack_alpine pt 'entrypoint: [echo, "ep:"]' 'args: passthrough'
run "$PACK" sign pt --key keys/release.key
expect_rc "sign a passthrough appliance" 0
run ./pt --havre-verify --key keys/release.pub
expect_rc "passthrough: --havre-verify --key passes" 0
expect_contains "... and reports" "$OUT" "verified   $TEST_TMP/pt"
run ./pt verify
expect_eq "passthrough: 'verify' goes to the entrypoint" "$OUT" "ep: verify"
run ./pt --havre-run --require-signature keys/other.pub echo x
expect_havre_error "passthrough: --havre-run --require-signature with the wrong key" "not by the key"
