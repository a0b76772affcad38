#include "svcmgr/started_mark_rule.h"

#include <algorithm>

#include "disk/heartbeat_record.h"

namespace castor {

std::vector<uint64_t> started_mark_of(const std::vector<ClaimState>& claims) {
  uint64_t highest_started = 0;
  std::vector<uint64_t> not_started;
  for (const ClaimState& c : claims) {
    if (c.phase == OwnershipPhase::owning) not_started.push_back(c.epoch);
    if (c.phase == OwnershipPhase::stopping) highest_started = std::max(highest_started, c.epoch);
    if (c.phase != OwnershipPhase::running) continue;
    if (c.started) highest_started = std::max(highest_started, c.epoch);
    else not_started.push_back(c.epoch);
  }
  std::erase_if(not_started, [&](uint64_t e) { return e > highest_started; });
  std::sort(not_started.begin(), not_started.end());
  not_started.erase(std::unique(not_started.begin(), not_started.end()), not_started.end());
  std::vector<uint64_t> out{highest_started};
  if (not_started.size() > HeartbeatRecord::kMaxNotStarted)
    out[0] = not_started.front() > 0 ? not_started.front() - 1 : 0;
  else
    out.insert(out.end(), not_started.begin(), not_started.end());
  return out;
}

}  // namespace castor
