#!/usr/bin/env bash
# Start-to-exit of `./app run /bin/true` against peers on the same Alpine rootfs, in one run:
#   unshare -pmf chroot DIR /bin/true, bwrap on the extracted rootfs, runc run on the same rootfs,
# a 1 GiB appliance against the small one, and the small one with --memory/--cpus/--pids-limit. Also the runtime's peak RSS.
# Usage: bench/start.sh [RUNS]   (root; needs hyperfine, bubblewrap, runc: scripts/setup installs them)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-200}
tarball=${ALPINE_TARBALL:-../shared/rootfs/alpine-minirootfs-3.20.3-x86_64.tar.gz}
work=$(mktemp -d /var/tmp/havre-bench.XXXXXX)
trap 'runc delete -f havre-bench >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

# The appliances: the Alpine recipe as shipped, and the same with 1 GiB of incompressible data.
build/havre-pack cache add "$tarball" >/dev/null
build/havre-pack -q recipes/alpine.yaml -o "$work/small.app"
mkdir -p "$work/big-rootfs"
tar -xzf "$tarball" -C "$work/big-rootfs"
head -c 1G /dev/urandom >"$work/big-rootfs/blob"
(cd "$work/big-rootfs" && tar -cf "$work/big.tar" .)
cat >"$work/big.yaml" <<YAML
name: big
base: {tarball: {path: $work/big.tar}}
YAML
build/havre-pack -q "$work/big.yaml" -o "$work/big.app"
rm -rf "$work/big-rootfs" "$work/big.tar"

# The peers' rootfs: the same tarball, extracted; runc's bundle around it.
mkdir -p "$work/bundle/rootfs"
tar -xzf "$tarball" -C "$work/bundle/rootfs"
(cd "$work/bundle" && runc spec && sed -i 's/"terminal": true/"terminal": false/; s/"sh"/"\/bin\/true"/' config.json)
rootfs=$work/bundle/rootfs

echo "machine: $(nproc) cores, $(uname -r); runs: $runs; image sizes: $(stat -c %s "$work/small.app") and $(stat -c %s "$work/big.app") bytes"
hyperfine -N --warmup 10 --runs "$runs" --export-json "$work/start.json" \
  -n havre "$work/small.app run /bin/true" \
  -n havre-1GiB "$work/big.app run /bin/true" \
  -n havre-limits "$work/small.app run --memory 256m --cpus 1 --pids-limit 100 /bin/true" \
  -n unshare-chroot "unshare -pmf chroot $rootfs /bin/true" \
  -n bwrap "bwrap --bind $rootfs / --proc /proc --dev /dev --unshare-pid --unshare-ipc --unshare-uts /bin/true" \
  -n runc "runc run -b $work/bundle havre-bench"

python3 - "$work/start.json" <<'PY'
import json, statistics, sys
r = {x["command"]: statistics.median(x["times"]) * 1000 for x in json.load(open(sys.argv[1]))["results"]}
h = r["havre"]
print("\nmedians (ms):", ", ".join(f"{k} {v:.2f}" for k, v in r.items()))
print(f"havre / unshare-chroot = {h / r['unshare-chroot']:.2f}  (target <= 2)")
print(f"havre / runc           = {h / r['runc']:.2f}  (target <= 0.35)")
print(f"havre-1GiB / havre     = {r['havre-1GiB'] / h:.2f}  (target <= 1.10)")
print(f"havre / bwrap          = {h / r['bwrap']:.2f}")
print(f"havre-limits / havre   = {r['havre-limits'] / h:.2f}  (cgroups: create, join, remove)")
PY
rss=$(/usr/bin/time -f %M "$work/small.app" run /bin/true 2>&1 >/dev/null | tail -n1)
echo "peak RSS of the runtime (largest of ./app and its init, /usr/bin/time -f %M): ${rss} KiB"
