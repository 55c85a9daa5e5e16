#!/usr/bin/env bash
# Fast starts (issue 14), in one run: a Debian bookworm appliance with python3 and the Alpine one,
# cold (every run mounts the image: loop device + squashfs as root, FUSE rootless) against warm (the
# warm copy: the image extracted once, verified, into the user's cache, used as the overlay's lower
# layer), against bwrap on the same extracted tree -- root, and rootless as the user havre-test.
# Also the first run that fills the warm copy (HAVRE_WARM_COPY=1), and the disk the copy takes.
# Usage: bench/warm.sh [RUNS]   (as root; needs hyperfine, bubblewrap, debootstrap; the python
# appliance's debootstrap is cached by havre-pack)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-30}
user=havre-test
id -u "$user" >/dev/null 2>&1 || useradd --system --user-group --no-create-home --home-dir /nonexistent "$user"
alpine=$(realpath "${ALPINE_TARBALL:-../shared/rootfs/alpine-minirootfs-3.20.3-x86_64.tar.gz}")
work=$(mktemp -d /var/tmp/havre-bench-warm.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
build=$PWD/build

cat >"$work/py.yaml" <<'YAML'
name: py
base:
  debootstrap: {suite: bookworm, variant: minbase, include: [python3]}
cmd: [/usr/bin/python3]
exclude: ["/var/cache/apt/*.bin", "/var/cache/apt/archives/*.deb"]
YAML
printf 'name: alpine\nbase: {tarball: {path: %s}}\n' "$alpine" >"$work/alpine.yaml"
"$build/havre-pack" -q "$work/py.yaml" -o "$work/py.app"
"$build/havre-pack" -q "$work/alpine.yaml" -o "$work/alpine.app"
chmod 755 "$work"/*.app
for a in py alpine; do cp "$work/$a.app" "$work/$a-cold.app"; done  # never warmed: no record of them
mkdir -p "$work/root-cache" "$work/user-cache" "$work/out"
chown "$user:" "$work/user-cache" "$work/out"
as_user() { runuser -u "$user" -- env XDG_CACHE_HOME="$work/user-cache" "$@"; }
export XDG_CACHE_HOME=$work/root-cache

# First runs: today's (cold) against the one that fills the warm copy afterwards.
first() {  # LABEL CMD...
  local t0 t1
  t0=$(date +%s%N)
  "${@:2}" >/dev/null
  t1=$(date +%s%N)
  printf '%-40s %6d ms\n' "$1" $(((t1 - t0) / 1000000))
}
echo "== first runs"
first "root py cold run (no warm copy)" "$work/py-cold.app" run python3 -c pass
first "root py first run, HAVRE_WARM_COPY=1" env HAVRE_WARM_COPY=1 "$work/py.app" run python3 -c pass
first "rootless py cold run" as_user "$work/py-cold.app" run python3 -c pass
first "rootless py first run, HAVRE_WARM_COPY=1" as_user env HAVRE_WARM_COPY=1 "$work/py.app" run python3 -c pass
env HAVRE_WARM_COPY=1 "$work/alpine.app" run true
as_user env HAVRE_WARM_COPY=1 "$work/alpine.app" run true
root_py=$(echo "$work"/root-cache/havre/extracted/sha256-*/usr/bin/python3 | head -1)
root_py=${root_py%/usr/bin/python3}
user_py=$(echo "$work"/user-cache/havre/extracted/sha256-*/usr/bin/python3 | head -1)
user_py=${user_py%/usr/bin/python3}
root_alp=$(dirname "$(echo "$work"/root-cache/havre/extracted/sha256-*/etc/alpine-release)")/..
user_alp=$(dirname "$(echo "$work"/user-cache/havre/extracted/sha256-*/etc/alpine-release)")/..
echo "== disk: py image $(stat -c %s "$work/py.app") bytes; warm copy $(du -sm "$root_py" | cut -f1) MB"

imports='import asyncio, json, email.mime.text, http.client, decimal'
bw() { echo "bwrap --ro-bind $1 / --proc /proc --dev /dev --unshare-pid $2"; }
bwu() { echo "bwrap --unshare-user --ro-bind $1 / --proc /proc --dev /dev --unshare-pid $2"; }
h() {  # NAME ARGS...: hyperfine with medians in $work/out/NAME.json
  local name=$1
  shift
  hyperfine -N -w 3 -r "$runs" --export-json "$work/out/$name.json" "$@" >/dev/null
}
hu() {  # the same as havre-test
  local name=$1
  shift
  runuser -u "$user" -- env XDG_CACHE_HOME="$work/user-cache" \
    hyperfine -N -w 3 -r "$runs" --export-json "$work/out/$name.json" "$@" >/dev/null
}
h root-pass "$work/py-cold.app run python3 -c pass" "$work/py.app run python3 -c pass" \
  "$(bw "$root_py" "/usr/bin/python3 -c pass")"
h root-imports "$work/py-cold.app run python3 -c '$imports'" "$work/py.app run python3 -c '$imports'" \
  "$(bw "$root_py" "/usr/bin/python3 -c '$imports'")"
hu user-pass "$work/py-cold.app run python3 -c pass" "$work/py.app run python3 -c pass" \
  "$(bwu "$user_py" "/usr/bin/python3 -c pass")"
hu user-imports "$work/py-cold.app run python3 -c '$imports'" "$work/py.app run python3 -c '$imports'" \
  "$(bwu "$user_py" "/usr/bin/python3 -c '$imports'")"
h root-true "$work/alpine-cold.app run /bin/true" "$work/alpine.app run /bin/true" "$(bw "$root_alp" /bin/true)"
hu user-true "$work/alpine-cold.app run /bin/true" "$work/alpine.app run /bin/true" "$(bwu "$user_alp" /bin/true)"

python3 - "$work/out" <<'PY'
import json, os, sys
out = sys.argv[1]
for name in ("root-pass", "root-imports", "user-pass", "user-imports", "root-true", "user-true"):
    r = json.load(open(os.path.join(out, name + ".json")))["results"]
    cold, warm, bwrap = (x["median"] * 1000 for x in r)
    print(f"{name:13s} cold {cold:7.1f} ms  warm {warm:7.1f} ms  bwrap {bwrap:7.1f} ms  "
          f"warm/bwrap {warm / bwrap:4.2f}  cold/bwrap {cold / bwrap:4.2f}")
PY
# Phases of a warm and a cold root run (HAVRE_DEBUG=1 stamps each setup step).
for a in alpine-cold alpine; do
  echo "== phases: $a run /bin/true (root)"
  HAVRE_DEBUG=1 "$work/$a.app" run /bin/true 2>&1 | head -40
done
