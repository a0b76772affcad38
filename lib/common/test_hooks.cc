#include "common/test_hooks.h"

#include <cstdlib>
#include <string>

// Only this file is compiled with the switch (Makefile: TEST_HOOKS). Absent means a release build.
#ifndef CASTOR_TEST_HOOKS
#define CASTOR_TEST_HOOKS 0
#endif

namespace castor {

bool test_hooks_built() { return CASTOR_TEST_HOOKS != 0; }

const char* test_hook_env(const char* name) {
#if CASTOR_TEST_HOOKS
  return std::getenv(name);
#else
  (void)name;
  return nullptr;
#endif
}

Status check_no_test_hooks_requested() {
  if (test_hooks_built()) return Status::Ok();
  for (const char* v : kTestHookVariables) {
    if (std::getenv(v) != nullptr) {
      return Error(Code::refused, std::string(v) +
                                      " is set, but this is a release build without test hooks (they exist only "
                                      "in development builds, made with TEST_HOOKS=1): unset it");
    }
  }
  return Status::Ok();
}

}  // namespace castor
