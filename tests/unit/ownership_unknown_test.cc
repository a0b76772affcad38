// Ownership against an UNKNOWN peer entry (the peer's table block that holds it, or for a service not
// found any peer table block or the peer's epoch record, failed to decode): never free, never a reason to
// claim; under a confirmed DEAD verdict void only when the peer's epoch floor is known, and then the new
// epoch is above that floor; a node already holding the service keeps it. (Issue 12, item 2: a corrupt
// block used to count as "no entries", i.e. free.)
#include <doctest/doctest.h>

#include "svcmgr/ownership.h"
#include "tests/support/sample_records.h"

using namespace castor;

namespace {

using testing::at;

PeerEntryRead unknown_read(int issued_ms, int completed_ms, std::optional<uint64_t> peer_floor = uint64_t(0)) {
  PeerEntryRead r;
  r.unknown = true;
  r.unknown_reason = "corrupt record at block 1";
  r.read_issued = at(issued_ms);
  r.read_completed = at(completed_ms);
  r.peer_floor = peer_floor;
  return r;
}

PeerEntryRead known_read(const ServiceEntry& e, int issued_ms, int completed_ms, uint64_t peer_floor = 0) {
  return testing::peer_read(e, issued_ms, completed_ms, peer_floor);
}

PeerLiveness dead_confirmed_at(int ms) { return {PeerView::dead, at(ms)}; }

// My entry as on the disk: released, never owned (so the first step writes nothing unasked).
ServiceEntry my_released() { return testing::service_entry("web", OwnershipState::released, 0, 0, 1); }

// Steps until nothing more happens; returns the writes in order (completing each at once, ok).
std::vector<ServiceEntry> settle(Ownership& o, int& clock_ms) {
  std::vector<ServiceEntry> writes;
  for (int i = 0; i < 10; ++i) {
    OwnershipStep s = o.step(at(clock_ms));
    if (!s.write) break;
    writes.push_back(*s.write);
    clock_ms += 5;
    o.on_write_done(o.write_token(), true, at(clock_ms));
  }
  return writes;
}

bool claims(const std::vector<ServiceEntry>& w) {
  for (const auto& e : w)
    if (e.state == OwnershipState::claiming || e.state == OwnershipState::owned) return true;
  return false;
}

}  // namespace

TEST_CASE("ownership unknown: no claim against an unknown entry, whatever the peer's liveness short of a confirmed verdict") {
  for (PeerView v : {PeerView::unknown, PeerView::up, PeerView::dead, PeerView::down}) {
    CAPTURE(int(v));
    Ownership o("web", 1, my_released());
    o.set_intent(Intent::hold);
    int t = 1000;
    // DEAD/DOWN here is not confirmed after the entry's value was first seen (confirmed before the read).
    o.on_liveness({v, at(10)});
    for (int i = 0; i < 5; ++i) {
      o.on_peer_entry(unknown_read(t, t + 2));
      t += 100;
      CHECK_FALSE(claims(settle(o, t)));
      CHECK_FALSE(o.holding());
      CHECK(o.peer_up());
    }
  }
}

TEST_CASE("ownership unknown: a claim in flight withdraws when the confirming read finds the peer's entry unknown") {
  Ownership o("web", 1, my_released());
  o.set_intent(Intent::hold);
  o.on_liveness({PeerView::up, at(0)});
  ServiceEntry none;
  o.on_peer_entry(known_read(none, 100, 102));  // the peer has no entry: free
  OwnershipStep s = o.step(at(103));
  REQUIRE(s.write);
  CHECK(s.write->state == OwnershipState::claiming);
  o.on_write_done(o.write_token(), true, at(110));
  o.on_peer_entry(unknown_read(120, 122));  // now its block is corrupt: it may hold a claim with priority
  s = o.step(at(123));
  REQUIRE(s.write);
  CHECK(s.write->state == OwnershipState::released);
  CHECK_FALSE(s.start);
  CHECK(o.phase() == OwnershipPhase::releasing);
}

