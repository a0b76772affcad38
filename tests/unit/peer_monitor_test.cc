// PeerMonitor, read by read: retired incarnations and stale records never count as life or DOWN (issue 12
// item 5), and a verdict is confirmed only by a read of the very value it is about, unchanged (item 6).
#include <doctest/doctest.h>

#include "quorumd/peer_monitor.h"

using namespace castor;

namespace {

const Duration D = std::chrono::milliseconds(1200);

struct Rig {
  PeerMonitor pm{D};
  TimePoint t{std::chrono::seconds(1000)};
  std::optional<PeerTransition> last;

  // A read issued now that returns a valid record; completes 1 ms later.
  PeerView read(uint64_t inc, uint64_t seq, NodeState st = NodeState::up, uint16_t flags = 0) {
    HeartbeatRecord r;
    r.node_id = 2;
    r.incarnation = inc;
    r.seq = seq;
    r.state = st;
    r.flags = flags;
    // The peer read this node's latest write (a live life names it; review_startup_fence_test's late writes
    // of an older life do not).
    r.peer_incarnation = 0x99;
    r.peer_seq = ++own_seq;
    PeerObservation obs{t, t + Millis(1), r, 0};
    obs.own_incarnation = 0x99;
    obs.own_seq = own_seq;
    last = pm.observe(obs);
    t += Millis(100);
    return pm.view();
  }
  uint64_t own_seq = 0;
  // A read that returns a block that does not decode (torn, corrupt), identified by its hash.
  PeerView garbage(uint32_t hash) {
    last = pm.observe({t, t + Millis(1), std::nullopt, hash});
    t += Millis(100);
    return pm.view();
  }
  void wait(Duration d) { t += d; }
};

}  // namespace

TEST_CASE("peer monitor: a late DOWN of a replaced incarnation is never a DOWN (A, then B, then A's DOWN)") {
  Rig r;
  r.read(0xA, 5);
  r.read(0xA, 6);
  REQUIRE(r.pm.view() == PeerView::up);
  r.read(0xB, 1);  // the peer restarted: A is replaced
  REQUIRE(r.pm.view() == PeerView::up);
  CHECK(r.pm.retired(0xA));
  // A's DOWN, in flight since before the restart, lands over B's record.
  CHECK(r.read(0xA, 7, NodeState::down) == PeerView::up);
  CHECK_FALSE(r.last.has_value());
  // Read again and again: still not DOWN, and A's records never retire B.
  CHECK(r.read(0xA, 7, NodeState::down) == PeerView::up);
  CHECK_FALSE(r.pm.retired(0xB));
  CHECK(r.pm.incarnation() == 0xB);
  // B writes again: B is alive. And a second late DOWN of A, after that: still nothing.
  CHECK(r.read(0xB, 2) == PeerView::up);
  CHECK(r.read(0xA, 8, NodeState::down) == PeerView::up);
  CHECK(r.read(0xB, 3) == PeerView::up);
  // B's own DOWN is a clean leave.
  CHECK(r.read(0xB, 4, NodeState::down) == PeerView::down);
}

TEST_CASE("peer monitor: a retired incarnation stays retired across many restarts, and its records are no sign of life") {
  Rig r;
  r.read(0xA, 1);
  r.read(0xA, 2);
  for (uint64_t inc = 0xB0; inc < 0xB8; ++inc) r.read(inc, 1);  // eight restarts
  CHECK(r.pm.retired(0xA));
  // The peer stops writing: DEAD after D.
  r.wait(D);
  REQUIRE(r.read(0xB7, 1) == PeerView::dead);
  // A late UP record of A (or of any replaced life) lands: a change (no confirmation, D starts again), but no
  // sign of life.
  const TimePoint confirmed = r.pm.confirmed_read_issued();
  CHECK(r.read(0xA, 3) == PeerView::dead);
  CHECK(r.read(0xB3, 9) == PeerView::dead);
  CHECK(r.pm.confirmed_read_issued() == confirmed);
  // Nor is a late DOWN of A, even now.
  CHECK(r.read(0xA, 4, NodeState::down) == PeerView::dead);
  CHECK(r.pm.confirmed_read_issued() == confirmed);
}

