// Uuid: 16 random bytes (RFC 4122 version 4) naming a cluster; text form 8-4-4-4-12 hex.
// Must never be derived from time or host identity (two inits must never collide).
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "common/status.h"

namespace castor {

struct Uuid {
  std::array<uint8_t, 16> bytes{};
  bool is_nil() const;
  std::string to_string() const;
  friend bool operator==(const Uuid&, const Uuid&) = default;
};

Result<Uuid> random_uuid();
Result<Uuid> parse_uuid(const std::string& text);
// A random 64-bit value from getrandom(2) (incarnations, request ids).
Result<uint64_t> random_u64();

}  // namespace castor
