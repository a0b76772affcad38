// The life a power fence is about (PeerMonitor's fence subject), as the adversarial review of d079a29 tried it.
// 1. Handed to a NEW core's PeerMonitor (this node rejoined during the fence), whose retired list is its
// own. A new monitor that never saw the fenced life A follows a life C of the peer powered on again after the
// off, then a late write of A (issued before the off, landing within the settle) -- valid for this monitor,
// which never saw A: C is retired. The read at the settle end returns C's own next record: "a retired
// incarnation's record" -> DEAD for the live life C. The monitor of the core that started the fence (it
// followed A) takes the same reads as stale and gives no verdict. Now the verdict read is judged against the
// lives retired when the fence STARTED (a snapshot), and the new monitor retires the subject's lives.
// 2. A rejoin after the verdict stood (below). 3. A life retired after the fence started (below).
#include <doctest/doctest.h>

#include "quorumd/peer_monitor.h"
#include "tests/support/peer_monitor_rig.h"

using namespace castor;
using namespace castor::testing;

namespace {

const Duration D = std::chrono::milliseconds(1200);

using RigWithState = PeerMonitorRig;  // records without the no-watchdog flag

// Records of a peer without a watchdog (the dead time alone never declares it dead).
struct Rig : PeerMonitorRig {
  Rig() : PeerMonitorRig(D) { no_watchdog = true; }
};

constexpr uint64_t A = 0xA, C = 0xC;

}  // namespace

TEST_CASE("fence subject: the same reads, in the core that started the fence: no verdict for the new life") {
  Rig old;
  old.read(A, 1);
  old.read(A, 2);
  old.pm.fence_started();          // subject: A
  const TimePoint settle_end = old.t + Millis(500);
  old.pm.declare_fenced(settle_end, "fence_x by alpha");
  old.read(C, 1);                  // beta powered on again: life C
  old.read(A, 3);                  // a late write of A (issued before the off) lands over it
  old.t = settle_end;
  CHECK(old.read(C, 2) != PeerView::dead);  // C's next record
}

TEST_CASE("fence subject: handed to a new core's monitor, a late write of the fenced life does not make a live one dead") {
  Rig old;
  old.read(A, 1);
  old.read(A, 2);
  old.pm.fence_started();
  const PeerMonitor::FenceSubject subject = old.pm.fence_subject();  // the daemon's fence_subject_
  const TimePoint settle_end = old.t + Millis(500);

  Rig fresh;  // this node rejoined: the new core's monitor
  fresh.t = old.t;
  fresh.pm.adopt_fence_subject(subject);       // hand_over()
  fresh.pm.declare_fenced(settle_end, "fence_x by alpha");
  fresh.read(C, 1);                 // its first read: beta's new life C (powered on again after the off)
  fresh.read(A, 3);                 // the late write of A lands: for this monitor a live incarnation, C retired
  MESSAGE("retired(C) in the new monitor: " << fresh.pm.retired(C));
  fresh.t = settle_end;
  const PeerView v = fresh.read(C, 2);  // C, alive, writes again
  MESSAGE("view after the read at the settle end: " << int(v));
  CHECK(v != PeerView::dead);
}

// After the verdict stood, the next core gets only the very value it stood on: the peer may have been powered
// on since (fence_action = reboot, an admin), and a late write of the fenced life (issued before the off) landing
// now is no verdict over the life that runs.
TEST_CASE("fence subject: handed over after the verdict stood, only the value it stood on is a verdict") {
  Rig old;
  old.read(A, 1);
  old.read(A, 2);
  old.pm.fence_started();
  const TimePoint settle_end = old.t + Millis(100);
  old.pm.declare_fenced(settle_end, "fence_x by alpha");
  old.t = settle_end;
  REQUIRE(old.read(A, 2) == PeerView::dead);  // the verdict stands on A's record seq 2
  REQUIRE(old.pm.fenced_value().has_value());
  const PeerMonitor::FenceSubject stood{old.pm.fenced_value(), std::nullopt, {}};

  Rig late;  // the new core of a rejoin; meanwhile the peer came back as C, and a late write of A lands
  late.t = old.t + Millis(500);
  late.pm.adopt_fence_subject(stood);
  late.pm.declare_fenced(settle_end, "fence_x by alpha");
  CHECK(late.read(A, 3) != PeerView::dead);  // A's late write: not the value the verdict stood on
  CHECK(late.read(C, 1) != PeerView::dead);

  Rig still;  // the same hand-over, the peer still off: its block shows the value the verdict stood on
  still.t = old.t + Millis(500);
  still.pm.adopt_fence_subject(stood);
  still.pm.declare_fenced(settle_end, "fence_x by alpha");
  CHECK(still.read(A, 2) == PeerView::dead);
}

// 2. The same loss as d079a29 fixed (a fenced peer without a watchdog never declared dead by this node's next
// core), one step later: this node rejoins after the verdict STOOD (fencer `confirmed off`, with
// fence_action = off). The new core never saw beta up (no D: beta's records say no watchdog), the fencer stays
// `confirmed off` (tick does nothing there; castor fence is refused "already powered off"), nothing hands the
// verdict over: beta's services were never taken over again. Now the new core takes it over there too.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "tests/support/clock_read_hook_device.h"
#include "tests/support/file_fence_agent.h"
#include "tests/support/scratch.h"
#include "tests/support/inprocess_quorumd.h"

