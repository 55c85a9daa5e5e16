#!/usr/bin/env bash
# docs/ci/pipeline.sh, the shell twin of the documented CI workflow, as a CI job would run it: offline
# from a seeded cache, signing with a key from `havre-pack keygen`, verifying and smoke-running each
# appliance. Twice, in fresh dist directories: the second run takes its image from the cache and
# publishes the same bytes (same SHA256SUMS), and each summary names the signing key.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

require_run_env
require_python
"$PACK" keygen -o "$TEST_TMP/ci" >/dev/null 2>&1 || fail "havre-pack keygen failed"
key_id=$("$PYTHON" -c '
import base64, hashlib, sys
pub = base64.b64decode(open(sys.argv[1]).read().split()[1])
print(hashlib.sha256(pub).hexdigest()[:16])' "$TEST_TMP/ci.pub")

ci_run() {  # DIST
  run env HAVRE_PACK="$PACK" HAVRE_CACHE_DIR="$TEST_TMP/ci-cache" DIST_DIR="$1" SEED_FILES="$ALPINE_TARBALL" \
    OFFLINE=1 SIGNING_KEY="$TEST_TMP/ci.key" PUBLIC_KEY="$TEST_TMP/ci.pub" SMOKE_RUN=1 \
    bash "$HAVRE_SOURCE/docs/ci/pipeline.sh" "$HAVRE_SOURCE/recipes/alpine.yaml"
}
ci_run "$TEST_TMP/dist1"
expect_rc "the pipeline builds, checks, signs, verifies and runs the Alpine appliance" 0
ci_run "$TEST_TMP/dist2"
expect_rc "and again, from the cache" 0
expect_eq "both runs publish the same bytes" "$(cat "$TEST_TMP/dist2/SHA256SUMS")" "$(cat "$TEST_TMP/dist1/SHA256SUMS")"
expect_eq "the second image came from the cache" \
  "$(json_get "$TEST_TMP/dist2/alpine.json" image.from_cache)" "true"
expect_eq "the summary names the signing key" \
  "$(json_get "$TEST_TMP/dist1/alpine.json" signature.key_id)" "$key_id"
expect_eq "... and its algorithm" "$(json_get "$TEST_TMP/dist1/alpine.json" signature.algorithm)" "ed25519"
run "$TEST_TMP/dist1/alpine.app" verify --key "$TEST_TMP/ci.pub"
expect_rc "the published appliance verifies against the public key" 0
