// Review of 7ca18d9 ("while asking, the stop of services waits for a promise the peer is about to give") and
// ee8e194 ("count only timed-out I/Os still held as a stalled path's hold"): adversarial cases against the real
// QuorumCore (and the daemon's submit gate). A case that FAILS shows a defect; one that passes shows a suspected
// hole is not one (its comment says which).
#include <doctest/doctest.h>

#include <memory>
#include <vector>

#include "disk/testing/faulty_block_device.h"
#include "disk/testing/memory_block_device.h"
#include "quorumd/quorum_core.h"
#include "quorumd/quorum_daemon.h"
#include "tests/support/simulated_core.h"

using namespace castor;

namespace {

const Millis T{200};

// The simulated core of tests/support/simulated_core.h, in steps of 5 ms.
struct Node : testing::SimulatedCore {
  Node(uint32_t id, TimePoint start) : SimulatedCore(id, start) { step = Millis(5); }
};

// x runs 10 T on a working disk (the peer's block changing), then its disk stalls. Returns x's last ok issue.
TimePoint run_then_stall(Node& x) {
  for (TimePoint end = x.t + 10 * T; x.t < end;) {
    ++x.peer_seq;
    x.step_to(x.t + Millis(10));
  }
  REQUIRE(x.core.peer().view() == PeerView::up);
  REQUIRE(x.core.phase() == CorePhase::up);
  x.disk_ok = false;
  return *x.core.last_ok_write_issue();
}

}  // namespace

// FINDING 1 (liveness, 7ca18d9). QuorumCore::next_wakeup() still returns expiry - kill_grace while no stop was
// requested ("stop_time() is never earlier"). When the stop waits (stop_time = expiry - G/2), that instant is
// already past for the whole window [E - G, E - G/2): the core asks to be woken in the past, and
// QuorumDaemon::next_wakeup clamps it to now + 200 us. quorumd (SCHED_FIFO in production) then turns every
// 200 us for G/2 (1 s at the default T = 2 s: ~5000 turns, each reaping the disk, reading the LAN and calling
// the watchdog's pet ioctl) in exactly the moment the stall is being ridden.
TEST_CASE("review stop wait: while the stop waits for a promise, the core does not ask to be woken in the past (no 200 us spin for G/2)") {
  const TimePoint start{std::chrono::seconds(100)};
  Node x(1, start);
  const TimePoint x_ok = run_then_stall(x);
  const Timing& tm = x.core.config().timing;
  const TimePoint expiry = *x.core.lease_expiry();
  REQUIRE(expiry == x_ok + tm.lease);
  // The peer stalled as early (its last ok write issued with x's): each of its datagrams (every R/4 while it
  // asks, as LanChannel sends them) says so. No grant arrives in this window.
  const Duration lan_every = tm.renew_interval / 4;
  const Duration clamp = std::chrono::microseconds(200);  // QuorumDaemon::next_wakeup's floor
  TimePoint next_report = x.t;
  int turns_in_window = 0;
  bool woken_in_past = false;
  TimePoint now = x.t;
  while (now < expiry - tm.kill_grace / 2 && x.stops.empty()) {
    if (now >= next_report) {
      x.core.on_peer_disk_report(now - x_ok, true, now);
      next_report = now + lan_every;
    }
    x.step_to(now);
    if (!x.stops.empty()) break;
    // What QuorumDaemon::next_wakeup does with the core's answer (the LAN tick every R/4 while asking).
    const TimePoint core_next = x.core.next_wakeup();
    if (now >= expiry - tm.kill_grace && core_next <= now) woken_in_past = true;
    TimePoint next = std::min({now + tm.renew_interval, core_next, next_report});
    next = std::max(next, now + clamp);
    if (now >= expiry - tm.kill_grace) ++turns_in_window;
    now = next;
  }
  INFO("turns of the loop between E - G and the (waited) stop: " << turns_in_window);
  REQUIRE(x.core.wants_promise(expiry - tm.kill_grace));
  CHECK_FALSE(woken_in_past);
  // Without a wake-up in the past the loop turns at the LAN's R/4 (4 turns in G/2) plus the stop itself.
  CHECK(turns_in_window <= 12);
  x.step_to(expiry - tm.kill_grace / 2 + Millis(1));
  REQUIRE(x.stops.size() == 1);
  CHECK(x.stops[0] >= expiry - tm.kill_grace / 2);  // the stop did wait (the rule itself works)
}

