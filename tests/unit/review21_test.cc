// Adversarial review 21 of 5655035 (the review-20 fixes: a capped confirmation's verdict, adopt_fence_subject
// following the confirmed life from the cap, grant_promise anchored at the arrival).
//   build/tests/unit_tests -tc='review21*'
// Finding 1 (low likelihood; consistency across a rejoin) is the only case expected to fail on 5655035; the
// "held" cases pass.
#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "quorumd/peer_monitor.h"
#include "tests/support/peer_monitor_rig.h"

using namespace castor;
using namespace castor::testing;
using namespace std::chrono_literals;

namespace {

using Rig21 = PeerMonitorRig;

constexpr uint64_t A = 0xA, B = 0xB;

}  // namespace

// Finding 1 (consistency across a rejoin; safety only after an admin's error plus a reordered late write inside
// the settle -- low likelihood). adopt_fence_subject now FOLLOWS the confirmed life A whenever the next core's
// monitor follows nothing yet. But the subject is the snapshot taken at the confirmation: if the core that took
// it saw a newer life B during the settle (A retired there: A's later records are stale, B is the life), the next
// core -- adopting before its first read -- knows nothing of that and follows A. A late write of A above the cap
// (issued before B's first write, landing after it) is then LIFE there, and a DOWN of it is "of the incarnation
// already followed": taken at once. In the old core the same record is stale (no UP, no DOWN), and before
// 5655035 the next core retired A (stale too). The header: a late write of an older life must never pass for
// life nor give a DOWN.
TEST_CASE("review21 finding 1: a next core that adopts an admin's subject before its first read takes a late DOWN of the confirmed life the old core had retired") {
  Rig21 old;
  old.read(A, 5);
  REQUIRE(old.read(A, 6) == PeerView::up);
  old.t += 2s;
  const TimePoint settle_end = old.admin_confirms(900ms);
  // Inside the settle the old core sees a newer life B: A is retired there.
  old.read(B, 1);
  old.read(B, 2);
  REQUIRE(old.pm.retired(A));
  // The subject the daemon hands over (with the fix: refreshed by fence_step while the old core runs; on
  // 5655035 fence_subject() is the snapshot of the confirmation whenever it is taken).
  const PeerMonitor::FenceSubject subject = old.pm.fence_subject();
  // What the old core makes of A's late DOWN (seq above the cap), read after the settle: stale.
  {
    Rig21 copy = old;
    copy.t = settle_end;
    copy.read(A, 7, NodeState::down);
    CHECK(copy.pm.view() != PeerView::down);
    CHECK(copy.pm.view() != PeerView::dead);
  }
  // This node rejoins during the settle; the next core adopts the subject at its first fence_step, before any
  // read of the peer's block.
  Rig21 fresh;
  fresh.t = old.t;
  fresh.pm.adopt_fence_subject(subject);
  fresh.pm.declare_fenced(settle_end, "an admin's confirmation on alpha");
  fresh.t = settle_end;
  const PeerView v = fresh.read(A, 7, NodeState::down);  // A's late DOWN landed over B's records
  MESSAGE("next core: view " << int(v) << ", follows " << fresh.pm.incarnation() << ", A retired: "
                             << fresh.pm.retired(A));
  CHECK_MESSAGE(v != PeerView::down, "a late DOWN of a life the old core had retired is taken at once");
  CHECK_MESSAGE(fresh.pm.retired(A), "the confirmed life, retired in the old core, is followed in the next one");
}

