// QuorumCore's joining life and a failed heartbeat write: on a set of quorum devices the life is given up
// (fenced, so the daemon rejoins with a new life), on one disk it keeps trying (review 17e, finding 1).
#include <doctest/doctest.h>

#include <vector>

#include "disk/timing.h"
#include "quorumd/quorum_core.h"

using namespace castor;

namespace {

// Starts a core, fails the first heartbeat write it asks for, and returns the phase it is left in.
CorePhase after_failed_first_write(bool give_up_failed_join) {
  CoreConfig c;
  c.cluster_uuid.bytes[0] = 7;
  c.node_id = 1;
  c.incarnation = 0x100000111;
  c.timing = *Timing::from_io_timeout(Millis(200));
  c.give_up_failed_join = give_up_failed_join;
  TimePoint t{std::chrono::seconds(1000)};
  QuorumCore core(c, t);
  std::vector<CoreAction> acts;
  core.tick(t, acts);
  bool wrote = false;
  for (const CoreAction& a : acts) {
    if (a.kind != CoreActionKind::write_heartbeat) continue;
    wrote = true;
    REQUIRE(core.phase() == CorePhase::joining);
    std::vector<CoreAction> more;
    core.on_write_done(a.record.seq, t, Error(Code::io_error, "injected: no majority of the devices took it"),
                       t + Millis(5), more);
    if (give_up_failed_join) {
      bool fenced = false;
      for (const CoreAction& m : more) fenced = fenced || m.kind == CoreActionKind::fence;
      CHECK(fenced);
    }
    break;
  }
  REQUIRE(wrote);
  return core.phase();
}

}  // namespace

TEST_CASE("quorum core: a joining life whose heartbeat write fails is given up on a set, kept on one disk") {
  CHECK(after_failed_first_write(true) == CorePhase::fenced);
  CHECK(after_failed_first_write(false) == CorePhase::joining);
}
