// The promises of a shared storage stall (quorumd/stall_promise.h, QuorumCore's promise verbs): who may ask,
// who may grant, what a grant extends, and how a promise given holds back the grantor's DEAD verdict —
// the rules of docs/design.md "Riding through a shared storage stall", each checked against the real core.
#include <doctest/doctest.h>

#include <vector>

#include "quorumd/quorum_core.h"
#include "tests/support/simulated_core.h"

using namespace castor;

namespace {

const Millis T{200};

// The simulated core of tests/support/simulated_core.h.
using Node = testing::SimulatedCore;

}  // namespace

TEST_CASE("stall promise: the disk is failing when its last write failed, or no ok write was issued for 2T; the stall bound") {
  const PromiseTerms terms = PromiseTerms::from(*Timing::from_io_timeout(T), std::chrono::seconds(10));
  const TimePoint t0{std::chrono::seconds(50)};
  CHECK(disk_failing(terms, std::nullopt, false, t0));
  CHECK_FALSE(disk_failing(terms, t0, false, t0 + T));
  CHECK(disk_failing(terms, t0, true, t0 + T));
  // A slow disk whose writes complete ok within T (one at a time: the last ok issue up to 2T old) works.
  CHECK_FALSE(disk_failing(terms, t0, false, t0 + 2 * T));
  CHECK(disk_failing(terms, t0, false, t0 + 2 * T + Millis(1)));
  CHECK(within_storage_stall(terms, t0, t0 + std::chrono::seconds(9)));
  CHECK_FALSE(within_storage_stall(terms, t0, t0 + std::chrono::seconds(10)));
  CHECK_FALSE(within_storage_stall(terms, std::nullopt, t0));
  // A grant is anchored at the request's send time, capped at P, and never past last ok + F + S.
  CHECK(*promised_lease_end(terms, t0 + Millis(500), std::chrono::seconds(60), t0) == t0 + Millis(500) + 3 * T);
  CHECK(*promised_lease_end(terms, t0 + Millis(500), Millis(100), t0) == t0 + Millis(600));
  CHECK(*promised_lease_end(terms, t0 + std::chrono::seconds(10), 3 * T, t0) == t0 + 3 * T + std::chrono::seconds(10));
  CHECK_FALSE(promised_lease_end(terms, t0, 3 * T, std::nullopt));
  CHECK_FALSE(promised_lease_end(terms, t0, Duration(0), t0));
}

