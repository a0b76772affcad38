// The epoch a new owner takes (CASTOR_EPOCH, a fencing token) is above my entry's, the peer's entry's
// (when known), my epoch floor and the peer's floor (when known): so it stays above every epoch ever
// granted for the service even when a table block was lost or corrupt (issue 12, item 3: the survivor
// took `ledger` with epoch 1 — the very epoch the dead owner held — when the owner's block was unreadable).
#include <doctest/doctest.h>

#include <limits>

#include "svcmgr/ownership.h"
#include "tests/support/sample_records.h"

using namespace castor;

namespace {

using testing::at;

// Claims against `peer` (its entry read with the given floors) under a confirmed DEAD verdict when
// `dead`, else with the peer UP; returns the epoch of the owned write (0: none).
uint64_t owned_epoch(const ServiceEntry& mine, const PeerEntryRead& peer_tpl, bool dead) {
  Ownership o("ledger", 1, mine);
  o.set_intent(Intent::hold);
  if (!mine.in_use) {  // no entry on the disk (lost): the first step writes it as it is
    OwnershipStep w = o.step(at(90));
    if (!w.write || w.write->state != OwnershipState::none) return 0;
    o.on_write_done(o.write_token(), true, at(95));
  }
  // The verdict first stood at 80 (it came with an earlier read): the reads below may be voided by it.
  if (dead) o.on_liveness({PeerView::dead, at(80)});
  PeerEntryRead r = peer_tpl;
  r.read_issued = at(100);
  r.read_completed = at(102);
  o.on_peer_entry(r);
  o.on_liveness({dead ? PeerView::dead : PeerView::up, at(dead ? 110 : 0)});
  OwnershipStep s = o.step(at(120));
  if (!s.write || s.write->state != OwnershipState::claiming) return 0;
  o.on_write_done(o.write_token(), true, at(130));
  r.read_issued = at(140);
  r.read_completed = at(142);
  o.on_peer_entry(r);
  s = o.step(at(150));
  if (!s.write || s.write->state != OwnershipState::owned) return 0;
  return s.write->epoch;
}

ServiceEntry entry(OwnershipState st, uint64_t epoch, uint64_t ballot = 1, uint32_t node = 2) {
  return testing::service_entry("ledger", st, node, epoch, ballot);
}

}  // namespace

TEST_CASE("ownership epoch: above both floors, even when both entries show lower epochs (lost table blocks)") {
  PeerEntryRead p;
  p.entry = entry(OwnershipState::released, 3);  // the peer's entry, rewritten after its block was lost
  p.own_floor = 20;
  p.peer_floor = 15;
  CHECK(owned_epoch(entry(OwnershipState::released, 2, 1, 1), p, false) == 21);
  p.own_floor = 4;
  p.peer_floor = 30;
  CHECK(owned_epoch(entry(OwnershipState::released, 2, 1, 1), p, false) == 31);
  // Entries above the floors (a floor is only a lower bound on what a node reports): still above all.
  p.entry = entry(OwnershipState::released, 50);
  CHECK(owned_epoch(entry(OwnershipState::released, 2, 1, 1), p, false) == 51);
  CHECK(owned_epoch(entry(OwnershipState::released, 60, 1, 1), p, false) == 61);
}

TEST_CASE("ownership epoch: my own entry lost (none after a restart): my floor still bounds it") {
  PeerEntryRead p;  // the peer has no entry for it
  p.own_floor = 7;
  p.peer_floor = 0;
  CHECK(owned_epoch(ServiceEntry{}, p, false) == 8);
}

TEST_CASE("ownership epoch: a dead owner's unknown entry is taken over above the dead node's floor") {
  PeerEntryRead p;
  p.unknown = true;
  p.unknown_reason = "corrupt record at block 0";
  p.own_floor = 1;
  p.peer_floor = 2;  // the dead owner granted epochs 1 (ledger) and 2 (web): its floor says 2
  CHECK(owned_epoch(ServiceEntry{}, p, true) == 3);
  p.peer_floor.reset();
  CHECK(owned_epoch(ServiceEntry{}, p, true) == 0);  // its floor unknown too: no claim at all
}

TEST_CASE("ownership epoch: peer floor unknown, entry known: no new epoch, dead peer or not (HOLE_FLOOR_UNKNOWN)") {
  // The peer's entry may have been rewritten low after its block was lost, and my floor is only the one
  // durably written (0 while quorumd rewrites one it rebuilt): without the peer's floor an epoch already
  // granted could be granted again. The node waits for a read whose peer epoch record decoded.
  PeerEntryRead p;
  p.entry = entry(OwnershipState::owned, 9, 5);
  p.own_floor = 12;
  p.peer_floor.reset();
  CHECK(owned_epoch(entry(OwnershipState::released, 4, 1, 1), p, true) == 0);
  p.entry = entry(OwnershipState::released, 9, 5);
  CHECK(owned_epoch(entry(OwnershipState::released, 4, 1, 1), p, false) == 0);
  // The same reads with the peer's floor known: above the entry, my floor and the peer's floor.
  p.peer_floor = 11;
  CHECK(owned_epoch(entry(OwnershipState::released, 4, 1, 1), p, false) == 13);
  p.entry = entry(OwnershipState::owned, 9, 5);
  CHECK(owned_epoch(entry(OwnershipState::released, 4, 1, 1), p, true) == 13);
}

