#include <doctest/doctest.h>

#include "common/fnv1a.h"

using namespace castor;

TEST_CASE("FNV-1a 64: the published test vectors, chaining, and words least significant byte first") {
  CHECK(fnv1a("") == 0xcbf29ce484222325ULL);
  CHECK(fnv1a("a") == 0xaf63dc4c8601ec8cULL);
  CHECK(fnv1a("foobar") == 0x85944171f73967e8ULL);
  CHECK(fnv1a("bar", fnv1a("foo")) == fnv1a("foobar"));
  CHECK(Fnv1a().add_u64(0x0102030405060708ULL).value() == fnv1a(std::string_view("\x08\x07\x06\x05\x04\x03\x02\x01", 8)));
  static_assert(fnv1a("a") == 0xaf63dc4c8601ec8cULL);  // usable at compile time
}