// FINDING 2 (liveness, minor, 7ca18d9). stop_waits_for_promise waits for a peer whose datagram carries no disk
// age ("it never wrote ok: it has no later write either"). But a peer that never wrote ok holds no lease and
// can never grant (grant_refusal: "I hold no lease"): a peer whose quorumd just restarted, or that rejoined
// after a fence, on a disk that works. Only x's path failed; x's services lose half of their stop time (T/2
// instead of T before the kill at the lease end) waiting for a promise that cannot come.
TEST_CASE("review stop wait: a peer that never wrote ok (holds no lease, cannot grant) does not delay the stop") {
  const TimePoint start{std::chrono::seconds(100)};
  Node x(1, start);
  const TimePoint x_ok = run_then_stall(x);
  const Timing& tm = x.core.config().timing;
  const TimePoint expiry = *x.core.lease_expiry();
  // The peer's new life: started just now, its first write still in flight (its disk works).
  Node y(2, x.t);
  std::vector<CoreAction> acts;
  y.core.tick(y.t, acts);
  REQUIRE_FALSE(y.core.last_ok_write_issue());
  for (TimePoint now = x.t; now < expiry + Millis(10); now += Millis(5)) {
    x.core.on_peer_disk_report(std::nullopt, true, now);  // its datagrams: disk_age_ms = UINT32_MAX
    x.step_to(now);
    if (x.core.wants_promise(now)) {
      const char* why = nullptr;
      CHECK_FALSE(y.core.grant_promise(0xA, now, &why));  // it can never grant
    }
  }
  REQUIRE_FALSE(x.stops.empty());
  INFO("x's stop came " << format_duration(x.stops[0] - x_ok) << " after its last ok write (nominal "
                        << format_duration(tm.lease - tm.kill_grace) << ")");
  CHECK(x.stops[0] <= expiry - tm.kill_grace + x.step);
  CHECK(x.fenced());
}

// HOLDS (7ca18d9's new "risk is over" condition). The stop was sent at E - G (no datagram of the peer yet);
// then the peer's datagrams make stop_time() move to E - G/2. The old condition (now < at_risk) would clear
// stop_requested_ without any renewal and send a second stop at E - G/2; the new one (now < E - G) does not:
// exactly one stop, then the fence at E.
TEST_CASE("review stop wait: a stop sent at E - G is not cleared (nor sent twice) when the peer's report later makes the stop wait") {
  const TimePoint start{std::chrono::seconds(100)};
  Node x(1, start);
  const TimePoint x_ok = run_then_stall(x);
  const Timing& tm = x.core.config().timing;
  const TimePoint expiry = *x.core.lease_expiry();
  x.step_to(expiry - tm.kill_grace + Millis(1));
  REQUIRE(x.stops.size() == 1);
  for (TimePoint now = x.t; now < expiry + Millis(10); now += Millis(5)) {
    x.core.on_peer_disk_report(now - x_ok, true, now);
    x.step_to(now);
  }
  CHECK(x.stops.size() == 1);
  CHECK(x.fenced());
}

