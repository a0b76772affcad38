// The fence race (issue 16), found by the adversarial review of the power-fencing rules: two real QuorumCores
// and PowerFencers over a simulated shared disk, 1 ms steps, T = 2 s, each agent call 300 ms. Both quorumds
// stall for seconds at once and the first write after takes long (every write still ok within T): each sees
// the other's block stand still for S = 2T while its own writes worked, and each may fence. And with a LAN
// (S = T) cut, writes slower than T/2 make both suspect each other. The fence intent (power_fencer.h:
// announce on the disk, look once it is there, yield to an intent seen) leaves at most one fencing.

#include <doctest/doctest.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "agent/fence_agent.h"
#include "config/fence_config.h"
#include "quorumd/power_fencer.h"
#include "quorumd/quorum_core.h"
#include "tests/support/landed_heartbeats.h"

using namespace castor;
using std::chrono::milliseconds;

namespace {

constexpr Millis kT{2000};  // io_timeout: R = 1 s, F = 6 s, D = 12 s, S = 4 s

TimePoint at(int64_t ms) { return TimePoint(milliseconds(1000000 + ms)); }
int64_t ms_of(TimePoint t) { return std::chrono::duration_cast<milliseconds>(t - at(0)).count(); }

using Disk = test::LandedHeartbeats;  // tests/support/landed_heartbeats.h

struct Node {
  struct Op {
    CoreActionKind kind;
    TimePoint issued, sample_or_land, complete;
    HeartbeatRecord record;
  };
  uint32_t id;
  QuorumCore core;
  PowerFencer fencer;
  Disk* disk;
  std::vector<Op> ops;
  std::function<bool(TimePoint)> paused = [](TimePoint) { return false; };
  // issue time -> (land/sample delay, completion delay)
  std::function<std::pair<Millis, Millis>(TimePoint)> write_lat = [](TimePoint) { return std::pair{Millis(1), Millis(1)}; };
  std::function<std::pair<Millis, Millis>(TimePoint)> read_lat = [](TimePoint) { return std::pair{Millis(30), Millis(30)}; };
  std::function<std::pair<Millis, Millis>(TimePoint)> own_read_lat;  // unset: as read_lat
  std::optional<std::pair<FenceAgentAction, TimePoint>> agent;  // running agent action, done at
  std::optional<TimePoint> off_started;                       // when this node started `off` of its peer
  std::optional<TimePoint> suspected_at;
  Duration suspicion = 2 * kT;  // no LAN; T with a LAN that is cut
  bool yielded = false;

  static CoreConfig cfg(uint32_t id) {
    CoreConfig c;
    c.cluster_uuid.bytes[0] = 9;
    c.node_id = id;
    c.incarnation = 0x100 + id;
    c.timing = *Timing::from_io_timeout(kT);
    return c;
  }
  static FenceDeviceConfig dev(uint32_t peer) {
    FenceDeviceConfig d;
    d.node = peer == 1 ? "alpha" : "beta";
    d.agent = "fence_ipmilan";
    d.retries = 0;
    return d;
  }
  Node(uint32_t id_, TimePoint start, Disk* d)
      : id(id_), core(cfg(id_), start), fencer(dev(id_ == 1 ? 2 : 1), kT * 6), disk(d) {
    core.set_suspicion_time(suspicion);
  }
  void use_suspicion(Duration s) {
    suspicion = s;
    core.set_suspicion_time(s);
  }