TEST_CASE("stall promise: both disks stall, promises chain: no stop, no fence, no DEAD for 30 T; then the disk returns") {
  const TimePoint start{std::chrono::seconds(100)};
  Node x(1, start), y(2, start);
  x.step_to(start + 2 * T);
  y.step_to(start + 2 * T);
  REQUIRE(x.core.peer().view() == PeerView::unknown);
  // The peers' heartbeats change: both see each other UP.
  x.peer_seq = 2; y.peer_seq = 2;
  x.step_to(start + 3 * T);
  y.step_to(start + 3 * T);
  REQUIRE(x.core.peer().view() == PeerView::up);
  REQUIRE(y.core.peer().view() == PeerView::up);
  CHECK_FALSE(x.core.wants_promise(x.t));
  const char* why = nullptr;
  CHECK_FALSE(y.core.grant_promise(0xA, y.t, &why));  // y's disk works
  CHECK(std::string(why).find("disk works") != std::string::npos);

  x.disk_ok = y.disk_ok = false;
  const TimePoint stall = x.t;
  // Every R each asks, the other grants answering the request sent then (delivered 2 ms later).
  for (TimePoint now = stall; now < stall + 30 * T; now += T / 2) {
    x.step_to(now);
    y.step_to(now);
    for (Node* asker : {&x, &y}) {
      Node& granter = asker == &x ? y : x;
      if (!asker->core.wants_promise(now)) continue;
      auto g = granter.core.grant_promise(asker->core.config().incarnation, now + Millis(1));
      if (!g) continue;
      std::vector<CoreAction> acts;
      asker->core.on_promise(now, *g, now + Millis(2), acts);
      asker->run(acts);
    }
  }
  CHECK(x.core.wants_promise(x.t));
  CHECK_FALSE(x.fenced());
  CHECK_FALSE(y.fenced());
  CHECK_FALSE(x.stop_asked);
  CHECK_FALSE(y.stop_asked);
  CHECK(x.core.may_act(x.t));
  CHECK(y.core.may_act(y.t));
  CHECK(x.core.promises_received() > 40);
  CHECK(y.core.promises_granted() > 40);
  CHECK(x.core.peer().view() == PeerView::up);
  // The disk comes back with the peer's heartbeat unchanged since before the stall: first_seen is 30 T old,
  // but y's promises hold the verdict back until its last grant + P + D.
  x.disk_ok = y.disk_ok = true;
  const TimePoint floor = x.core.promise_floor();
  CHECK(floor >= stall + 30 * T);
  x.step_to(x.t + 2 * T);
  CHECK(x.core.peer().view() == PeerView::up);
  CHECK(*x.core.peer().dead_deadline() == floor + 6 * T);
  x.step_to(floor + 6 * T - Millis(20));
  CHECK(x.core.peer().view() == PeerView::up);
  x.step_to(floor + 6 * T + T);
  CHECK(x.core.peer().view() == PeerView::dead);  // the peer's block never changed again: dead, but only now
}

TEST_CASE("stall promise: only one node's disk path fails: the other never grants, the failing node fences at F") {
  const TimePoint start{std::chrono::seconds(100)};
  Node x(1, start), y(2, start);
  x.peer_seq = 2; y.peer_seq = 2;
  x.step_to(start + 10 * T);
  y.step_to(start + 10 * T);
  x.disk_ok = false;
  const TimePoint stall = x.t;
  int refused = 0;
  for (TimePoint now = stall; now < stall + 10 * T; now += T / 2) {
    x.step_to(now);
    y.step_to(now);
    if (x.core.wants_promise(now)) {
      const char* why = nullptr;
      if (!y.core.grant_promise(0xA, now, &why)) ++refused;
    }
  }
  CHECK(refused > 0);
  CHECK(x.fenced());
  CHECK(y.core.promises_granted() == 0);
  CHECK(x.core.promises_received() == 0);
}

TEST_CASE("stall promise: a grant never revives a lapsed lease, never makes one, and is anchored at the send time") {
  const TimePoint start{std::chrono::seconds(100)};
  Node x(1, start);
  std::vector<CoreAction> acts;
  // No ok write yet: nothing to extend.
  CHECK_FALSE(x.core.on_promise(start, 3 * T, start + Millis(1), acts));
  x.step_to(start + 2 * T);
  x.disk_ok = false;
  const TimePoint last_ok = *x.core.last_ok_write_issue();
  x.step_to(last_ok + 2 * T + Millis(50));  // the first failed write timed out
  REQUIRE(x.core.wants_promise(x.t));
  // A grant answering a request sent 100 ms ago, received now: the lease runs to the SEND time + P.
  const TimePoint sent = x.t - Millis(100);
  CHECK(x.core.on_promise(sent, 3 * T, x.t, acts));
  CHECK(*x.core.lease_expiry() == sent + 3 * T);
  // An older grant (an earlier request) moves nothing.
  CHECK_FALSE(x.core.on_promise(sent - Millis(100), 3 * T, x.t, acts));
  // Let it lapse: a grant that comes after the lapse renews nothing, the node is fenced for good.
  x.step_to(sent + 3 * T + Millis(10));
  CHECK(x.fenced());
  CHECK_FALSE(x.core.on_promise(x.t - Millis(1), 3 * T, x.t, acts));
  CHECK_FALSE(x.core.may_act(x.t));
}

