// SimulatedCore: one real QuorumCore driven on simulated time, with a disk that completes every heartbeat I/O
// ok 1 ms after its issue while `disk_ok`, and fails it at its deadline (T) otherwise; the peer's block reads
// as `peer_seq` of the peer's incarnation (0xA for node 1, 0xB for node 2), changed only by the test. Records
// the stop_services and peer changes the core asks for. For the tests of the promises and the stop of
// services (stall_promise_test, review_stop_wait_test). Must never do real I/O or read a real clock: time
// moves only through step_to.
#pragma once

#include <optional>
#include <vector>

#include "quorumd/quorum_core.h"

namespace castor::testing {

inline constexpr Millis kSimulatedIoTimeout{200};

class SimulatedCore {
 public:
  // `lan`: with the promises (max_storage_stall 120 s); `term`: a promise term P other than F (0: F).
  explicit SimulatedCore(uint32_t id, TimePoint start, bool lan = true, Duration term = Duration(0));
  static CoreConfig config(uint32_t id, bool lan, Duration term = Duration(0));

  TimePoint t;
  QuorumCore core;
  bool disk_ok = true;
  uint64_t peer_seq = 1;
  std::optional<PeerTransition> last_transition;
  bool stop_asked = false;
  std::optional<TimePoint> stop_at;  // the first stop_services
  std::vector<TimePoint> stops;      // every stop_services
  Duration step{Millis(10)};         // of the simulated time in step_to

  HeartbeatRecord peer_record() const;
  // Takes the core's actions: I/O goes pending (done 1 ms later, or failed at T), stops and peer changes are noted.
  void run(const std::vector<CoreAction>& acts);
  // Completes the pending I/O due by t (feeding the core, and what it asks next).
  void complete_due();
  // Moves t to `end` in steps of `step`, completing I/O and ticking the core at each.
  void step_to(TimePoint end);
  bool fenced() const { return core.phase() == CorePhase::fenced; }

 private:
  struct Pending {
    TimePoint at, issued;
    CoreAction action;
    bool ok;
  };
  std::vector<Pending> pending_;
};

}  // namespace castor::testing
