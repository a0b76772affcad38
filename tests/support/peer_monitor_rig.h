// A PeerMonitor fed by hand, for the tests that state one schedule of the peer's records (the fence subject,
// an admin's confirmation, the adversarial reviews' findings): each read returns one record of node 2 (or
// undecodable bytes), 100 ms after the previous one on a made-up clock, issued 1 ms before it completes.
// Never used by production code; it decides nothing itself.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "quorumd/peer_monitor.h"

namespace castor::testing {

struct PeerMonitorRig {
  explicit PeerMonitorRig(Duration dead = std::chrono::milliseconds(1200)) : pm(dead) {}
  PeerMonitor pm;
  TimePoint t{std::chrono::seconds(1000)};
  bool no_watchdog = false;  // every record carries HeartbeatRecord::kNoWatchdog

  // One read returning the record (inc, seq, state): the transition it made, if any.
  std::optional<PeerTransition> observe(uint64_t inc, uint64_t seq, NodeState state = NodeState::up) {
    HeartbeatRecord r;
    r.node_id = 2;
    r.incarnation = inc;
    r.seq = seq;
    r.state = state;
    if (no_watchdog) r.flags = HeartbeatRecord::kNoWatchdog;
    auto tr = pm.observe({t, t + Millis(1), r, 0});
    t += Millis(100);
    return tr;
  }
  // The same read; the view after it.
  PeerView read(uint64_t inc, uint64_t seq, NodeState state = NodeState::up) {
    (void)observe(inc, seq, state);
    return pm.view();
  }
  // One read returning bytes that decode as no record (their hash `h`); the view after it.
  PeerView garbage(uint32_t h) {
    pm.observe({t, t + Millis(1), std::nullopt, h});
    t += Millis(100);
    return pm.view();
  }
  // What QuorumDaemon::admin_confirm_off does to the core's monitor; the settle's end.
  TimePoint admin_confirms(Duration settle = std::chrono::milliseconds(500)) {
    pm.fence_started();
    pm.fence_by_admin();
    const TimePoint settle_end = t + settle;
    pm.declare_fenced(settle_end, "an admin's confirmation on alpha");
    return settle_end;
  }
};

}  // namespace castor::testing