// The bench found it: at io_timeout 2 s, failover with the LAN took 15.1 s against 12.6 s without, because
// the survivor's quorumd had started 4 s before the kill and every new core held DEAD back until start + P
// + D. A previous life's promise ends the holder's lease before start + P; the new core's DEAD needs a read
// at first_seen + D >= start + D, safe for any lease ending by start + F. So only P - F is held back.
TEST_CASE("stall promise: a new core declares DEAD after D like one without LAN when P = F; it holds back P - F more when P > F") {
  const TimePoint start{std::chrono::seconds(100)};
  const Timing timing = *Timing::from_io_timeout(T);
  for (bool lan : {true, false}) {
    CAPTURE(lan);
    Node y(2, start, lan);
    y.step_to(start + 6 * T - Millis(20));  // the peer's block never changes
    CHECK(y.core.peer().view() != PeerView::dead);
    y.step_to(start + 6 * T + T);
    CHECK(y.core.peer().view() == PeerView::dead);
  }
  CHECK(restart_hold(PromiseTerms::from(timing, std::chrono::seconds(120)), timing) == Duration(0));
  // A longer promise (P = F + 2T) than the lease: the previous life's holder may run 2T past start + F.
  Node z(2, start, true, timing.lease + 2 * T);
  z.step_to(start + 8 * T - Millis(20));
  CHECK(z.core.peer().view() != PeerView::dead);
  z.step_to(start + 8 * T + T);
  CHECK(z.core.peer().view() == PeerView::dead);
}

TEST_CASE("stall promise: no grant to an incarnation not followed, not UP, or past max_storage_stall") {
  const TimePoint start{std::chrono::seconds(100)};
  Node y(2, start);
  y.step_to(start + 2 * T);
  y.disk_ok = false;
  y.step_to(start + 4 * T);
  const char* why = nullptr;
  CHECK_FALSE(y.core.grant_promise(0xA, y.t, &why));  // the peer was never seen changing: UNKNOWN
  CHECK(std::string(why).find("not UP") != std::string::npos);

  Node z(2, start);
  z.peer_seq = 2;
  z.step_to(start + 2 * T);
  z.peer_seq = 3;
  z.step_to(start + 3 * T);
  REQUIRE(z.core.peer().view() == PeerView::up);
  z.disk_ok = false;
  z.step_to(start + 5 * T);
  CHECK_FALSE(z.core.grant_promise(0xC, z.t, &why));  // another life than the one followed
  const TimePoint before = z.core.promise_floor();
  CHECK(z.core.grant_promise(0xA, z.t, &why));
  CHECK(z.core.promise_floor() == z.t + 3 * T);
  CHECK(z.core.promise_floor() > before);
  // Keep z alive on promises of its own, past max_storage_stall (120 s): then it grants no more.
  std::vector<CoreAction> acts;
  const TimePoint last_ok = *z.core.last_ok_write_issue();
  TimePoint now = z.t;
  while (now < last_ok + std::chrono::seconds(121)) {
    now += T / 2;
    z.step_to(now);
    if (!z.core.wants_promise(now)) break;
    z.core.on_promise(now, 3 * T, now + Millis(1), acts);
    z.run(acts);
    acts.clear();
    z.core.grant_promise(0xA, now, &why);
  }
  CHECK(now >= last_ok + std::chrono::seconds(120) - T);
  CHECK_FALSE(z.core.wants_promise(now));
  CHECK_FALSE(z.core.grant_promise(0xA, now, &why));
  z.step_to(now + 4 * T);
  CHECK(z.fenced());  // the stall outlasted max_storage_stall: fenced as without a LAN
}