  void take(const std::vector<CoreAction>& acts, TimePoint now) {
    for (const CoreAction& a : acts) {
      if (a.kind == CoreActionKind::write_heartbeat) {
        auto [land, done] = write_lat(now);
        ops.push_back({a.kind, now, now + land, now + done, a.record});
      } else if (a.kind == CoreActionKind::read_peer || a.kind == CoreActionKind::read_own) {
        auto [sample, done] = a.kind == CoreActionKind::read_own && own_read_lat ? own_read_lat(now) : read_lat(now);
        ops.push_back({a.kind, now, now + sample, now + done, {}});
      }
    }
  }
  void step(TimePoint now) {
    // The storage works whether or not the node runs: writes land at their time.
    for (Op& o : ops)
      if (o.kind == CoreActionKind::write_heartbeat && o.sample_or_land == now) disk->land(id, now, o.record);
    if (paused(now)) return;
    std::vector<CoreAction> acts;
    for (size_t i = 0; i < ops.size();) {
      if (ops[i].complete > now) { ++i; continue; }
      Op o = ops[i];
      ops.erase(ops.begin() + long(i));
      std::vector<CoreAction> out;
      if (o.kind == CoreActionKind::write_heartbeat) {
        core.on_write_done(o.record.seq, o.issued, Status::Ok(), now, out);
      } else {
        const uint32_t whose = o.kind == CoreActionKind::read_own ? id : core.peer_id();
        auto v = disk->value(whose, o.sample_or_land);
        Result<HeartbeatRecord> r = v ? Result<HeartbeatRecord>(*v) : Result<HeartbeatRecord>(Error(Code::corrupt, "empty"));
        if (o.kind == CoreActionKind::read_own) core.on_own_read(o.issued, r, Status::Ok(), now, out);
        else core.on_peer_read(o.issued, r, v ? 0u : 7u, Status::Ok(), now, out);
      }
      take(out, now);
    }
    core.tick(now, acts);
    take(acts, now);
    fence_step(now);
  }
  void fence_step(TimePoint now) {
    if (agent && agent->second <= now) {
      AgentOutcome o;
      o.exit_code = 0;  // status: on; off: done
      o.elapsed = milliseconds(300);
      fencer.on_result(agent->first, interpret_fence_outcome(agent->first, o), now);
      agent.reset();
    }
    const PeerMonitor& pm = core.peer();
    FenceSituation s;
    s.may_fence = core.may_power_fence(now);
    s.suspected = core.peer_silent_for(suspicion);  // no LAN, or every link cut
    s.peer_gone = pm.view() == PeerView::down || pm.view() == PeerView::dead;
    s.peer_incarnation = pm.incarnation();
    s.look_clear = core.fence_look_clear();
    s.peer_value_age = now - pm.first_seen();
    s.suspicion = suspicion;
    if (s.may_fence && s.suspected && !suspected_at) suspected_at = now;
    if (pm.view() == PeerView::up) fencer.peer_alive(pm.first_seen());
    bool started = false;
    auto action = fencer.tick(s, now, 0, started);
    if (fencer.phase() == PowerFencer::Phase::yielded) yielded = true;
    core.set_fence_intent(fencer.wants_intent(), now);  // as QuorumDaemon::fence_step
    std::vector<CoreAction> acts;
    core.tick(now, acts);
    take(acts, now);
    if (started) core.on_peer_fence_started();
    if (action) {
      if (*action == FenceAgentAction::off && !off_started) off_started = now;
      agent = std::pair{*action, now + milliseconds(300)};  // each agent call: 300 ms (an IPMI status/off)
    }
  }
};

// From `from`, each heartbeat write takes 1.99 s (< T: ok) to complete and lands either at once or only at its
// completion, in turn: the block then stands still for up to 2 x 1.99 s.
std::function<std::pair<Millis, Millis>(TimePoint)> alternating_slow_writes(TimePoint from) {
  auto count = std::make_shared<int>(0);
  return [count, from](TimePoint i) {
    if (i < from) return std::pair{Millis(1), Millis(1)};
    return ++*count % 2 ? std::pair{Millis(1), Millis(1990)} : std::pair{Millis(1990), Millis(1990)};
  };
}

// Both nodes step (b from 7 ms) until both started an `off`, or 40 s; then what each did.
std::string race(Node& a, Node& b) {
  for (int64_t t = 0; t < 40000; ++t) {
    if (t >= 7) b.step(at(t));
    a.step(at(t));
    if (a.off_started && b.off_started) break;
  }
  std::ostringstream m;
  for (Node* n : {&a, &b})
    m << (n == &a ? "alpha" : "; beta") << ": suspects from " << (n->suspected_at ? ms_of(*n->suspected_at) : -1)
      << " ms, `off` at " << (n->off_started ? ms_of(*n->off_started) : -1) << " ms, yielded " << n->yielded;
  return m.str();
}

}  // namespace

TEST_CASE("fence race: two nodes whose quorumds stall at once never both power each other off") {
  Disk disk;
  Node a(1, at(0), &disk), b(2, at(20), &disk);  // b's ticks run 20 ms after a's
  // Both quorumds stall together for 2.9 s (two nodes without a watchdog: watchdog_device = none with a
  // [fence] section), a's from 12100 ms, b's from 12120 ms. Each stall
  // keeps the node's "ok run": its last ok write was issued 3 s before the next (<= failing_after = 2T).
  a.paused = [](TimePoint t) { return t >= at(12100) && t < at(15000); };
  b.paused = [](TimePoint t) { return t >= at(12120) && t < at(15020); };
  // The first write after the stall takes 1.2 s (0.6 T: ok); every other I/O takes 1 ms (writes), 30 ms (reads).
  for (Node* n : {&a, &b})
    n->write_lat = [](TimePoint i) {
      return i >= at(14900) && i < at(15100) ? std::pair{Millis(1200), Millis(1200)} : std::pair{Millis(1), Millis(1)};
    };
  for (int64_t t = 0; t < 20000; ++t) {
    if (t >= 20) b.step(at(t));
    a.step(at(t));
    if (a.off_started && b.off_started) break;
  }
  REQUIRE(a.core.peer().seen_change());
  REQUIRE(b.core.peer().seen_change());
  MESSAGE("a may fence and suspects b from " << (a.suspected_at ? ms_of(*a.suspected_at) : -1) << " ms, starts `off` at "
          << (a.off_started ? ms_of(*a.off_started) : -1) << " ms; b from " << (b.suspected_at ? ms_of(*b.suspected_at) : -1)
          << " ms, `off` at " << (b.off_started ? ms_of(*b.off_started) : -1) << " ms");
  // Every write of both completed ok, within 600 ms; neither quorumd stalled for W; one coherent disk.
  CHECK_MESSAGE(!(a.off_started && b.off_started), "both nodes power each other off");
}

