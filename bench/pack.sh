#!/usr/bin/env bash
# havre-pack's overhead and its caches, measured in one run:
#  1. havre-pack on a cached base (image cache off) against the same work by hand: extract with tar,
#     mksquashfs with the same options, cat runtime + padding + image. Alpine's minirootfs and a
#     Debian bookworm minbase tree (the debootstrap cache's tarball).
#  2. The debootstrap recipe: a cold build (empty cache: debootstrap runs) against an unchanged rebuild.
# Usage: bench/pack.sh [RUNS]   (root: debootstrap and the by-hand extraction need it; network to Debian)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
alpine=$(realpath "${ALPINE_TARBALL:-../shared/rootfs/alpine-minirootfs-3.20.3-x86_64.tar.gz}")
work=$(mktemp -d /var/tmp/havre-bench-pack.XXXXXX)
trap 'rm -rf "$work"' EXIT
pack=$PWD/build/havre-pack
runtime=$PWD/build/havre-runtime

# --- 2. cold and unchanged rebuild of recipes/debian-bookworm.yaml, in a cache of its own ----------
cold_start=$(date +%s.%N)
"$pack" -q recipes/debian-bookworm.yaml -o "$work/deb.app" --cache-dir "$work/cache"
cold=$(echo "$(date +%s.%N) - $cold_start" | bc)
debian_tar=$(ls "$work"/cache/debootstrap/*.tar.zst)

# --- 1. havre-pack against the same steps by hand ----------------------------------------------
cat >"$work/by-hand.sh" <<'SH'
#!/usr/bin/env bash
# Extract, mksquashfs with havre's options, then runtime + zero padding to 4096 + image.
set -euo pipefail
tarball=$1 out=$2 runtime=$3
d=$(mktemp -d "$out.XXXXXX")
mkdir "$d/rootfs"
tar --numeric-owner -xpf "$tarball" -C "$d/rootfs"
mksquashfs "$d/rootfs" "$d/img" -comp zstd -b 131072 -processors "$(nproc)" -noappend -no-xattrs -no-progress -quiet
size=$(stat -c %s "$runtime")
pad=$(( (size + 4095) / 4096 * 4096 - size ))
{ cat "$runtime"; head -c "$pad" /dev/zero; cat "$d/img"; } > "$out"
rm -rf "$d"
SH
chmod +x "$work/by-hand.sh"
for base in alpine debian; do
  tarball=$alpine
  [[ $base == debian ]] && tarball=$debian_tar
  printf 'name: %s\nbase: {tarball: {path: %s}}\n' "$base" "$tarball" >"$work/$base.yaml"
  hyperfine --warmup 1 --runs "$runs" --export-json "$work/$base.json" \
    -n "havre-pack ($base)" "$pack -q $work/$base.yaml -o $work/$base.app --no-image-cache --cache-dir $work/cache" \
    -n "by hand ($base)" "$work/by-hand.sh $tarball $work/$base-hand.app $runtime" >/dev/null
done

# --- unchanged rebuilds --------------------------------------------------------------------------
hyperfine --runs "$runs" --export-json "$work/rebuild.json" \
  -n "unchanged rebuild (debian-bookworm)" "$pack -q recipes/debian-bookworm.yaml -o $work/deb.app --cache-dir $work/cache" >/dev/null

python3 - "$work" "$cold" <<'PY'
import json, statistics, sys
work, cold = sys.argv[1], float(sys.argv[2])
def medians(name):
    return {r["command"]: statistics.median(r["times"]) for r in json.load(open(f"{work}/{name}.json"))["results"]}
print(f"machine: 2 cores; medians of {len(json.load(open(work + '/alpine.json'))['results'][0]['times'])} runs")
for base in ("alpine", "debian"):
    m = medians(base)
    h, b = m[f"havre-pack ({base})"], m[f"by hand ({base})"]
    print(f"{base}: havre-pack {h:.3f} s, by hand {b:.3f} s, overhead {100 * (h / b - 1):+.1f}% (target <= +10%)")
r = medians("rebuild")["unchanged rebuild (debian-bookworm)"]
print(f"debian-bookworm: cold build {cold:.1f} s, unchanged rebuild {r:.3f} s = {100 * r / cold:.1f}% of cold (target <= 15%)")
PY
