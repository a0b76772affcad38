// When a DEAD/DOWN verdict on the peer may void its entry (two holes the ownership simulation found,
// issue 12): a verdict voids only an entry from a table read issued after the verdict first stood (a slow
// read may predate an epoch the peer took and gave up before it left), and an entry rewritten field for
// field by a new incarnation of the peer is a new value (its writer incarnation differs), so the old
// verdict must be re-confirmed after it.
#include <doctest/doctest.h>

#include "svcmgr/ownership.h"
#include "tests/support/sample_records.h"

using namespace castor;

namespace {

using testing::at;

ServiceEntry entry(OwnershipState st, uint64_t epoch, uint64_t ballot, uint32_t node) {
  return testing::service_entry("ledger", st, node, epoch, ballot);
}

PeerEntryRead read(const ServiceEntry& e, int issued_ms, int completed_ms, uint64_t peer_floor,
                   uint64_t writer_incarnation = 1) {
  return testing::peer_read(e, issued_ms, completed_ms, peer_floor, writer_incarnation);
}

}  // namespace

TEST_CASE("ownership verdict: a DOWN verdict that comes with a slow read does not void that read (HOLE_STALE_VERDICT)") {
  Ownership o("ledger", 1, entry(OwnershipState::released, 2, 1, 1));
  o.set_intent(Intent::hold);
  o.on_peer_entry(read(entry(OwnershipState::released, 2, 1, 2), 10, 12, 2));
  o.on_liveness({PeerView::up, at(0)});
  OwnershipStep s = o.step(at(20));
  REQUIRE(s.write);
  REQUIRE(s.write->state == OwnershipState::claiming);
  REQUIRE(s.write->ballot == 2);
  o.on_write_done(o.write_token(), true, at(30));
  // The peer claims too, same ballot: node 1 has priority, so node 1 waits for it to withdraw.
  const ServiceEntry peer_claim = entry(OwnershipState::claiming, 2, 2, 2);
  o.on_peer_entry(read(peer_claim, 40, 42, 2));
  o.on_liveness({PeerView::up, at(35)});
  s = o.step(at(45));
  CHECK_FALSE(s.write);
  // A slow read issued at 50 returns at 900 the same claim; meanwhile the peer (whose confirming read
  // missed my claim) owned epoch 3, ran, stopped, released and left: the reply carries its fresh DOWN,
  // first confirmed at 850. The entry and floor in hand are from before epoch 3: no new epoch from them.
  o.on_peer_entry(read(peer_claim, 50, 900, 2));
  o.on_liveness({PeerView::down, at(850)});
  s = o.step(at(901));
  CHECK_FALSE(s.write);  // without the fix: owned with epoch 3, the epoch the peer already took
  CHECK(o.phase() == OwnershipPhase::claiming);
  // The next read, issued after the verdict stood, shows what the peer left: epoch 3 and floor 3.
  o.on_peer_entry(read(entry(OwnershipState::released, 3, 4, 2), 910, 912, 3));
  o.on_liveness({PeerView::down, at(905)});
  s = o.step(at(913));
  REQUIRE(s.write);
  CHECK(s.write->state == OwnershipState::owned);
  CHECK(s.write->epoch == 4);
}

TEST_CASE("ownership verdict: a verdict re-confirmed after a read issued later still voids the entry") {
  // The fix only delays: a dead owner's entry read after the verdict first stood is voided as before.
  Ownership o("ledger", 1, entry(OwnershipState::released, 2, 1, 1));
  o.set_intent(Intent::hold);
  const ServiceEntry dead_owner = entry(OwnershipState::owned, 5, 3, 2);
  o.on_peer_entry(read(dead_owner, 10, 12, 5));
  o.on_liveness({PeerView::dead, at(100)});  // first stood at 100, after that read was issued
  CHECK(o.peer_up());
  CHECK_FALSE(o.step(at(110)).write);
  o.on_peer_entry(read(dead_owner, 120, 122, 5));
  o.on_liveness({PeerView::dead, at(130)});
  CHECK_FALSE(o.peer_up());
  OwnershipStep s = o.step(at(140));
  REQUIRE(s.write);
  CHECK(s.write->state == OwnershipState::claiming);
}

TEST_CASE("ownership verdict: an entry rewritten field for field by the peer's next incarnation is a new value") {
  // The peer lost its own block at restart, rebuilt its ballots from mine, and its new incarnation's first
  // claim equals its previous life's last one. Our quorumd has not read its new heartbeat yet: DEAD still
  // stands, confirmed only by reads issued before that heartbeat landed (at 135).
  Ownership o("ledger", 1, entry(OwnershipState::released, 2, 1, 1));
  o.set_intent(Intent::hold);
  const ServiceEntry claim = entry(OwnershipState::claiming, 3, 5, 2);
  o.on_liveness({PeerView::dead, at(50)});
  o.on_peer_entry(read(claim, 100, 102, 3, /*writer_incarnation=*/7));
  o.on_liveness({PeerView::dead, at(110)});  // confirmed after the value was in hand: voided
  OwnershipStep s = o.step(at(120));
  REQUIRE(s.write);
  REQUIRE(s.write->state == OwnershipState::claiming);
  o.on_write_done(o.write_token(), true, at(130));
  // Incarnation 8 wrote the same fields (its heartbeat landed at 135); the verdict's last confirmation is 134.
  o.on_peer_entry(read(claim, 140, 142, 3, /*writer_incarnation=*/8));
  o.on_liveness({PeerView::dead, at(134)});
  CHECK(o.peer_up());
  s = o.step(at(150));
  CHECK_FALSE((s.write && s.write->state == OwnershipState::owned));  // without the fix: two owners
  CHECK(o.phase() == OwnershipPhase::claiming);                       // my claim has priority: it waits
}
