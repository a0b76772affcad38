#!/bin/bash
# Test-only hooks are compiled out of release builds (issue 14): the daemons linked as a release build
# links them (build/tests/{quorumd,svcmgr}_nohooks: common/test_hooks.cc compiled with CASTOR_TEST_HOOKS=0,
# as `make TEST_HOOKS=0` and the packages build it) refuse to start when asked for any hook, with a clear
# error and exit 1; without one they run. The development build still accepts the hooks (make check uses them).
. "$(dirname "$0")/../lib/common.sh"
QN=$BUILD/tests/quorumd_nohooks SN=$BUILD/tests/svcmgr_nohooks
[ -x "$QN" ] && [ -x "$SN" ] || skip "the release-build daemons are not built (make tests)"
make_scratch

for bin in "$QN" "$SN"; do
  for hook in CASTOR_TEST_BUG=read_block0 CASTOR_TEST_BUG=corrupt_free CASTOR_TEST_UNSAFE_TAKEOVER=1 \
              CASTOR_TEST_WATCHDOG_STANDIN=1 CASTOR_TEST_BUG=; do
    say "${bin##*/} with $hook"
    expect_exit 1 env "$hook" "$bin" --config "$SCRATCH/absent.ini"
    case $OUT in
      *"${hook%%=*} is set, but this is a release build without test hooks"*) ;;
      *) fail "${bin##*/} with $hook: no clear refusal: $OUT" ;;
    esac
  done
  expect_exit 0 "$bin" --version  # without a hook it runs
done
# The development build (TEST_HOOKS=1, the default) takes them: it goes on to read its configuration.
OUT=$(env CASTOR_TEST_BUG=read_block0 "$BUILD/quorumd" --config "$SCRATCH/absent.ini" 2>&1)
case $OUT in *"without test hooks"*) fail "the development build refuses the hooks: $OUT" ;; esac
say "ok: a release build refuses every test hook"