TEST_CASE("ownership epoch: a claim in flight waits (neither owns nor withdraws) while the peer's floor is unknown") {
  Ownership o("ledger", 1, entry(OwnershipState::released, 4, 1, 1));
  o.set_intent(Intent::hold);
  PeerEntryRead r;
  r.entry = entry(OwnershipState::released, 9, 5);
  r.peer_floor = 9;
  r.read_issued = at(100);
  r.read_completed = at(102);
  o.on_peer_entry(r);
  o.on_liveness({PeerView::up, at(0)});
  OwnershipStep s = o.step(at(110));
  REQUIRE(s.write);
  REQUIRE(s.write->state == OwnershipState::claiming);
  o.on_write_done(o.write_token(), true, at(120));
  r.peer_floor.reset();  // the confirming read: the peer's epoch record torn
  r.read_issued = at(130);
  r.read_completed = at(132);
  o.on_peer_entry(r);
  s = o.step(at(140));
  CHECK_FALSE(s.write);
  CHECK(o.phase() == OwnershipPhase::claiming);
  r.peer_floor = 30;  // the next read: decoded
  r.read_issued = at(150);
  r.read_completed = at(152);
  o.on_peer_entry(r);
  s = o.step(at(160));
  REQUIRE(s.write);
  CHECK(s.write->state == OwnershipState::owned);
  CHECK(s.write->epoch == 31);
}

// review14c finding D: an epoch floor or entry at 2^64-1 (a re-init that carried a forged floor, say) leaves
// no next epoch; floor + 1 wrapped to 0 and CASTOR_EPOCH, the fencing token, went backwards. No claim then.
TEST_CASE("ownership epoch: at 2^64-1 there is no next epoch: no claim, never a wrapped epoch") {
  const uint64_t top = std::numeric_limits<uint64_t>::max();
  // Does the node claim at all? (owned_epoch's 0 cannot tell "no claim" from an epoch wrapped to 0.)
  auto claims = [](const ServiceEntry& mine, PeerEntryRead r, bool dead) {
    Ownership o("ledger", 1, mine);
    o.set_intent(Intent::hold);
    if (dead) o.on_liveness({PeerView::dead, at(80)});
    r.read_issued = at(100);
    r.read_completed = at(102);
    o.on_peer_entry(r);
    o.on_liveness({dead ? PeerView::dead : PeerView::up, at(dead ? 110 : 0)});
    OwnershipStep s = o.step(at(120));
    return s.write && s.write->state == OwnershipState::claiming;
  };
  const ServiceEntry mine = entry(OwnershipState::released, 2, 1, 1);
  PeerEntryRead p;
  p.entry = entry(OwnershipState::released, 3);
  p.own_floor = 5;
  p.peer_floor = 5;
  REQUIRE(claims(mine, p, false));  // the baseline claims
  REQUIRE(owned_epoch(mine, p, false) == 6);
  p.peer_floor = top;  // the peer's floor
  CHECK_FALSE(claims(mine, p, false));
  CHECK_FALSE(claims(mine, p, true));
  p.peer_floor = 5;
  p.own_floor = top;  // my floor
  CHECK_FALSE(claims(mine, p, false));
  p.own_floor = 5;
  p.entry = entry(OwnershipState::released, top);  // the peer's entry
  CHECK_FALSE(claims(mine, p, false));
  p.entry = entry(OwnershipState::released, 3);
  CHECK_FALSE(claims(entry(OwnershipState::released, top, 1, 1), p, false));  // my entry
  // One below the top still has a next epoch: the top itself.
  p.peer_floor = top - 1;
  CHECK(owned_epoch(mine, p, false) == top);
}

TEST_CASE("ownership epoch: a claim whose confirming read shows a floor at 2^64-1 is withdrawn, and not made again") {
  Ownership o("ledger", 1, entry(OwnershipState::released, 4, 1, 1));
  o.set_intent(Intent::hold);
  PeerEntryRead r;
  r.entry = entry(OwnershipState::released, 9, 5);
  r.peer_floor = 9;
  r.read_issued = at(100);
  r.read_completed = at(102);
  o.on_peer_entry(r);
  o.on_liveness({PeerView::up, at(0)});
  OwnershipStep s = o.step(at(110));
  REQUIRE(s.write);
  REQUIRE(s.write->state == OwnershipState::claiming);
  o.on_write_done(o.write_token(), true, at(120));
  r.peer_floor = std::numeric_limits<uint64_t>::max();  // the confirming read
  r.read_issued = at(130);
  r.read_completed = at(132);
  o.on_peer_entry(r);
  s = o.step(at(140));
  REQUIRE(s.write);
  CHECK(s.write->state == OwnershipState::released);
  CHECK_FALSE(s.start);
  o.on_write_done(o.write_token(), true, at(150));
  for (int i = 0; i < 3; ++i) {  // idle again: no new claim while no epoch is left
    s = o.step(at(160 + i));
    CHECK_FALSE(s.write);
    CHECK_FALSE(s.start);
  }
  CHECK(o.phase() == OwnershipPhase::idle);
  CHECK_FALSE(o.may_run());
}
