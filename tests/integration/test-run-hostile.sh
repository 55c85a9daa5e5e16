#!/usr/bin/env bash
# The image is hostile: mount points that are symlinks (/proc, /dev, /sys, /tmp, a volume's target)
# are refused by name; /etc/resolv.conf and /etc/hosts symlinks pointing at host paths are replaced,
# never followed out of the root; a working directory or command under /proc/*/fd is refused.
# Each image is Alpine's minirootfs, changed on disk and packed from a directory base.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

require_run_env
require_cmd tar
clean=$TEST_TMP/clean
mkdir -p "$clean"
tar -xzf "$ALPINE_TARBALL" -C "$clean"
# A host file that a symlink in an image points at: it must never be read or written from inside.
victim=$TEST_TMP/victim
echo "host secret" >"$victim"
chmod 600 "$victim"

# Packs $TEST_TMP/NAME from a copy of the clean tree changed by the shell code CHANGE (run in the
# tree); further arguments are recipe lines.
pack_changed() {  # NAME CHANGE [YAML_LINE...]
  local name=$1 change=$2 tree=$TEST_TMP/tree-$1
  shift 2
  cp -a "$clean" "$tree"
  (cd "$tree" && eval "$change")
  {
    printf 'name: %s\nbase:\n  directory: %s\n' "$name" "$tree"
    if (($#)); then printf '%s\n' "$@"; fi
  } >"$TEST_TMP/$name.yaml"
  must_pack "$TEST_TMP/$name.yaml" "$TEST_TMP/$name"
}

for dir in proc dev sys tmp; do
  pack_changed "link-$dir" "rm -rf $dir && ln -s $TEST_TMP $dir"
  before=$(suspect_host_mounts)
  run "$TEST_TMP/link-$dir" run true
  expect_havre_error "an image whose /$dir is a symlink to a host directory" "/$dir is a symlink in the image"
  expect_eq "... and nothing was mounted on the host for it" "$(new_suspect_host_mounts "$before")" ""
done

pack_changed link-volume "ln -s /etc mnt/link"
run "$TEST_TMP/link-volume" run -v "$TEST_TMP:/mnt/link/x" true
expect_havre_error "a volume whose target passes through a symlink of the image" "/mnt/link is a symlink in the image"

# resolv.conf and hosts: the host's files are put in their place; the links are not followed.
pack_changed link-netfiles "ln -sf $victim etc/resolv.conf && ln -sf ../../../../../../..$victim etc/hosts"
run "$TEST_TMP/link-netfiles" run sh -c 'cat /etc/resolv.conf /etc/hosts
  (echo pwned >/etc/resolv.conf) 2>/dev/null || echo resolv.conf-ro; (echo pwned >/etc/hosts) 2>/dev/null || echo hosts-ro'
expect_rc "an image with resolv.conf and hosts linked to a host file runs" 0
expect_not_contains "the container does not read the host file through the links" "$OUT" "host secret"
if [[ -s /etc/resolv.conf ]]; then
  expect_contains "it sees the host's resolv.conf" "$OUT" "$(grep -m1 . /etc/resolv.conf)"
fi
expect_contains "the host's files are bound read-only" "$OUT" "resolv.conf-ro
hosts-ro"
expect_eq "the host file is unchanged after writes to both" "$(cat "$victim")" "host secret"
run "$TEST_TMP/link-netfiles" run --read-only sh -c 'cat /etc/resolv.conf /etc/hosts 2>&1; readlink /etc/resolv.conf'
expect_not_contains "--read-only keeps the image's links, which resolve inside the container" "$OUT" "host secret"
expect_contains "... (the link is the image's own)" "$OUT" "$victim"
expect_eq "the host file is still unchanged" "$(cat "$victim")" "host secret"

# Through a file descriptor (CVE-2024-21626): refused from the image and from the command line.
pack_changed fd-workdir "" "workdir: /proc/self/fd"
run "$TEST_TMP/fd-workdir" run pwd
expect_havre_error "a manifest workdir under /proc/self/fd" "working directory /proc/self/fd: refused"
pack_changed fd-entrypoint "" "entrypoint: [/proc/1/fd/3]"
run "$TEST_TMP/fd-entrypoint"
expect_havre_error "a manifest entrypoint under /proc/1/fd" "command /proc/1/fd/3: refused"
app=$TEST_TMP/fd-workdir
for wd in /proc/self/fd /proc/1/fd/ /proc/thread-self/fd /proc/1/task/1/fd/5 /dev/fd /proc/./self/fd; do
  run "$app" run -w "$wd" pwd
  expect_havre_error "-w $wd" "refused, it reaches through a file descriptor"
done
for cmd in /proc/self/fd/0 /dev/fd/3 /proc/1/task/1/fd/3 /dev/stdin; do
  run "$app" run -w / "$cmd"
  expect_havre_error "command $cmd" "command $cmd: refused"
done
run "$app" run -w /proc/self sh -c 'pwd; cat /proc/self/fd/0 </dev/null; echo ok'
expect_rc "other /proc paths, and /proc/self/fd as an argument, stay usable" 0
expect_eq "... with the expected output" "$OUT" "/proc/1
ok"