TEST_CASE("ownership unknown: DEAD confirmed after the unknown read, peer floor known: claim with an epoch above that floor") {
  Ownership o("web", 1, my_released());
  o.set_intent(Intent::hold);
  int t = 1000;
  o.on_liveness(dead_confirmed_at(t - 10));  // the verdict first stood before the table read was issued
  o.on_peer_entry(unknown_read(t, t + 2, uint64_t(41)));
  o.on_liveness(dead_confirmed_at(t + 10));  // a heartbeat read issued after the entry's value was in hand
  t += 20;
  OwnershipStep s = o.step(at(t));
  REQUIRE(s.write);
  CHECK(s.write->state == OwnershipState::claiming);
  t += 5;
  o.on_write_done(o.write_token(), true, at(t));
  // The confirming read: issued after the claim landed, still unknown, same value; the verdict stands.
  o.on_peer_entry(unknown_read(t + 1, t + 3, uint64_t(41)));
  s = o.step(at(t + 4));
  REQUIRE(s.write);
  CHECK(s.write->state == OwnershipState::owned);
  CHECK(s.write->epoch > 41);
  o.on_write_done(o.write_token(), true, at(t + 8));
  s = o.step(at(t + 9));
  CHECK(s.start);
  CHECK(s.epoch > 41);
}

TEST_CASE("ownership unknown: DEAD confirmed but the peer's floor unknown: no claim") {
  Ownership o("web", 1, my_released());
  o.set_intent(Intent::hold);
  int t = 1000;
  for (int i = 0; i < 5; ++i) {
    o.on_peer_entry(unknown_read(t, t + 2, std::nullopt));
    o.on_liveness(dead_confirmed_at(t + 10));
    t += 100;
    CHECK_FALSE(claims(settle(o, t)));
    CHECK(o.peer_up());
  }
  CHECK_FALSE(o.holding());
}

TEST_CASE("ownership unknown: a changed unknown value needs the verdict confirmed again") {
  Ownership o("web", 1, my_released());
  o.set_intent(Intent::hold);
  o.on_peer_entry(unknown_read(1000, 1002, uint64_t(3)));
  o.on_liveness(dead_confirmed_at(1010));
  PeerEntryRead changed = unknown_read(1020, 1022, uint64_t(3));
  changed.unknown_reason = "corrupt record at block 2";  // something else is corrupt now
  o.on_peer_entry(changed);
  CHECK(o.peer_up());  // the verdict was confirmed before this value was seen
  int t = 1030;
  CHECK_FALSE(claims(settle(o, t)));
  o.on_liveness(dead_confirmed_at(1030));
  CHECK_FALSE(o.peer_up());
}

TEST_CASE("ownership unknown: a node that holds the service keeps holding it when the peer's entry turns unknown") {
  Ownership o("web", 1, my_released());
  o.set_intent(Intent::hold);
  o.on_liveness({PeerView::up, at(0)});
  o.on_peer_entry(known_read(ServiceEntry{}, 100, 102));
  int t = 103;
  auto w = settle(o, t);  // claiming; confirming read needed
  REQUIRE(w.size() == 1);
  CHECK(w[0].state == OwnershipState::claiming);
  o.on_peer_entry(known_read(ServiceEntry{}, t + 1, t + 2));
  t += 3;
  OwnershipStep s = o.step(at(t));
  REQUIRE(s.write);
  CHECK(s.write->state == OwnershipState::owned);
  o.on_write_done(o.write_token(), true, at(t + 1));
  s = o.step(at(t + 2));
  CHECK(s.start);
  REQUIRE(o.may_run());
  for (int i = 0; i < 5; ++i) {
    t += 100;
    o.on_peer_entry(unknown_read(t, t + 2, std::nullopt));
    s = o.step(at(t + 3));
    CHECK_FALSE(s.write);
    CHECK_FALSE(s.stop);
    CHECK(o.may_run());
    CHECK(o.mine().state == OwnershipState::owned);
  }
}
