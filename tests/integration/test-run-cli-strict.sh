#!/usr/bin/env bash
# The appliance's command line refuses what it cannot honour, by name, with 125 and nothing run:
# a -v mode other than ro/rw (it used to give a writable mount at "/x:RO"), extra words after info,
# shell, extract; an empty --memory/--cpus/--pids-limit. `./app --version` prints the version.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

require_run_env
ensure_test_user
pack_alpine app
app=$TEST_TMP/app
chmod 755 "$app"

for who in root user; do
  as=()
  [[ $who == user ]] && as=(as_test_user)
  vol=$(test_user_dir "vol-$who")
  for mode in RO bogus ro:extra ro,rw ""; do
    run "${as[@]}" "$app" run -v "$vol:/x:$mode" sh -c 'touch /x/f "/x:'"$mode"'/f" 2>/dev/null; echo ran'
    expect_rc "$who: -v HOST:/x:$mode is refused" 125
    expect_not_contains "$who: -v HOST:/x:$mode: the command did not run" "$OUT" "ran"
    expect_contains "$who: -v HOST:/x:$mode: the message names the volume" "$ERR" "-v $vol:/x:$mode"
  done
  expect_eq "$who: nothing was written to the host directory" "$(ls -A "$vol")" ""
  run "${as[@]}" "$app" run -v "$vol:/x:ro" sh -c 'touch /x/f 2>/dev/null || echo read-only'
  expect_eq "$who: -v HOST:/x:ro is read-only" "$OUT" "read-only"
  run "${as[@]}" "$app" run -v "$vol:/x:rw" sh -c 'touch /x/f && echo written'
  expect_eq "$who: -v HOST:/x:rw is writable" "$OUT" "written"
  for words in "info --jsonx" "shell extra" "verify extra" "extract $TEST_TMP/x-$who more"; do
    read -ra argv <<<"$words"
    run "${as[@]}" "$app" "${argv[@]}"
    expect_rc "$who: '$words' is refused" 125
    expect_contains "$who: '$words': the message names the word" "$ERR" "unexpected argument ${argv[-1]}"
  done
  expect_false "$who: the refused extract made no directory" test -e "$TEST_TMP/x-$who"
  for option in --memory --cpus --pids-limit; do
    run "${as[@]}" "$app" run "$option" "" true
    expect_rc "$who: $option '' is refused" 125
    expect_contains "$who: $option '': the message says why" "$ERR" "$option: an empty value"
  done
  run "${as[@]}" "$app" --version
  expect_rc "$who: --version exits 0" 0
  expect_contains "$who: --version prints the version" "$OUT" "havre "
done