TEST_CASE("fence race: two watchdog nodes, each stalled less than W, never both power each other off") {
  // The same with nodes that have a watchdog (W = T = 2 s): each quorumd stalls 1969 ms after its last loop turn
  // (a pet at 12060 ms), so no watchdog fires. Both nodes tick in phase (12000 ms), reads take 2 ms.
  Disk disk;
  Node a(1, at(0), &disk), b(2, at(0), &disk);
  for (Node* n : {&a, &b}) {
    n->paused = [](TimePoint t) { return t >= at(12061) && t < at(14030); };
    n->own_read_lat = [](TimePoint i) {  // the own read of the last tick before the stall: a turn (and pet) at +60
      return i >= at(11990) && i < at(12010) ? std::pair{Millis(60), Millis(60)} : std::pair{Millis(2), Millis(2)};
    };
    n->read_lat = [](TimePoint i) {  // after 16.01 s the storage is slow to complete reads (1.5 s < T)
      return i >= at(16010) ? std::pair{Millis(1), Millis(1500)} : std::pair{Millis(2), Millis(2)};
    };
    n->write_lat = [](TimePoint i) {  // the first write after the stall: 1995 ms (< T: ok)
      return i >= at(14000) && i < at(14100) ? std::pair{Millis(1995), Millis(1995)} : std::pair{Millis(1), Millis(1)};
    };
  }
  for (int64_t t = 0; t < 20000; ++t) {
    a.step(at(t));
    b.step(at(t));
    if (a.off_started && b.off_started) break;
  }
  MESSAGE("a: may fence and suspects from " << (a.suspected_at ? ms_of(*a.suspected_at) : -1) << " ms, `off` at "
          << (a.off_started ? ms_of(*a.off_started) : -1) << " ms; b: from " << (b.suspected_at ? ms_of(*b.suspected_at) : -1)
          << " ms, `off` at " << (b.off_started ? ms_of(*b.off_started) : -1) << " ms");
  CHECK_MESSAGE(!(a.off_started && b.off_started), "both nodes power each other off");
}

TEST_CASE("fence race: with every LAN link cut (S = T), slow writes make both suspect; the fence intent leaves one") {
  // From 10 s every heartbeat write of both nodes takes 1.99 s (< T: ok) to complete, and lands either at once
  // or only at its completion, in turn: the block then stands still for up to 2 x 1.99 s > S = T. Both nodes
  // suspect each other (their writes all completed ok: both may fence). The intent is written as slowly.
  Disk disk;
  Node a(1, at(0), &disk), b(2, at(7), &disk);
  for (Node* n : {&a, &b}) {
    n->use_suspicion(kT);
    n->write_lat = alternating_slow_writes(at(10000));
  }
  MESSAGE(race(a, b));
  REQUIRE(a.suspected_at);  // the case is real: both suspect, both may fence
  REQUIRE(b.suspected_at);
  CHECK_MESSAGE(!(a.off_started && b.off_started), "both nodes power each other off");
}

TEST_CASE("fence race: a node whose quorumd freezes while its fence runs is not fenced back before its round ends") {
  // A LAN cut (S = T); alpha's writes are slow (as above), beta's fast: beta suspects alpha, announces, looks
  // and starts its fence -- and its quorumd freezes for 20 s right when it starts the `off` (its agent runs on
  // and powers alpha off). Alpha sees beta's block stand still and suspects it, but beta's block carries
  // beta's fence intent: alpha yields instead of powering beta off in return.
  Disk disk;
  Node a(1, at(0), &disk), b(2, at(7), &disk);
  a.use_suspicion(kT);
  b.use_suspicion(kT);
  a.write_lat = alternating_slow_writes(at(10000));
  b.paused = [&b](TimePoint t) { return b.off_started && t > *b.off_started && t < *b.off_started + milliseconds(20000); };
  MESSAGE(race(a, b));
  REQUIRE(b.off_started);    // beta fences alpha ...
  REQUIRE(a.suspected_at);   // ... and alpha suspects the frozen beta
  CHECK(a.suspected_at > b.off_started);
  CHECK_MESSAGE(!a.off_started, "alpha powers beta off while beta's fence of alpha runs");
  CHECK(a.yielded);
}
