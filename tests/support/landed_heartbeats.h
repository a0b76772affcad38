// LandedHeartbeats: a shared quorum disk for the fence-race simulations, reduced to what they need -- each
// node's heartbeat block as its writes land (a write lands at one moment between its issue and its
// completion), and what a read sampling the block at a moment returns (the latest write landed by then).
// Tests only; no I/O.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "disk/heartbeat_record.h"

namespace castor::test {

struct LandedHeartbeats {
  std::map<uint32_t, std::vector<std::pair<TimePoint, HeartbeatRecord>>> blocks;
  void land(uint32_t node, TimePoint when, const HeartbeatRecord& r) { blocks[node].push_back({when, r}); }
  std::optional<HeartbeatRecord> value(uint32_t node, TimePoint t) const {
    std::optional<HeartbeatRecord> v;
    auto it = blocks.find(node);
    if (it == blocks.end()) return v;
    TimePoint best{};
    for (auto& [when, r] : it->second)
      if (when <= t && when >= best) best = when, v = r;
    return v;
  }
};

}  // namespace castor::test
