#include <doctest/doctest.h>

#include "policy/placement_policy.h"

using namespace castor;

namespace {
struct Fixture {
  ServiceDefinition def;
  PlacementFacts f;
  Fixture(bool failback = false) {
    def.name = "web";
    def.nodes = {"alpha", "beta"};
    def.failback = failback;
    f.def = &def;
    f.me = "alpha";
    f.peer = "beta";
    f.me_id = 1;
    f.peer_id = 2;
    f.peer_view = PeerView::up;
  }
};
}  // namespace

TEST_CASE("placement: autostart on the preferred node, and the other node leaves it alone") {
  Fixture a;
  CHECK(decide_placement(a.f).intent == Intent::hold);
  Fixture b;
  b.f.me = "beta";
  b.f.peer = "alpha";
  b.f.me_id = 2;
  b.f.peer_id = 1;
  auto d = decide_placement(b.f);
  CHECK(d.intent == Intent::release);
  CHECK(d.target == 1);
}

TEST_CASE("placement: nothing starts while the peer is UNKNOWN (it might be running the service)") {
  Fixture a;
  a.f.peer_view = PeerView::unknown;
  CHECK(decide_placement(a.f).intent == Intent::release);
  a.f.running_here = true;
  CHECK(decide_placement(a.f).intent == Intent::hold);
}

TEST_CASE("placement: take over from a DEAD or DOWN peer, not from a live one") {
  Fixture b;
  b.f.me = "beta";
  b.f.peer = "alpha";
  b.f.running_on_peer = true;
  CHECK(decide_placement(b.f).intent == Intent::release);
  b.f.peer_view = PeerView::dead;
  CHECK(decide_placement(b.f).intent == Intent::hold);
  b.f.peer_view = PeerView::down;
  CHECK(decide_placement(b.f).intent == Intent::hold);
}

TEST_CASE("placement: no failback by default (no hidden constraint), failback when asked") {
  Fixture b(false);
  b.f.me = "beta";
  b.f.peer = "alpha";
  b.f.peer_id = 1;
  b.f.running_here = true;  // it failed over to beta; alpha is back
  CHECK(decide_placement(b.f).intent == Intent::hold);
  Fixture c(true);
  c.f.me = "beta";
  c.f.peer = "alpha";
  c.f.peer_id = 1;
  c.f.running_here = true;
  auto d = decide_placement(c.f);
  CHECK(d.intent == Intent::release);
  CHECK(d.target == 1);
}

TEST_CASE("placement: relocation is one-shot and needs an eligible target") {
  Fixture a;
  a.f.running_here = true;
  a.f.relocate_to = "beta";
  auto d = decide_placement(a.f);
  CHECK(d.intent == Intent::release);
  CHECK(d.target == 2);
  a.f.peer_standby = true;
  CHECK(decide_placement(a.f).intent == Intent::hold);  // beta in standby: stays
  // After the move (request consumed), beta keeps it even though alpha is preferred (failback = no).
  Fixture b;
  b.f.me = "beta";
  b.f.peer = "alpha";
  b.f.running_here = true;
  CHECK(decide_placement(b.f).intent == Intent::hold);
}

TEST_CASE("placement: failures, standby, disable, freeze, mismatched definitions") {
  Fixture a;
  a.f.running_here = true;
  a.f.failed_here = true;
  CHECK(decide_placement(a.f).target == 2);
  a.f.failed_here = false;
  a.f.me_standby = true;
  CHECK(decide_placement(a.f).intent == Intent::release);
  a.f.me_standby = false;
  a.f.enabled = false;
  CHECK(decide_placement(a.f).intent == Intent::disable);
  a.f.enabled = true;
  a.f.frozen = true;
  a.f.failed_here = true;
  CHECK(decide_placement(a.f).intent == Intent::hold);  // frozen: nothing moves
  a.f.frozen = false;
  a.f.definitions_match = false;
  CHECK(decide_placement(a.f).intent == Intent::hold);  // failed, but moves are blocked
  a.f.relocate_to = "beta";
  CHECK(decide_placement(a.f).intent == Intent::hold);
}

TEST_CASE("placement: a relocation requested on the node that does not run it waits for the hand-over") {
  Fixture a;
  a.f.running_on_peer = true;
  a.f.relocate_to = "alpha";
  auto d = decide_placement(a.f);
  CHECK(d.intent == Intent::release);
  CHECK(d.target == 1);  // my entry keeps saying "released to me": the request stands
  a.f.running_on_peer = false;
  CHECK(decide_placement(a.f).intent == Intent::hold);
}