TEST_CASE("peer monitor: a late write of the same incarnation with a lower seq is stale (no DOWN, no life)") {
  Rig r;
  r.read(0xA, 5);
  r.read(0xA, 6, NodeState::leaving);
  REQUIRE(r.read(0xA, 8, NodeState::down) == PeerView::down);
  // DOWN 7 timed out and lands after DOWN 8: stale. The view stays DOWN but nothing is confirmed by it.
  const TimePoint confirmed = r.pm.confirmed_read_issued();
  CHECK(r.read(0xA, 7, NodeState::down) == PeerView::down);
  CHECK(r.pm.confirmed_read_issued() == confirmed);
  // A stale UP record is no sign of life either.
  CHECK(r.read(0xA, 6) == PeerView::down);
  // ... but it changed the block: once it has stood still for D, the peer is DEAD (confirmed again).
  r.wait(D);
  CHECK(r.read(0xA, 6) == PeerView::dead);
  CHECK(r.pm.confirmed_read_issued() > confirmed);
}

TEST_CASE("peer monitor: a DEAD verdict is confirmed only by fresh reads of the same, unchanged value") {
  Rig r;
  r.read(0xA, 1);
  r.read(0xA, 2);
  r.wait(D);
  const TimePoint verdict_read = r.t;
  REQUIRE(r.read(0xA, 2) == PeerView::dead);
  CHECK(r.pm.confirmed_read_issued() == verdict_read);
  const TimePoint again = r.t;
  r.read(0xA, 2);
  CHECK(r.pm.confirmed_read_issued() == again);
  // The peer restarts; its first record is torn, then another undecodable value: changes, not confirmations.
  const TimePoint torn = r.t;
  CHECK(r.garbage(0x1111) == PeerView::dead);
  CHECK(r.garbage(0x2222) == PeerView::dead);
  CHECK(r.garbage(0x2222) == PeerView::dead);  // unchanged, but not yet for D
  CHECK(r.pm.confirmed_read_issued() == again);
  CHECK(r.pm.last_read_issued() > torn);       // reads happened; they confirm nothing
  CHECK(r.pm.dead_deadline().has_value());
  // The same undecodable value, unchanged for D since it was first read: that re-confirms (whoever wrote it
  // has not written since, so its lease is over).
  r.wait(D);
  const TimePoint reconfirm = r.t;
  CHECK(r.garbage(0x2222) == PeerView::dead);
  CHECK(r.pm.confirmed_read_issued() == reconfirm);
  // A valid record of a new incarnation: UP.
  CHECK(r.read(0xC, 1) == PeerView::up);
  CHECK(r.pm.retired(0xA));
}

TEST_CASE("peer monitor: a DOWN verdict is confirmed by the DOWN record only; a changed value freezes it") {
  Rig r;
  r.read(0xA, 1);
  const TimePoint down_read = r.t;
  REQUIRE(r.read(0xA, 2, NodeState::down) == PeerView::down);
  CHECK(r.pm.confirmed_read_issued() == down_read);
  const TimePoint again = r.t;
  r.read(0xA, 2, NodeState::down);
  CHECK(r.pm.confirmed_read_issued() == again);
  // The block turns to garbage (a new life's torn first write): the DOWN is no longer confirmed...
  r.garbage(0x3333);
  r.garbage(0x3333);
  CHECK(r.pm.view() == PeerView::down);
  CHECK(r.pm.confirmed_read_issued() == again);
  // ... until that value has stood still for D: then it is DEAD, confirmed.
  r.wait(D);
  CHECK(r.garbage(0x3333) == PeerView::dead);
  CHECK(r.pm.confirmed_read_issued() > again);
}

TEST_CASE("peer monitor: the retired set is bounded, oldest forgotten first") {
  Rig r;
  r.read(1, 1);
  for (uint64_t inc = 2; inc <= PeerMonitor::kMaxRetired + 2; ++inc) r.read(inc, 1);
  CHECK_FALSE(r.pm.retired(1));
  CHECK(r.pm.retired(2));
  CHECK(r.pm.retired(PeerMonitor::kMaxRetired + 1));
  CHECK_FALSE(r.pm.retired(PeerMonitor::kMaxRetired + 2));  // the one we follow
}

TEST_CASE("peer monitor: a fresh monitor cannot order incarnations: a DOWN right after a switch waits for D") {
  // This monitor started after the peer's life A was replaced by B: it never saw A. A's DOWN, in flight since
  // before B started, lands over B's record. Incarnations are random numbers: nothing says A is the older.
  Rig r;
  r.read(0xB, 7);
  r.read(0xB, 8);
  REQUIRE(r.pm.view() == PeerView::up);
  CHECK(r.read(0xA, 3, NodeState::down) == PeerView::up);  // a change, not a clean leave
  const TimePoint before = r.pm.confirmed_read_issued();
  CHECK(r.read(0xA, 3, NodeState::down) == PeerView::up);
  CHECK(r.pm.confirmed_read_issued() == before);
  // If A really is the newest life and has left, its DOWN stands still: DEAD after D.
  r.wait(D);
  CHECK(r.read(0xA, 3, NodeState::down) == PeerView::dead);
  // The peer's own DOWN after its own records is still a clean leave, taken at once.
  Rig s;
  s.read(0xC, 1);
  s.read(0xC, 2);
  CHECK(s.read(0xC, 3, NodeState::down) == PeerView::down);
  // And so is a DOWN found at the very first read (the peer left before this monitor started).
  Rig f;
  CHECK(f.read(0xD, 9, NodeState::down) == PeerView::down);
}

