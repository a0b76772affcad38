// Adversarial review 20: the review-19 fixes of castor fence --confirm-off (ae793e0: seq_cap, by_admin, the
// refusals) and the review-18 LAN arrival stamp (bbfed7f). Findings 1 and 2 fail on ae793e0 and pass with
// /tmp/review20_fix1.diff and /tmp/review20_fix2.diff (both PeerMonitor; together /tmp/review20_fix1_2.diff):
// 1. under an admin's cap, a record of a life retired before the confirmation is no verdict (only the capped
//    life, or the very value seen); 2. adopt_fence_subject of an admin's subject follows the confirmed life from
//    the cap on instead of retiring it (above the cap it is life in the next core too, as in the one that took
//    the confirmation). Finding 3 (bbfed7f's neighbour: a promise granted at the turn's clock read) fails on
//    ae793e0 and passes with /tmp/review20_fix3.diff (grant_promise given the arrival: the lease checked and the
//    floor counted from it). All three: /tmp/review20_all_fixes.diff. The "held" cases pass on ae793e0.
//   build/tests/unit_tests -tc='review20*'
#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include <functional>

#include "quorumd/peer_monitor.h"
#include "quorumd/power_fencer.h"
#include "tests/support/clock_read_hook_device.h"
#include "tests/support/inprocess_quorumd.h"
#include "tests/support/peer_monitor_rig.h"

using namespace castor;
using namespace castor::testing;
using namespace std::chrono_literals;

namespace {

using Rig = PeerMonitorRig;

constexpr uint64_t A1 = 0xA1, A2 = 0xA2;

}  // namespace

// Finding 1 (safety, hardening of the admin's word; low likelihood). seq_cap bounds only the life FOLLOWED at the
// confirmation; a record of a life retired before it is still "dead, any seq" (retired_before_fence) -- which
// holds after an agent's off, not after an admin's word. The live life can be in that list: a monitor that never
// saw an older life A1 of beta (this node rejoined: a fresh monitor) follows beta's live life A2, then A1's late
// write lands (a write that timed out on beta's side before A2 began -- a shared storage glitch makes both nodes
// rejoin together): for this monitor A1 is a live incarnation never seen, so it follows A1 and retires A2 (the
// header's own "a late write of a life older than this monitor, landing over the live one's records"). A2 goes on
// writing (stale here, but each write changes the value: no verdict, no suspicion), then freezes (a VM pause):
// its last record stands still for S. The admin confirms beta off, wrongly: accepted (nothing here says it
// lives). A2 resumes holding its lease and writes seq 8 -- above every A2 record read before the confirmation,
// so written after it, the very case review 19's finding 2 closed for the followed life -- and the verdict read
// returns it: DEAD while A2 runs.
TEST_CASE("review20 finding 1: after an admin's confirmation a record of a life retired before it, written after it, is still taken as dead") {
  Rig m;
  m.read(A2, 5);  // the fresh monitor's first read: beta's live life A2
  REQUIRE(m.read(A2, 6) == PeerView::up);
  m.read(A1, 40);  // A1's late write lands: never seen here, "a newer life": A2 retired
  REQUIRE(m.pm.retired(A2));
  m.read(A2, 7);   // A2 writes on (stale here)
  // A2 freezes; its record stands still for S; the admin confirms beta off.
  m.t += 2s;
  const TimePoint settle_end = m.admin_confirms();
  MESSAGE("seq_cap " << m.pm.fence_subject().seq_cap.value_or(0) << " of life "
                     << (m.pm.fence_subject().incarnation == A1 ? "A1" : "?") << "; A2 retired before it");
  m.t = settle_end;
  // A2 resumes: seq 8 was written after the confirmation (the highest of A2 read before it was 7).
  const PeerView v = m.read(A2, 8);
  CHECK_MESSAGE(v != PeerView::dead, "a record of the live life A2 written after the admin's confirmation "
                                     "declared beta dead (retired before the confirmation: any seq counts)");
}

