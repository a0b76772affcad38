#include "tests/support/test_seal.h"

#include <doctest/doctest.h>

#include <vector>

namespace castor::testing {

AuthKey test_auth_key(uint8_t seed, size_t n) {
  std::vector<std::byte> b(n);
  for (size_t i = 0; i < n; ++i) b[i] = std::byte(uint8_t(seed + i * 17));
  return AuthKey(b);
}

RecordSeal test_seal(uint8_t seed) {
  auto s = disk_record_seal(test_auth_key(seed));
  REQUIRE_MESSAGE(s.ok(), s.status().to_string());
  return *s;
}

}  // namespace castor::testing
