#!/usr/bin/env bash
# SLOW (a few minutes: a clang build, then 60 s per target): scripts/fuzz runs each libFuzzer target
# of tests/fuzz (footer + manifest, the superblock scan, recipes) on a copy of its seed corpus; a
# crash, sanitizer report, leak or timeout fails the test, and the committed corpus stays untouched.
# Without clang and its libFuzzer runtime (Debian packages clang, libclang-rt-14-dev) the test is
# skipped, except under CI=true, where that is a failure.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

require_cmd clang++ cmake
printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' \
  >"$TEST_TMP/probe.cpp"
clang++ -fsanitize=fuzzer,address,undefined "$TEST_TMP/probe.cpp" -o "$TEST_TMP/probe" 2>"$TEST_TMP/probe.err" ||
  skip "clang++ cannot link a libFuzzer target (install libclang-rt-14-dev): $(head -c 300 "$TEST_TMP/probe.err")"

corpus=$HAVRE_SOURCE/tests/fuzz/corpus
before=$(cd "$corpus" && find . -type f -exec sha256sum {} + | sort)

seconds=${HAVRE_FUZZ_SECONDS:-60}
run env HAVRE_FUZZ_BUILD="$HAVRE_BUILD/fuzz" "$HAVRE_SOURCE/scripts/fuzz" "$seconds"
printf '%s\n' "$OUT"
[[ -z $ERR ]] || printf '%s\n' "$ERR" >&2
expect_rc "every fuzz target ran ${seconds}s without a crash" 0
for t in fuzz_footer_manifest fuzz_scan fuzz_recipe; do
  expect_contains "$t ran" "$OUT" "== $t: ${seconds}s"
done
expect_eq "the committed seed corpus is unchanged" "$(cd "$corpus" && find . -type f -exec sha256sum {} + | sort)" "$before"
