// REVIEW FINDING R4 (issue 12 adversarial review; admin semantics, not a safety property): while the peer's
// entry is unknown (its block corrupt), my writes take ballot max(mine, 0) + 1 — the peer's last KNOWN
// ballot is forgotten (Ownership::write uses 0 for an unknown entry). An admin word given here meanwhile
// (disable, relocate) may then carry a LOWER ballot than the peer's older word, and once the peer's block
// heals (its scrub), the older word counts as the cluster's latest (admin_state.h: the higher ballot wins).
// Schedule: the admin asks on node 2 to relocate ledger to node 2 (node 2's entry: released to 2, ballot
// 50). Node 2's table block is then garbled. The admin disables ledger on node 1: node 1 writes disabled
// with ballot 2. Node 2 scrubs its block: released-to-2 (50) is back and outranks the newer disable (2):
// ledger is started again against the admin's last command.
#include <doctest/doctest.h>

#include "svcmgr/ownership.h"
#include "tests/support/sample_records.h"

using namespace castor;

using testing::at;

TEST_CASE("review R4: a write while the peer's entry is unknown still outranks the peer's last known ballot") {
  ServiceEntry mine = testing::service_entry("ledger", OwnershipState::released, 0, 3, 1);
  Ownership o("ledger", 1, mine);
  o.set_intent(Intent::release);
  PeerEntryRead r;
  r.entry = mine;
  r.entry.node = 2;  // node 2's entry: released to node 2, ballot 50 (a relocation asked on node 2)
  r.entry.ballot = 50;
  r.peer_floor = 3;
  r.read_issued = at(100);
  r.read_completed = at(101);
  o.on_peer_entry(r);
  o.on_liveness({PeerView::up, at(0)});
  // node 2's block is garbled: its entry is unknown now.
  PeerEntryRead u;
  u.unknown = true;
  u.unknown_reason = "corrupt record at block 0";
  u.unknown_value = 7;
  u.peer_floor = 3;
  u.read_issued = at(200);
  u.read_completed = at(201);
  o.on_peer_entry(u);
  // The admin disables ledger here.
  o.set_intent(Intent::disable);
  OwnershipStep s = o.step(at(300));
  REQUIRE(s.write);
  REQUIRE(s.write->state == OwnershipState::disabled);
  CHECK_MESSAGE(s.write->ballot > 50, "the disable got ballot " << s.write->ballot
                                                                  << ": node 2's older relocation (50) outranks it once its block heals");
}