// FINDING 3 (liveness; the condition predates 7ca18d9, which keeps it): a stop that stays requested while the
// lease end moves. A grant that answers an old request (delayed 2 T: e.g. it sat in the grantor's socket while
// the grantor's loop was held) moves the lease end to E' with E' - G <= now. The core keeps stop_requested_ and
// sends no new stop, but QuorumDaemon::announce_lease sends lease_renewed for every change of the end, and
// svcmgr takes lease_renewed as "the risk passed" (svcmgr_daemon.cc: risk_stop_ = false, services started
// again). Nobody stops them again: svcmgr SIGKILLs them at E'. The core should send the stop again once the
// announced end moved (or announce_lease should not say "renewed" while the stop stands).
TEST_CASE("review stop wait: a promise that moves the lease end but leaves it within G sends the stop again") {
  const TimePoint start{std::chrono::seconds(100)};
  Node x(1, start);
  const TimePoint x_ok = run_then_stall(x);
  const Timing& tm = x.core.config().timing;
  const TimePoint expiry = *x.core.lease_expiry();
  x.step_to(expiry - tm.kill_grace / 2 + Millis(5));
  REQUIRE(x.stops.size() == 1);
  REQUIRE(x.core.wants_promise(x.t));
  // The grant of a request x sent at x_ok + R (x asks from its first failed write on: with an I/O error that
  // is its next write, R after its last ok one) arrives now, 2 T + 5 ms after it was sent.
  const TimePoint request_sent = x_ok + tm.renew_interval;
  std::vector<CoreAction> acts;
  REQUIRE(x.core.on_promise(request_sent, tm.lease, x.t, acts));
  x.run(acts);
  const TimePoint new_end = *x.core.lease_expiry();
  REQUIRE(new_end > expiry);                     // the daemon announces this as lease_renewed
  REQUIRE(new_end - tm.kill_grace <= x.t);       // ... yet the lease is still at risk
  x.step_to(new_end + Millis(1));
  CHECK(x.fenced());
  INFO("stops sent: " << x.stops.size());
  CHECK(x.stops.size() == 2);  // a second stop after the end moved (svcmgr restarted on lease_renewed)
}

// HOLDS (ee8e194). A shared stall ridden for 120 s: the heartbeat I/O (at most one write, one own read and one
// peer read in flight, each submitted only through QuorumDaemon::path_holds_too_many) stops at 12 timed out
// and never deepens the queue past 12 + 3; once the path gives its I/Os back the gate opens again (no stall
// that never ends). The cadence below is the core's: one I/O of a purpose at a time, reissued after its
// timeout and at most every R.
TEST_CASE("review stop wait: in a long stall heartbeat I/O stops at 12 timed out, never fills the queue, and resumes") {
  FakeClock clock;
  auto disk = std::make_shared<MemoryDisk>(512, 1 << 20);
  FaultyBlockDevice dev{std::make_shared<MemoryBlockDevice>(disk, "mem0")};
  std::vector<std::byte> data(512, std::byte{1});
  std::vector<std::byte> buf[3];
  for (auto& b : buf) b.resize(512);
  const Millis R{100};
  dev.hang_all();
  bool in_flight[3] = {false, false, false};
  TimePoint next[3] = {clock.now(), clock.now(), clock.now()};
  uint64_t tag = 1;
  size_t max_held = 0;
  int refused = 0;
  std::vector<IoCompletion> done;
  auto turn = [&] {
    done.clear();
    dev.reap(clock.now(), done);
    for (const auto& c : done) in_flight[c.tag % 3] = false;
    for (int p = 0; p < 3; ++p) {
      if (in_flight[p] || clock.now() < next[p]) continue;
      next[p] = clock.now() + R;
      if (QuorumDaemon::path_holds_too_many(dev)) {
        ++refused;
        continue;
      }
      const uint64_t tg = tag++ * 3 + uint64_t(p);
      Status st = p == 0 ? dev.submit_write(tg, 512, data, clock.now(), clock.now() + T)
                         : dev.submit_read(tg, 512 * uint64_t(p + 1), buf[p], clock.now(), clock.now() + T);
      REQUIRE(st.ok());
      in_flight[p] = true;
    }
    max_held = std::max(max_held, dev.held_by_kernel());
  };
  for (int i = 0; i < 120 * 200; ++i) {  // 120 s in 5 ms turns
    turn();
    clock.advance(Millis(5));
  }
  CHECK(max_held <= QuorumDaemon::kMaxHeldBeforeSubmit + 3);
  CHECK(dev.held_after_timeout() >= QuorumDaemon::kMaxHeldBeforeSubmit);
  CHECK(refused > 1000);
  dev.pass_all();
  dev.release_hung(clock.now());
  const uint64_t before = tag;
  for (int i = 0; i < 100; ++i) {
    turn();
    clock.advance(Millis(5));
  }
  CHECK(tag > before + 10);  // submitting again
  CHECK(dev.held_after_timeout() == 0);
}