// Held (liveness, a known cost of the cap): a write of the confirmed life issued before the off but landing after
// the confirmation with a seq above the cap (beta's path hung past S with the write queued: the very late write
// the settle waits for) gives no verdict, and the value change even brings the view back to UP. The peer is not
// stuck: the fencer goes idle (verdict_dropped), the value stands still again, and the admin may confirm again
// S later -- this time on that value, which gives the verdict. Without a watchdog nothing else would ever declare
// it (no D). castor fence --confirm-off then prints "NOT declared dead: ... (a life of it runs)": see the report
// (the message states more than quorumd knows).
TEST_CASE("review20 held: a late write above the cap gives no verdict, and a second confirmation declares the peer dead") {
  Rig m;
  m.no_watchdog = true;
  m.read(A1, 5);
  REQUIRE(m.read(A1, 6) == PeerView::up);
  m.t += 2s;  // silent for S: beta hung, then powered off by hand; its write seq 7 is still queued in the SAN
  TimePoint settle_end = m.admin_confirms();
  m.read(A1, 7);  // lands during the settle
  m.t = settle_end;
  const PeerView first = m.read(A1, 7);
  MESSAGE("after the first confirmation: view " << int(first) << " (up = " << int(PeerView::up) << ")");
  CHECK(first != PeerView::dead);  // the cap's price: no verdict
  m.t += 2s;                       // stands still again for S
  settle_end = m.admin_confirms();
  m.t = settle_end;
  CHECK(m.read(A1, 7) == PeerView::dead);
}

// Held: by_admin does not leak into a later automatic round (start() clears it), nor is an admin's confirmation
// taken in the middle of an automatic off (powering_off/checking) or after it (settling/confirmed/powering_on).
TEST_CASE("review20 held: a dropped admin verdict leaves the fencer idle and a second confirmation is taken") {
  FenceDeviceConfig d;
  d.node = "beta";
  d.agent = "fence_ipmilan";
  d.action = FenceAction::reboot;
  d.settle = 500ms;
  PowerFencer f(d, 10s);
  TimePoint t{std::chrono::seconds(100)};
  std::string why;
  REQUIRE(f.confirm_off_by_admin("admin confirmed off (test)", t, 0, why));
  CHECK(f.by_admin());
  REQUIRE(f.take_confirmed());
  f.verdict_dropped();  // the verdict read saw a higher seq: no verdict
  CHECK(f.phase() == PowerFencer::Phase::idle);
  // A second confirmation is possible (liveness).
  CHECK(f.confirm_off_by_admin("admin confirmed off again (test)", t + 3s, 0, why));
}

// Finding 2 (liveness/consistency, after an admin's error). seq_cap says a record of the confirmed life above the
// cap is LIFE -- in the core that took the confirmation. adopt_fence_subject (this node rejoined during the
// settle) retires the confirmed life in the next core's monitor unconditionally, as after an agent's off: there
// the same records are stale forever. beta's life A, confirmed off wrongly, runs on: alpha's new core never sees
// it UP (castor status says UNKNOWN for a node that writes on), never takes its clean DOWN, and -- beta without a
// watchdog -- after D suspects a node it never saw up and power-fences it (its device says on).
TEST_CASE("review20 finding 2: the confirmed life, writing above the cap, is life in the old core but stale in the next one") {
  constexpr uint64_t A = 0xA;
  Rig old;
  old.read(A, 5);
  REQUIRE(old.read(A, 6) == PeerView::up);
  old.t += 2s;  // frozen for S; the admin confirms it off (wrongly)
  const TimePoint settle_end = old.admin_confirms();
  const PeerMonitor::FenceSubject subject = old.pm.fence_subject();

  Rig fresh;  // this node rejoins during the settle: the new core's monitor takes the subject over
  fresh.t = old.t;
  fresh.pm.adopt_fence_subject(subject);
  fresh.pm.declare_fenced(settle_end, "an admin's confirmation on alpha");
  fresh.read(A, 6);
  fresh.t = settle_end;
  CHECK(fresh.read(A, 7) != PeerView::dead);  // above the cap: no verdict (holds)
  fresh.read(A, 8);
  const PeerView running = fresh.read(A, 9);
  old.t = settle_end;
  old.read(A, 7);
  old.read(A, 8);
  MESSAGE("old core: view " << int(old.pm.view()) << "; new core: view " << int(running) << ", A retired there: "
                            << fresh.pm.retired(A));
  CHECK_MESSAGE(running == PeerView::up, "the new core never sees the confirmed life running on (stale: retired)");
  HeartbeatRecord down;
  down.node_id = 2;
  down.incarnation = A;
  down.seq = 10;
  down.state = NodeState::down;
  fresh.pm.observe({fresh.t, fresh.t + Millis(1), down, 0});
  CHECK_MESSAGE(fresh.pm.view() == PeerView::down, "its clean leave is not taken either");
}