namespace {

// One LAN round at `now`: each node's datagram tells the other its disk age (as LanChannel's every datagram
// does); one that wants a promise asks, and the other grants if it may, anchored at the send time.
void lan_round(Node& x, Node& y, TimePoint now) {
  for (Node* from : {&x, &y}) {
    Node& to = from == &x ? y : x;
    const auto last_ok = from->core.last_ok_write_issue();
    to.core.on_peer_disk_report(last_ok ? std::optional<Duration>(now - *last_ok) : std::nullopt,
                                from->core.peer().view() == PeerView::up, now);
    if (!from->core.wants_promise(now)) continue;
    if (auto g = to.core.grant_promise(from->core.config().incarnation, now)) {
      std::vector<CoreAction> acts;
      from->core.on_promise(now, *g, now, acts);
      from->run(acts);
    }
  }
}

}  // namespace

namespace {

struct SharedStallRun {
  Duration y_after_x{0};                // y's last ok write issued this long after x's
  std::optional<Duration> x_stop;       // x's first stop_services, after its last ok write
  bool fenced = false;
  uint64_t received = 0;
  std::optional<Duration> first_ask, first_grant;  // after x's last ok write
};

// Both nodes' writes every R, y's started `offset` after x's; both disks stall right after one of y's writes
// landed; LAN rounds every R/4 (LanChannel's rate while asking) from `round_phase` after the stall, for 30 T.
// Time moves in steps of 5 ms.
SharedStallRun shared_stall(Duration offset, Duration round_phase) {
  const TimePoint start{std::chrono::seconds(100)};
  const Duration quarter = Timing::from_io_timeout(T)->renew_interval / 4;
  Node x(1, start), y(2, start + offset);
  x.step = y.step = Millis(5);
  TimePoint now = start + offset;
  for (; now < start + 10 * T; now += Millis(5)) {
    x.peer_seq = std::max<uint64_t>(1, y.core.last_written_seq());  // each reads the other's landed writes
    y.peer_seq = std::max<uint64_t>(1, x.core.last_written_seq());
    x.step_to(now);
    y.step_to(now);
  }
  REQUIRE(x.core.peer().view() == PeerView::up);
  REQUIRE(y.core.peer().view() == PeerView::up);
  const auto y_before = y.core.last_ok_write_issue();
  while (y.core.last_ok_write_issue() == y_before) {
    now += Millis(5);
    x.peer_seq = y.core.last_written_seq();
    y.peer_seq = x.core.last_written_seq();
    x.step_to(now);
    y.step_to(now);
  }
  x.disk_ok = y.disk_ok = false;
  SharedStallRun r;
  const TimePoint x_ok = *x.core.last_ok_write_issue();
  r.y_after_x = *y.core.last_ok_write_issue() - x_ok;
  now += round_phase;
  for (const TimePoint end = now + 30 * T; now < end; now += quarter) {
    x.step_to(now);
    y.step_to(now);
    lan_round(x, y, now);
    if (!r.first_grant && x.core.promises_received() > 0) r.first_grant = now - x_ok;
    if (!r.first_ask && x.core.wants_promise(now)) r.first_ask = now - x_ok;
  }
  if (x.stop_at) r.x_stop = *x.stop_at - x_ok;
  r.fenced = x.fenced() || y.fenced() || y.stop_asked;
  r.received = x.core.promises_received();
  return r;
}

}  // namespace

// lan_stall case (a) on the harness cluster lost the race about one run in nine: x asks once its write timed
// out (1.5 T after its last ok write) and svcmgr was told to stop at 2 T; y's writes ran almost R later than
// x's, so y's own write timed out — and y could grant — only just before 2 T, and the grant came after the
// stop: a client outage in a stall the LAN should ride. The stop now waits kill_grace/2 more while x asks
// and y's datagrams show y's disk stalled as early as x's.
TEST_CASE("stall promise: a shared stall with the grantor's writes up to R out of phase: the stop waits for the promise, nobody stops or fences") {
  const Duration R = Timing::from_io_timeout(T)->renew_interval;
  for (Duration offset = Millis(0); offset < R; offset += Millis(5)) {
    for (Duration phase : {Millis(0), Millis(5), Millis(10), Millis(15), Millis(20)}) {
      const SharedStallRun r = shared_stall(offset, phase);
      INFO("y's writes " << format_duration(offset) << " after x's, rounds at +" << format_duration(phase)
                         << ": y's last ok write " << format_duration(r.y_after_x) << " after x's; x's stop "
                         << (r.x_stop ? format_duration(*r.x_stop) : std::string("never")) << " after its last ok write; first grant "
                         << format_duration(r.first_grant.value_or(Duration(0))));
      CHECK_FALSE(r.x_stop);
      CHECK_FALSE(r.fenced);
      CHECK(r.received > 40);
    }
  }
}

