#!/usr/bin/env bash
# The rootless FUSE server is multithreaded: each worker thread has its own libsquashfuse instance.
# Eight readers at once (file contents, directory listings with thousands of entries, symlinks) get
# exactly the bytes the host put in, several server threads do the work, and HAVRE_FUSE_THREADS=1
# gives the single-threaded server the same answers.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

require_run_env
ensure_test_user
require_cmd sha256sum
[[ -c /dev/fuse ]] || skip "/dev/fuse is missing"
as_test_user test -r /dev/fuse -a -w /dev/fuse || skip "/dev/fuse is not usable by $TEST_USER (scripts/setup makes it 0666)"

# The data: files of many sizes in nested directories, a directory of 3000 entries (readdir in many
# pages) and symlinks; small blocks and gzip so that every read decompresses.
data=$TEST_TMP/data
mkdir -p "$data/many"
for i in $(seq 1 40); do
  d=$data/d$((i % 5))/e$((i % 3))
  mkdir -p "$d"
  head -c $(((i * 37 % 97 + 1) * 16384 + i)) /dev/urandom >"$d/f$i"
  ln -s "f$i" "$d/link$i"
done
for i in $(seq 1 3000); do : >"$data/many/entry-$i"; done
(cd "$data" && find . -type f | LC_ALL=C sort | xargs sha256sum) >"$TEST_TMP/want.sums"
(cd "$data" && find . | LC_ALL=C sort) >"$TEST_TMP/want.list"
(cd "$data" && find . -type l | LC_ALL=C sort | while read -r l; do echo "$l -> $(readlink "$l")"; done) \
  >"$TEST_TMP/want.links"
pack_alpine app "files: [{src: $data, dst: /data}]" "squashfs: {compression: gzip, block_size: 4K}"
chmod 755 "$TEST_TMP/app"
app=$TEST_TMP/app

# Eight readers at once, each writing what it saw; then the number of threads in the init (PID 1).
readers='cd /data
for r in 1 2 3 4 5 6 7 8; do
  case $((r % 3)) in
    0) find . | LC_ALL=C sort >/tmp/out.$r ;;
    1) find . -type f | LC_ALL=C sort | xargs sha256sum >/tmp/out.$r ;;
    2) find . -type l | LC_ALL=C sort | while read -r l; do echo "$l -> $(readlink "$l")"; done >/tmp/out.$r ;;
  esac &
done
wait
for r in 1 2 3 4 5 6 7 8; do echo "== $r"; cat /tmp/out.$r; done
echo "threads $(ls /proc/1/task | wc -l)"'

check_readers() {  # LABEL
  local r want
  for r in 1 2 3 4 5 6 7 8; do
    case $((r % 3)) in 0) want=$TEST_TMP/want.list ;; 1) want=$TEST_TMP/want.sums ;; 2) want=$TEST_TMP/want.links ;; esac
    sed -n "/^== $r\$/,/^== \|^threads /p" <<<"$OUT" | sed '1d;/^== \|^threads /d' >"$TEST_TMP/got.$r"
    expect_same_file "$1: reader $r sees exactly the host's $(basename "$want")" "$want" "$TEST_TMP/got.$r"
  done
}

for round in 1 2 3; do
  run as_test_user "$app" run sh -c "$readers"
  expect_rc "round $round: eight concurrent readers" 0
  check_readers "round $round"
  threads=$(sed -n 's/^threads //p' <<<"$OUT")
  # The init's own thread, the loop's, and at least two workers serving at once.
  expect_true "round $round: several server threads worked (the init has $threads threads)" test "$threads" -ge 4
done

run as_test_user env HAVRE_FUSE_THREADS=1 "$app" run sh -c "$readers"
expect_rc "HAVRE_FUSE_THREADS=1: eight concurrent readers" 0
check_readers "single-threaded"
expect_eq "HAVRE_FUSE_THREADS=1: the init and one server thread" "$(sed -n 's/^threads //p' <<<"$OUT")" 2
