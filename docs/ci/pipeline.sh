#!/usr/bin/env bash
# Builds appliances from recipes, checks them, signs them when a key is given, and lays out what to
# publish: the plain-shell twin of docs/ci/github-workflow.yml (see docs/ci.md).
#
# Usage: docs/ci/pipeline.sh RECIPE...
# Environment (all optional):
#   HAVRE_PACK       havre-pack to use (default: havre-pack in PATH)
#   HAVRE_CACHE_DIR  the cache to build with and keep between runs (default: ./.havre-cache)
#   DIST_DIR         where the appliances and their checksums go (default: ./dist)
#   SEED_FILES       base tarballs to put in the cache first (`havre-pack cache add`), space-separated
#   OFFLINE=1        never download: every base must already be in the cache (--offline)
#   SIGNING_KEY      a secret key file from `havre-pack keygen`: sign each appliance (--sign)
#   PUBLIC_KEY       its public key: verify each appliance against it (`./app verify --key`)
#   SMOKE_RUN=1      also run `true` in each appliance (needs root, or user namespaces and FUSE)
#   CACHE_MAX_SIZE   prune the cache to this size at the end (default 5G)
#   SOURCE_DATE_EPOCH  the build's time; unset, it is derived from each base (docs/reproducible.md)
set -euo pipefail

pack=${HAVRE_PACK:-havre-pack}
cache=${HAVRE_CACHE_DIR:-$PWD/.havre-cache}
dist=${DIST_DIR:-$PWD/dist}
(($# > 0)) || { echo "usage: $0 RECIPE..." >&2; exit 2; }

mkdir -p "$cache" "$dist"
pack_args=(--cache-dir "$cache" --json)
if [[ ${OFFLINE:-} == 1 ]]; then pack_args+=(--offline); fi
if [[ -n ${SIGNING_KEY:-} ]]; then pack_args+=(--sign "$SIGNING_KEY"); fi

# 1. Seed the download cache (air-gapped runners, or mirrors of bases that are hard to reach).
if [[ -n ${SEED_FILES:-} ]]; then
  # shellcheck disable=SC2086  # a list of paths
  "$pack" cache --cache-dir "$cache" add $SEED_FILES
fi

# 2. Build each recipe; the JSON summary on stdout says what was written.
for recipe in "$@"; do
  name=$(basename "$recipe" .yaml)
  echo "::group::build $name" >&2
  "$pack" "$recipe" -o "$dist/$name.app" "${pack_args[@]}" >"$dist/$name.json"
  echo "::endgroup::" >&2

  # 3. Check what was written against the summary: the file's sha256, and the image's sha256 as
  #    the appliance's own footer records it.
  python3 - "$dist/$name.json" "$dist/$name.app" <<'PY'
import hashlib, json, subprocess, sys
summary = json.load(open(sys.argv[1]))
app = sys.argv[2]
digest = hashlib.sha256(open(app, "rb").read()).hexdigest()
info = json.loads(subprocess.run([app, "info", "--json"], check=True, capture_output=True).stdout)
problems = []
if digest != summary["sha256"]:
    problems.append(f"file sha256 {digest} != summary {summary['sha256']}")
if info["image_sha256"] != summary["image"]["sha256"]:
    problems.append("image sha256 differs from the footer's")
if info["manifest_sha256"] != summary["manifest"]["sha256"]:
    problems.append("manifest sha256 differs from the footer's")
if problems:
    sys.exit(f"{app}: " + "; ".join(problems))
print(f"{app}: {summary['size']} bytes, sha256 {digest}, image from cache: {summary['image']['from_cache']}",
      file=sys.stderr)
PY
  if [[ -n ${PUBLIC_KEY:-} ]]; then "$dist/$name.app" verify --key "$PUBLIC_KEY"; fi
  if [[ ${SMOKE_RUN:-} == 1 ]]; then "$dist/$name.app" run true; fi
done

# 4. What to publish: the appliances, their summaries, and one checksum list.
(cd "$dist" && sha256sum -- *.app >SHA256SUMS)
cat "$dist/SHA256SUMS" >&2

# 5. Keep the cache bounded for the next run (downloads, debootstrap trees and images alike).
"$pack" cache --cache-dir "$cache" prune --max-size "${CACHE_MAX_SIZE:-5G}" >&2
