// fuzz::require: the fuzz targets' invariant check. Crashes (abort) when an invariant is broken, so that
// libFuzzer keeps the input as a finding. Fuzzing only: never linked into Castor's programs.
#pragma once

#include <cstdlib>

namespace castor::fuzz {

inline void require(bool ok) {
  if (!ok) std::abort();
}

}  // namespace castor::fuzz