namespace {
std::function<void()> g_review20_after_clock_read;
}

// Finding 3 (safety hardening; the invariant of stall_promise.h, harmless while the pause stays under D - P + ...;
// pre-existing, next to bbfed7f). bbfed7f stamps a datagram's arrival with a clock read after recv for the write
// stamp and the link's last-heard, but a promise REQUEST in the same datagram is still granted at the turn's
// reading: grant_promise(asker, now) checks the grantor's lease at `now` and raises its floor to now + P. A
// quorumd paused after its turn's clock read (the very pause review 18 used) drains a request the holder SENT
// during the pause: the holder's lease becomes (send time) + P, later than the grantor's floor now + P --
// against "the holder's lease ends no later than the grantor's floor" (stall_promise.h). (And a lease that
// lapsed during the pause still grants.) The grant could take `heard` (the clock read after recv) for both.
TEST_CASE("review20 finding 3: a promise granted after a pause is anchored at the turn's clock read: the holder's lease ends after the grantor's floor") {
  ClusterOptions o;
  o.with_lan = true;
  o.wrap_device = [](std::unique_ptr<FaultyBlockDevice> dev) {
    return std::unique_ptr<BlockDevice>(std::make_unique<ClockReadHookDevice>(std::move(dev), g_review20_after_clock_read));
  };
  Cluster c{o};
  start_both(c);
  REQUIRE(c.run_until([&] { return has_lease(c, c.alpha()) && sees(c.alpha(), PeerView::up) && sees(c.beta(), PeerView::up); }, 5s));
  c.run_for(300ms);
  const uint64_t granted_before = c.alpha().daemon->core().promises_granted();
  stall_both(c);
  REQUIRE(c.run_until([&] { return c.alpha().daemon->core().promises_granted() > granted_before + 1 &&
                                   c.beta().daemon->core().promises_received() > 0; }, 1s));
  const Duration pause = c.timing().io_timeout / 2;
  TimePoint clock_read{};
  const uint64_t granted = c.alpha().daemon->core().promises_granted();
  g_review20_after_clock_read = [&] {  // alpha's turn: paused right after its clock read; beta runs on
    clock_read = c.now();
    while (c.now() - clock_read < pause) {
      c.clock().advance(kStep);
      c.beta().daemon->turn();
    }
  };
  c.step();
  REQUIRE(clock_read != TimePoint{});
  REQUIRE(c.alpha().daemon->core().promises_granted() > granted);  // a request sent during the pause, granted
  const TimePoint floor = c.alpha().daemon->core().promise_floor();
  c.step();  // beta takes the grant
  const auto beta_lease = c.beta().daemon->core().lease_expiry();
  REQUIRE(beta_lease);
  MESSAGE("alpha's floor - beta's lease end: " << std::chrono::duration_cast<std::chrono::milliseconds>(floor - *beta_lease).count()
                                                << " ms (pause " << std::chrono::duration_cast<std::chrono::milliseconds>(pause).count() << " ms)");
  CHECK_MESSAGE(floor >= *beta_lease, "the holder's lease ends after the grantor's floor");
  g_review20_after_clock_read = nullptr;
  unstall_both(c);
}
