// Test-only hooks: the environment switches that turn a daemon into a deliberately broken or unsafe build
// for the tests (CASTOR_TEST_BUG, CASTOR_TEST_UNSAFE_TAKEOVER, CASTOR_TEST_WATCHDOG_STANDIN). They exist
// only in a build made with CASTOR_TEST_HOOKS=1 (a plain `make`, so that `make check` can use them); the
// release and packaged builds (make TEST_HOOKS=0: packaging/debian/rules, packaging/rpm/castor.spec) have
// none, and a daemon of such a build that finds one of the variables set refuses to start.
// Only test_hooks.cc is compiled with the switch: every hook is read through test_hook_env(), which in a
// build without hooks never reads the environment, so no hook can turn on there.
// Must never be used for anything but those test switches.
#pragma once

#include <array>

#include "common/status.h"

namespace castor {

inline constexpr std::array<const char*, 3> kTestHookVariables = {"CASTOR_TEST_BUG", "CASTOR_TEST_UNSAFE_TAKEOVER",
                                                                  "CASTOR_TEST_WATCHDOG_STANDIN"};

// True in a build with the test hooks (CASTOR_TEST_HOOKS=1 when test_hooks.cc was compiled).
bool test_hooks_built();

// getenv(name) for a test hook in a build with the hooks; nullptr (the hook is off) in one without.
const char* test_hook_env(const char* name);

// OK in a build with the hooks, or when no kTestHookVariables is set. Otherwise an error naming the
// variable: "CASTOR_TEST_BUG is set, but this is a release build without test hooks: unset it".
// Each daemon calls it first thing in main() and exits 1 on an error.
Status check_no_test_hooks_requested();

}  // namespace castor
