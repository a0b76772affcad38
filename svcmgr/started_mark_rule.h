// StartedMarkRule: the started mark this node's heartbeat publishes for the peer's display
// (HeartbeatRecord::started_mark; docs/ondisk-format.md): the highest epoch of a service started here (or
// being stopped: its entry still says owned, and it runs), then the epochs at most it of services owned here
// and not started yet (owned and starting, or recovering). Two services confirmed from one read of the table
// share an epoch, so an owned sibling not started yet must be listed even before it runs (review 20e).
// Services still being claimed are left out: a claim is confirmed from a floor at or above every epoch seen,
// so its epoch is above the mark. More than HeartbeatRecord::kMaxNotStarted: the mark goes below the lowest.
// Pure: no I/O.
#pragma once

#include <cstdint>
#include <vector>

#include "svcmgr/ownership.h"

namespace castor {

struct ClaimState {
  OwnershipPhase phase = OwnershipPhase::idle;
  bool started = false;  // its runner says started
  uint64_t epoch = 0;
};

// The mark, then the listed epochs (ascending, each once).
std::vector<uint64_t> started_mark_of(const std::vector<ClaimState>& claims);

}  // namespace castor
