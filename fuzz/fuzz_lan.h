// The fixed key and cluster of the LAN datagram fuzz target (fuzz/lan_datagram_fuzz.cc), shared with
// fuzz/make_corpus.cc so that its seeds carry tags the target accepts.
//
// Input layout of the target: byte 0 = options, then the datagram's bytes.
//   bit 0     reseal: the bytes are cut or zero-padded to kLanDatagramSize and sealed with the fixed key
//             first, so the fuzzer gets past the tag and reaches the field checks
//   bit 1     the sender the caller expects: 1 (clear) or 2 (set)
//   bit 2     the link it was received on: 1 (clear) or 2 (set)
// Fuzzing only: never linked into Castor's programs.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "common/auth_key.h"
#include "common/uuid.h"
#include "lan/lan_datagram.h"

namespace castor::fuzz {

inline AuthKey lan_fuzz_cluster_key() {
  std::array<std::byte, 32> b;
  for (size_t i = 0; i < b.size(); ++i) b[i] = std::byte(uint8_t(0x11 * (i + 1)));
  return AuthKey(b);
}

inline const LanSeal& lan_fuzz_seal() {
  static const LanSeal seal = [] {
    auto s = LanSeal::from_cluster_key(lan_fuzz_cluster_key());
    if (!s.ok()) std::abort();
    return std::move(s).value();
  }();
  return seal;
}

// The same as make_corpus.cc's uuid(1).
inline Uuid lan_fuzz_cluster() {
  Uuid u;
  for (size_t i = 0; i < u.bytes.size(); ++i) u.bytes[i] = uint8_t(1 + i * 29);
  return u;
}

inline uint8_t lan_fuzz_options(bool reseal, uint32_t expected_sender, uint32_t link) {
  return uint8_t((reseal ? 1 : 0) | (expected_sender == 2 ? 2 : 0) | (link == 2 ? 4 : 0));
}

}  // namespace castor::fuzz