TEST_CASE("peer monitor: a life without a watchdog is never declared dead on the dead time, only by a fence") {
  Rig r;
  const uint16_t nowd = HeartbeatRecord::kNoWatchdog;
  r.read(0xA, 1, NodeState::up, nowd);
  r.read(0xA, 2, NodeState::up, nowd);
  REQUIRE(r.pm.view() == PeerView::up);
  CHECK(r.pm.no_dead_time());
  // Silent for ten dead times (hung, nothing resets it): never DEAD, and no read is scheduled for a verdict.
  for (int i = 0; i < 10; ++i) {
    r.wait(D);
    CHECK(r.read(0xA, 2, NodeState::up, nowd) == PeerView::up);
  }
  CHECK_FALSE(r.pm.dead_deadline().has_value());
  // Its block turns to garbage (the life followed is still the one without a watchdog): still never DEAD.
  r.garbage(0x77);
  r.wait(2 * D);
  CHECK(r.garbage(0x77) == PeerView::up);
  // A confirmed power fence: DEAD at the first read after the settle.
  r.pm.fence_started();
  r.pm.declare_fenced(r.t, "fence_ipmilan by alpha");
  CHECK(r.garbage(0x77) == PeerView::dead);
  // Its next life has a watchdog: the dead time counts again.
  r.read(0xB, 1);
  r.read(0xB, 2);
  REQUIRE(r.pm.view() == PeerView::up);
  CHECK_FALSE(r.pm.no_dead_time());
  r.wait(D);
  CHECK(r.read(0xB, 2) == PeerView::dead);
}

TEST_CASE("peer monitor: a late write of an older life never seen does not bring the dead time back") {
  // This monitor started after the peer's life 0xC (with a watchdog) was replaced by 0xA (without): 0xC is
  // not retired here. A write of 0xC stuck in the array lands while 0xA is frozen.
  Rig r;
  r.read(0xA, 1, NodeState::up, HeartbeatRecord::kNoWatchdog);
  r.read(0xA, 2, NodeState::up, HeartbeatRecord::kNoWatchdog);
  REQUIRE(r.pm.view() == PeerView::up);
  r.read(0xC, 40);  // looks like a new life
  for (int i = 0; i < 5; ++i) {
    r.wait(D);
    CHECK(r.read(0xC, 40) != PeerView::dead);
  }
  CHECK(r.pm.no_dead_time());
}

TEST_CASE("peer monitor: a life without a watchdog that leaves cleanly is DOWN at once") {
  Rig r;
  r.read(0xA, 1, NodeState::up, HeartbeatRecord::kNoWatchdog);
  r.read(0xA, 2, NodeState::up, HeartbeatRecord::kNoWatchdog);
  CHECK(r.read(0xA, 3, NodeState::down, HeartbeatRecord::kNoWatchdog) == PeerView::down);
  // Still no dead time: its next life may hang before this node reads it (the review of 39ddbb2).
  CHECK(r.pm.no_dead_time());
  r.read(0xB, 1, NodeState::up, HeartbeatRecord::kNoWatchdog);
  CHECK(r.pm.no_dead_time());
}

TEST_CASE("peer monitor: the no-watchdog flag is undone only by a life seen running without it") {
  Rig r;
  r.read(0xA, 1, NodeState::up, HeartbeatRecord::kNoWatchdog);
  r.read(0xA, 2, NodeState::up, HeartbeatRecord::kNoWatchdog);
  r.read(0xA, 3, NodeState::down, HeartbeatRecord::kNoWatchdog);
  r.read(0xB, 1);  // the next life, now with a watchdog: one record may be a late write
  CHECK(r.pm.no_dead_time());
  r.read(0xB, 2);  // seen running without the flag
  CHECK_FALSE(r.pm.no_dead_time());
  r.wait(D);
  CHECK(r.read(0xB, 2) == PeerView::dead);  // the dead time is back
}
