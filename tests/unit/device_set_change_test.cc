// DeviceSetChange: the two steps of a member replacement on one node (retire, then adopt once the peer
// retired too), and what it refuses (quorumd/device_set_change.h).
#include <doctest/doctest.h>

#include "quorumd/device_set_change.h"

using namespace castor;
using Step = DeviceSetChange::Step;

namespace {

HeartbeatRecord peer_at(uint16_t g, bool retiring, uint8_t slot, NodeState state = NodeState::up) {
  HeartbeatRecord r;
  r.state = state;
  r.set_generation = g;
  r.set_retiring = retiring;
  r.set_slot = slot;
  return r;
}

}  // namespace

TEST_CASE("device set change: retire at once, adopt only once the peer posted the same generation and slot") {
  DeviceSetChange ch(SetPosture{});
  CHECK(ch.next(true) == Step::none);
  REQUIRE(ch.request(1, 2).ok());
  CHECK(ch.next(true) == Step::retire);
  ch.retired();
  CHECK(ch.posture() == SetPosture{1, true, 2});
  CHECK(ch.next(true) == Step::none);  // the peer still runs generation 0: it may count the old member
  ch.on_peer_record(peer_at(0, false, 0));
  CHECK(ch.next(true) == Step::none);
  ch.on_peer_record(peer_at(1, true, 1));  // the peer retired ANOTHER slot under generation 1: two admins at once
  CHECK(ch.next(true) == Step::none);
  ch.on_peer_record(peer_at(1, true, 2));
  CHECK(ch.next(false) == Step::none);     // no new device on this node
  CHECK(ch.next(true) == Step::adopt);
  ch.adopted();
  CHECK(ch.posture() == SetPosture{1, false, 2});
}

TEST_CASE("device set change: a node learns of the change from its peer and retires by itself") {
  DeviceSetChange ch(SetPosture{});
  ch.on_peer_record(peer_at(1, true, 0));
  CHECK(ch.next(false) == Step::retire);
  ch.retired();
  CHECK(ch.posture() == SetPosture{1, true, 0});
  CHECK(ch.next(false) == Step::none);   // waits for the admin's new device here
  REQUIRE(ch.request(1, 0).ok());        // the admin's run on this node
  CHECK(ch.next(true) == Step::adopt);   // the peer posted (1, 0) already
}

TEST_CASE("device set change: refusals; a clean leave vouches for nothing; a node posts G only once vouched") {
  DeviceSetChange ch(SetPosture{});
  CHECK(ch.request(2, 0).code() == Code::refused);  // not the next generation
  CHECK(ch.request(1, 3).code() == Code::invalid_argument);
  REQUIRE(ch.request(1, 0).ok());
  ch.retired();
  CHECK(ch.request(2, 1).code() == Code::busy);  // another replacement under way
  ch.on_peer_record(peer_at(0, false, 0, NodeState::down));  // the peer left cleanly at generation 0
  CHECK(ch.next(true) == Step::none);  // rep_down_vouches: it may restart from superblocks read before the raise
  // A node that starts past a replacement starts retiring its slot until the peer confirms.
  DeviceSetChange start(SetPosture{3, true, 1});
  CHECK(start.next(true) == Step::none);
  start.on_peer_record(peer_at(3, false, 1));
  CHECK(start.next(true) == Step::adopt);
  // Started from ONE raised member (the other still at 2): it posts 2, not 3, and never adopts, until the peer
  // posts 3 (which it does only once both members say 3) or the admin hands it the new member (the tool raised
  // both first): rep_post_unvouched.
  DeviceSetChange half(SetPosture{3, true, 1}, false);
  CHECK(half.posted() == SetPosture{2, false, 0});
  CHECK(half.next(true) == Step::none);
  half.on_peer_record(peer_at(3, true, 1));
  CHECK(half.posted() == SetPosture{3, true, 1});
  CHECK(half.next(true) == Step::adopt);
  DeviceSetChange by_admin(SetPosture{3, true, 1}, false);
  REQUIRE(by_admin.request(3, 1).ok());
  CHECK(by_admin.posted() == SetPosture{3, true, 1});
}
