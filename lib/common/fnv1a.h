#pragma once
// FNV-1a, 64 bits: a cheap digest that tells whether something changed (a service definition, what the
// peer's heartbeat says). Never for integrity on disk (CRC32C) nor for anything an attacker may aim at
// (the HMAC key): collisions are easy to make on purpose.
#include <cstdint>
#include <string_view>

namespace castor {

class Fnv1a {
 public:
  static constexpr uint64_t kOffset = 0xcbf29ce484222325ULL;
  static constexpr uint64_t kPrime = 0x100000001b3ULL;

  constexpr explicit Fnv1a(uint64_t h = kOffset) : h_(h) {}

  constexpr Fnv1a& add(std::string_view data) {
    for (unsigned char c : data) add_byte(c);
    return *this;
  }
  // The eight bytes of v, least significant first (the same on every host).
  constexpr Fnv1a& add_u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) add_byte(uint8_t(v >> (8 * i)));
    return *this;
  }
  constexpr uint64_t value() const { return h_; }

 private:
  constexpr void add_byte(uint8_t c) {
    h_ ^= c;
    h_ *= kPrime;
  }
  uint64_t h_;
};

constexpr uint64_t fnv1a(std::string_view data, uint64_t h = Fnv1a::kOffset) { return Fnv1a(h).add(data).value(); }

}  // namespace castor