// Held: a fresh next core follows the confirmed life from the cap; its first read, a late write of that life at
// or below the cap, is stale (no UP, no DOWN, no replacement), and the verdict read on it declares DEAD.
TEST_CASE("review21 held: a fresh next core's first read of the confirmed life below the cap is stale and gets the verdict") {
  Rig21 old;
  old.read(A, 5);
  REQUIRE(old.read(A, 9) == PeerView::up);
  old.t += 2s;
  const TimePoint settle_end = old.admin_confirms();
  Rig21 fresh;
  fresh.t = old.t;
  fresh.pm.adopt_fence_subject(old.pm.fence_subject());
  fresh.read(A, 7, NodeState::down);  // a late DOWN below the cap, before the verdict read: stale
  CHECK(fresh.pm.view() == PeerView::unknown);
  CHECK(fresh.pm.record() == std::nullopt);
  fresh.read(A, 8);
  CHECK(fresh.pm.view() == PeerView::unknown);  // two stale records in a row: no UP
  fresh.pm.declare_fenced(settle_end, "an admin's confirmation on alpha");
  fresh.t = settle_end;
  CHECK(fresh.read(A, 8) == PeerView::dead);
  CHECK(fresh.pm.retired(A));
}

// Held: the next core read late writes of A below the cap (valid there: it had no cap yet) and saw it UP; the
// adoption raises followed_seq_ above record_->seq (record_ keeps the old value), yet nothing passes for life:
// a further record below the cap is stale, and the verdict read on a value at or below the cap declares DEAD.
TEST_CASE("review21 held: adopting over a value below the cap: no UP from below the cap, and the verdict stands") {
  Rig21 old;
  old.read(A, 5);
  REQUIRE(old.read(A, 12) == PeerView::up);
  old.t += 2s;
  const TimePoint settle_end = old.admin_confirms();
  Rig21 fresh;
  fresh.t = old.t;
  fresh.read(A, 8);
  REQUIRE(fresh.read(A, 9) == PeerView::up);  // late writes landing in order: life for a core without the cap
  fresh.pm.adopt_fence_subject(old.pm.fence_subject());
  MESSAGE("record seq " << fresh.pm.seq() << " under cap " << old.pm.fence_subject().seq_cap.value_or(0));
  fresh.read(A, 10);  // stale now
  CHECK(fresh.pm.record() == std::nullopt);
  fresh.pm.declare_fenced(settle_end, "an admin's confirmation on alpha");
  fresh.t = settle_end;
  CHECK(fresh.read(A, 11) == PeerView::dead);
}

// Held: the next core follows another life already (it read B first): the confirmed life is retired as before,
// and A's late write above the cap neither passes for life nor gives a DOWN.
TEST_CASE("review21 held: a next core that follows another life retires the confirmed one") {
  Rig21 old;
  old.read(A, 5);
  REQUIRE(old.read(A, 6) == PeerView::up);
  old.t += 2s;
  const TimePoint settle_end = old.admin_confirms();
  Rig21 fresh;
  fresh.t = old.t;
  fresh.read(B, 1);
  fresh.pm.adopt_fence_subject(old.pm.fence_subject());
  CHECK(fresh.pm.retired(A));
  fresh.pm.declare_fenced(settle_end, "an admin's confirmation on alpha");
  fresh.t = settle_end;
  fresh.read(A, 7, NodeState::down);
  CHECK(fresh.pm.view() != PeerView::down);
  CHECK(fresh.pm.view() != PeerView::dead);
}

// Held: garbage before the adoption leaves followed_ empty: the next core follows A from the cap; a DOWN of a
// never-seen life C after it is "newly followed" and waits for D (before 5655035 it was taken at once: stricter).
TEST_CASE("review21 held: after adopting over garbage a DOWN of another life waits for D") {
  constexpr uint64_t C = 0xC;
  Rig21 old;
  old.read(A, 5);
  REQUIRE(old.read(A, 6) == PeerView::up);
  old.t += 2s;
  old.admin_confirms();
  Rig21 fresh;
  fresh.t = old.t;
  fresh.garbage(77);
  fresh.pm.adopt_fence_subject(old.pm.fence_subject());
  fresh.read(C, 3, NodeState::down);
  CHECK(fresh.pm.view() != PeerView::down);
}
