#!/usr/bin/env bash
# Host devices stay out of a root container (issue 11.1): the command keeps CAP_MKNOD, as in Docker,
# but every mount it can write to is nodev, so a node it creates for a host device (a loop device,
# /dev/kvm, /dev/kmsg) cannot be opened -- on the overlay, /dev, /tmp, /dev/shm, a --persist layer,
# a -v volume, under --read-only, and in a recipe's run: step during havre-pack. The baseline nodes
# (null, zero, full, random, urandom, tty, ptmx) still work; /dev/kmsg is not there.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

require_run_env
[[ -x $HAVRE_BUILD/tests/havre-probe ]] || fail "the probe $HAVRE_BUILD/tests/havre-probe is not built"
pack_alpine app "files: [{src: $HAVRE_BUILD/tests/havre-probe, dst: /usr/local/bin/probe, mode: '0755'}]"
app=$TEST_TMP/app

# probe node:TYPE:MAJOR:MINOR:PATH (opened read-only for b, write-only for c) prints "node=ok open=ERRNO": mknod may work (CAP_MKNOD), open must not.
refused() { [[ $1 =~ open=(EACCES|EPERM) ]]; }
nodes=(b:7:0 c:10:232 c:1:11)  # /dev/loop0, /dev/kvm, /dev/kmsg

check_nodes() {  # LABEL DIR [RUN OPTIONS...]
  local label=$1 dir=$2 node
  shift 2
  for node in "${nodes[@]}"; do
    run "$app" run "$@" probe "node:$node:$dir/n-${node//:/-}"
    expect_rc "$label: the probe ran ($node in $dir)" 0
    expect_true "$label: a $node node made in $dir cannot be opened (got: $OUT)" refused "$OUT"
  done
}

check_nodes "overlay root" ""
check_nodes "/dev" /dev
check_nodes "/tmp" /tmp
check_nodes "/dev/shm" /dev/shm
mkdir -p "$TEST_TMP/persist"
check_nodes "--persist" "" --persist "$TEST_TMP/persist"
check_nodes "--read-only" /tmp --read-only
check_nodes "--read-only, /dev" /dev --read-only
mkdir -p "$TEST_TMP/volume"
check_nodes "-v volume" /vol -v "$TEST_TMP/volume:/vol"
# A volume with a mount of its own below it (the nodev must reach the whole tree).
mkdir -p "$TEST_TMP/volume/sub"
unshare -m --propagation private sh -c "mount -t tmpfs vsub '$TEST_TMP/volume/sub' && \
  '$app' run -v '$TEST_TMP/volume:/vol' probe node:c:10:232:/vol/sub/kvm" >"$TEST_TMP/sub.out" 2>&1
expect_true "-v volume with a submount: /dev/kvm made there cannot be opened ($(cat "$TEST_TMP/sub.out"))" \
  refused "$(cat "$TEST_TMP/sub.out")"

# The baseline set works, and is the host's (a bind, not a node of ours); no /dev/kmsg.
run "$app" run sh -c 'head -c 4 /dev/zero | wc -c; echo x >/dev/null && echo null-ok; head -c 4 /dev/urandom | wc -c;
  (echo >/dev/full) 2>&1 | grep -c "No space"; test -e /dev/kmsg && echo kmsg-present || echo no-kmsg;
  test -c /dev/pts/ptmx && echo ptmx-ok'
expect_eq "the baseline nodes work and /dev/kmsg is absent" "$(tr '\n' ' ' <<<"$OUT")" "4 null-ok 4 1 no-kmsg ptmx-ok "

# A recipe's run: step (havre-pack runs it as root on the staged tree) gets no further: the step
# fails the build if any node opens.
step='for n in b:7:0 c:10:232 c:1:11; do for d in / /tmp /dev; do out=$(probe node:$n:$d/n-$RANDOM); echo "$out";
  case $out in *open=EACCES*|*open=EPERM*) ;; *) exit 1 ;; esac; done; done'
write_alpine_recipe "$TEST_TMP/step.yaml" step \
  "files: [{src: $HAVRE_BUILD/tests/havre-probe, dst: /usr/local/bin/probe, mode: '0755'}]" \
  "run: [$(printf '%s' "$step" | tr '\n' ' ' | sed 's/"/\\"/g; s/^/"/; s/$/"/')]"
pack "$TEST_TMP/step.yaml" "$TEST_TMP/step"
expect_rc "a run: step cannot open a host device it made" 0
expect_contains "the step made and tried the nodes" "$ERR$OUT" "open=EACCES"