TEST_CASE("stall promise: only one node's path fails, the peer's datagrams show its disk working: the stop is not delayed") {
  const TimePoint start{std::chrono::seconds(100)};
  Node x(1, start), y(2, start);
  TimePoint now = start;
  for (; now < start + 10 * T; now += Millis(10)) {
    x.peer_seq = std::max<uint64_t>(1, y.core.last_written_seq());
    y.peer_seq = std::max<uint64_t>(1, x.core.last_written_seq());
    x.step_to(now);
    y.step_to(now);
  }
  x.disk_ok = false;
  const TimePoint x_ok = *x.core.last_ok_write_issue();
  REQUIRE(y.core.peer().view() == PeerView::up);
  for (const TimePoint end = now + 10 * T; now < end; now += Millis(20)) {
    x.peer_seq = y.core.last_written_seq();  // y's disk works: x's reads fail (its path), y's see x stand still
    x.step_to(now);
    y.step_to(now);
    lan_round(x, y, now);
  }
  REQUIRE(x.stop_at);
  CHECK(*x.stop_at - x_ok <= x.core.config().timing.lease - x.core.config().timing.kill_grace + Millis(10));
  CHECK(x.fenced());
  CHECK(y.core.promises_granted() == 0);
  // The rule itself: a report older than R, or a peer write issued later than R + R/4 after mine, does not wait.
  const Timing timing = *Timing::from_io_timeout(T);
  const TimePoint t0{std::chrono::seconds(50)};
  const Duration r = timing.renew_interval;
  const PromiseTerms terms = PromiseTerms::from(timing, std::chrono::seconds(120));
  CHECK(stop_waits_for_promise(terms, timing, true, t0, t0 + 2 * T, t0 + r, true, t0 + 2 * T));
  CHECK_FALSE(stop_waits_for_promise(terms, timing, false, t0, t0 + 2 * T, t0 + r, true, t0 + 2 * T));
  CHECK_FALSE(stop_waits_for_promise(terms, timing, true, t0, t0 + 2 * T - r - Millis(1), t0 + r, true, t0 + 2 * T));
  CHECK_FALSE(stop_waits_for_promise(terms, timing, true, t0, t0 + 2 * T, t0 + r + r / 4, true, t0 + 2 * T));
  CHECK_FALSE(stop_waits_for_promise(terms, timing, true, t0, std::nullopt, std::nullopt, true, t0 + 2 * T));
  // A peer that could not grant: never wrote ok (no lease), does not see me UP, or past max_storage_stall.
  CHECK_FALSE(stop_waits_for_promise(terms, timing, true, t0, t0 + 2 * T, std::nullopt, true, t0 + 2 * T));
  CHECK_FALSE(stop_waits_for_promise(terms, timing, true, t0, t0 + 2 * T, t0 + r, false, t0 + 2 * T));
  CHECK(stop_waits_for_promise(terms, timing, true, t0, t0 + std::chrono::seconds(119), t0, true,
                               t0 + std::chrono::seconds(119)));
  CHECK_FALSE(stop_waits_for_promise(terms, timing, true, t0, t0 + std::chrono::seconds(120), t0, true,
                                     t0 + std::chrono::seconds(120)));
}
