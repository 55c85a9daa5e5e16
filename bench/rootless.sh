#!/usr/bin/env bash
# Rootless against root, in one run:
#  - start-to-exit of `./app run /bin/true`: rootless (user namespace + FUSE served by the runtime),
#    root (loop device + kernel squashfs), and `unshare -Urm` + the squashfuse command-line tool
#    mounting the same image and chrooting into it;
#  - reading a 200 MB file inside the container, rootless against root;
#  - the multithreaded FUSE server against a single-threaded one (HAVRE_FUSE_THREADS=1), reading
#    200 MB of compressible files (zstd, the default): one reader, and two readers of 100 MB at once.
# Usage: bench/rootless.sh [RUNS]   (as root; runs the rootless cases as the user havre-test)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-100}
user=havre-test
id -u "$user" >/dev/null 2>&1 || useradd --system --user-group --no-create-home --home-dir /nonexistent "$user"
alpine=$(realpath "${ALPINE_TARBALL:-../shared/rootfs/alpine-minirootfs-3.20.3-x86_64.tar.gz}")
work=$(mktemp -d /var/tmp/havre-bench-rootless.XXXXXX)
chmod 755 "$work"
mkdir "$work/out" && chown "$user:" "$work/out"  # the rootless hyperfine writes its results here
trap 'rm -rf "$work"' EXIT

mkdir "$work/rootfs"
tar -xzf "$alpine" -C "$work/rootfs"
head -c 200M /dev/urandom >"$work/rootfs/big.bin"
# Compressible (base64 text, about 3/4 after compression): reading them decompresses every block.
head -c 100M <(base64 /dev/urandom) >"$work/rootfs/a.bin"
head -c 100M <(base64 /dev/urandom) >"$work/rootfs/b.bin"
(cd "$work/rootfs" && tar -cf "$work/rootfs.tar" .)
printf 'name: bench\nbase: {tarball: {path: %s}}\n' "$work/rootfs.tar" >"$work/bench.yaml"
build/havre-pack -q "$work/bench.yaml" -o "$work/app" --cache-dir "$work/cache"
chmod 755 "$work/app"
offset=$("$work/app" info --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["image_offset"])')
mkdir "$work/mnt" && chmod 777 "$work/mnt"
cat >"$work/squashfuse-true.sh" <<SH
#!/bin/sh
# unshare -Urm + the squashfuse tool: mount the appliance's image, run /bin/true in it, unmount.
exec unshare -Urm sh -c 'squashfuse -o offset=$offset $work/app $work/mnt && chroot $work/mnt /bin/true; umount $work/mnt'
SH
chmod 755 "$work/squashfuse-true.sh"

hyperfine -N --warmup 10 --runs "$runs" --export-json "$work/root.json" -n root "$work/app run /bin/true" >/dev/null
runuser -u "$user" -- env HOME=/nonexistent hyperfine -N --warmup 10 --runs "$runs" --export-json "$work/out/rootless.json" \
  -n rootless "$work/app run /bin/true" -n "unshare -Urm + squashfuse" "$work/squashfuse-true.sh" >/dev/null
hyperfine --warmup 1 --runs 5 --export-json "$work/read-root.json" \
  -n "read 200 MB, root" "$work/app run cat /big.bin" --output=null >/dev/null
runuser -u "$user" -- env HOME=/nonexistent hyperfine --warmup 1 --runs 5 --export-json "$work/out/read-rootless.json" \
  -n "read 200 MB, rootless" "$work/app run cat /big.bin" --output=null >/dev/null
two='sh -c "cat /a.bin >/dev/null & cat /b.bin >/dev/null; wait"'
runuser -u "$user" -- env HOME=/nonexistent hyperfine --warmup 1 --runs 7 --export-json "$work/out/threads.json" \
  -n "1 reader, FUSE threads: default" "$work/app run sh -c 'cat /a.bin /b.bin'" \
  -n "1 reader, FUSE threads: 1" "env HAVRE_FUSE_THREADS=1 $work/app run sh -c 'cat /a.bin /b.bin'" \
  -n "2 readers, FUSE threads: default" "$work/app run $two" \
  -n "2 readers, FUSE threads: 1" "env HAVRE_FUSE_THREADS=1 $work/app run $two" --output=null >/dev/null

python3 - "$work" <<'PY'
import json, statistics, sys
w = sys.argv[1]
m = {}
for f in ("root", "out/rootless", "read-root", "out/read-rootless", "out/threads"):
    for r in json.load(open(f"{w}/{f}.json"))["results"]:
        m[r["command"]] = statistics.median(r["times"])
print("medians:", ", ".join(f"{k} {v * 1000:.1f} ms" for k, v in m.items()))
print(f"rootless start / root start = {m['rootless'] / m['root']:.2f} (target <= 2)")
print(f"rootless start / unshare+squashfuse = {m['rootless'] / m['unshare -Urm + squashfuse']:.2f}")
mb = 200 * 1024 * 1024 / 1e6
rr, rl = mb / m["read 200 MB, root"], mb / m["read 200 MB, rootless"]
print(f"read throughput: root {rr:.0f} MB/s, rootless {rl:.0f} MB/s, ratio {rl / rr:.2f} (target >= 0.5)")
for n in ("1 reader", "2 readers"):
    mt, st = m[f"{n}, FUSE threads: default"], m[f"{n}, FUSE threads: 1"]
    print(f"{n}: multithreaded FUSE server {mb / mt:.0f} MB/s, single-threaded {mb / st:.0f} MB/s, ratio {st / mt:.2f}")
PY
