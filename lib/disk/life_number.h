// Life numbers: the order of a writer's lives on the quorum devices (issue 17, "ordered lives").
//
// Every quorumd life of a node (a process start, or a rejoin after a fence inside one process) has a life
// number, strictly greater than every earlier life's of that node (quorumd/life_store.h keeps it durable).
// It travels in the high 32 bits of the record header's incarnation; the low 32 bits are random, so an
// incarnation still names one life for every reader that only compares incarnations for equality (verdicts,
// fence intents, table entries, own-write checks). A copy of a block is ordered by (life, seq): the majority
// device hands out the highest (lib/disk/replica_choice.h).
// Pure: it must never read a clock or randomness itself (the caller passes the random half).
#pragma once

#include <cstdint>

namespace castor {

inline constexpr uint32_t life_of(uint64_t incarnation) { return uint32_t(incarnation >> 32); }
inline constexpr uint64_t make_incarnation(uint32_t life, uint32_t random) {
  return (uint64_t(life) << 32) | random;
}
// (life, seq): the version of a copy; lexicographic.
inline constexpr bool version_below(uint64_t inc_a, uint64_t seq_a, uint64_t inc_b, uint64_t seq_b) {
  return life_of(inc_a) != life_of(inc_b) ? life_of(inc_a) < life_of(inc_b) : seq_a < seq_b;
}

}  // namespace castor