using namespace castor::testing;
using namespace std::chrono_literals;

namespace {

std::function<void()> g_hook38;




}  // namespace

TEST_CASE("fence subject: a rejoin after the fence verdict stood keeps it (a peer without a watchdog)") {
  ScratchDir scratch_alpha, scratch_beta;  // alpha's power, beta's power (each fenced by the other's agent)
  const std::string dir_alpha = scratch_alpha.path(), dir_beta = scratch_beta.path();

  ClusterOptions o;
  o.wrap_device = [](std::unique_ptr<FaultyBlockDevice> dev) {
    return std::unique_ptr<BlockDevice>(std::make_unique<ClockReadHookDevice>(std::move(dev), g_hook38));
  };
  Cluster c{o};
  start_both(c);
  REQUIRE(fence_each_other(c, dir_alpha, dir_beta, 30s, /*beta_without_watchdog=*/true));

  Client admin(c.alpha().socket);
  REQUIRE(c.ask(admin, "fence-peer beta").value("ok", false));
  for (int i = 0; i < 2000 && !file_exists(dir_beta + "/off"); ++i) {
    c.step();
    std::this_thread::sleep_for(1ms);
  }
  REQUIRE(file_exists(dir_beta + "/off"));
  c.beta().running = false;  // beta's power is off
  bool stood = false;
  for (int i = 0; i < 3000 && !stood; ++i) {
    c.step();
    if (i % 10 == 0) std::this_thread::sleep_for(1ms);
    stood = sees(c.alpha(), PeerView::dead) && fence_phase(c, c.alpha()) == "confirmed off";
  }
  REQUIRE(stood);
  const uint64_t life1 = c.alpha().daemon->core().config().incarnation;

  // alpha's quorumd freezes 1 s after the verdict stood: its lease lapses, it is fenced and rejoins.
  g_hook38 = [&] { c.clock().advance(1s); };
  c.step();
  REQUIRE(c.run_until([&] {
    return c.alpha().daemon->core().config().incarnation != life1 && has_lease(c, c.alpha());
  }, 5s));
  MESSAGE("alpha rejoined; its fencer: " << fence_phase(c, c.alpha()));
  bool dead = false;
  for (int i = 0; i < 6000 && !dead; ++i) {
    c.step();
    if (i % 10 == 0) std::this_thread::sleep_for(1ms);
    dead = sees(c.alpha(), PeerView::dead);
  }
  MESSAGE("alpha's fencer at the end: " << fence_phase(c, c.alpha()) << "; alpha sees beta: "
                                        << c.status(c.alpha())["peer"].dump());
  const auto again = c.ask(admin, "fence-peer beta");
  MESSAGE("castor fence beta now: " << again.dump());
  CHECK(dead);
}

// 3. Older than d079a29: the "retired incarnation's record" clause also took lives retired AFTER the fence's
// start. Beta powered on again within the settle as C, C restarts as D (a new incarnation
// without a reboot); a late write of C read at the settle end declares DEAD while D runs -- in the very monitor
// that started the fence.
TEST_CASE("fence subject: a life retired after the fence's start, read late at the settle end, is no verdict") {
  Rig old;
  old.read(A, 1);
  old.pm.fence_started();
  const TimePoint settle_end = old.t + Millis(500);
  old.pm.declare_fenced(settle_end, "fence_x by alpha");
  old.read(0xC, 1);
  old.read(0xD, 1);  // C retired by D
  old.t = settle_end;
  CHECK(old.read(0xC, 2) != PeerView::dead);  // C's late write, D alive
}

// The adversarial review of 485e743: the adopted snapshot (up to kMaxRetired lives) copied into the new
// monitor's retired list pushed its own newest entries out.
TEST_CASE("fence subject: adopting a full retired snapshot keeps the new monitor's own retired lives") {
  constexpr uint64_t A = 0xA, X = 0x51, Y = 0x52;
  // The fencing core's monitor: kMaxRetired lives retired before the fence (a peer that restarted that often).
  PeerMonitor::FenceSubject subject;
  subject.incarnation = A;
  for (uint64_t i = 0; i < PeerMonitor::kMaxRetired; ++i) subject.retired.push_back(0x100000 + i);

  RigWithState fresh;  // the new core's monitor: it saw life X replaced by Y (Y is the live life)
  fresh.read(X, 1);
  fresh.read(X, 2);
  fresh.read(Y, 1);
  fresh.read(Y, 2);
  REQUIRE(fresh.pm.retired(X));
  REQUIRE(fresh.pm.view() == PeerView::up);
  fresh.pm.adopt_fence_subject(subject);  // hand_over()
  CHECK(fresh.pm.retired(X));              // (it was evicted by the adopted snapshot)
  fresh.read(X, 3);                        // a late write of X (the model lets it land at any later tick)
  CHECK_FALSE(fresh.pm.retired(Y));        // (the live life Y was retired)
  (void)fresh.read(Y, 3, NodeState::down);  // Y leaves cleanly
  CHECK(fresh.pm.view() == PeerView::down);     // (its DOWN was taken as a stale late write)
}
