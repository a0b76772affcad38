// Adversarial review of the fence intent (commit 2693457: announce on the disk, then look, instead of the second
// node's race delay). Two real QuorumCores and PowerFencers over one simulated coherent disk (every write lands
// atomically at one moment between its issue and its completion; a read returns what had landed at its sample
// moment, between its issue and its completion), 1 ms steps, wired as QuorumDaemon::fence_step does. Each case
// asserts the safe outcome: never both nodes starting an `off` of each other while both are powered (the two
// commands are then both on their way: total outage), never a DEAD verdict of a peer that is still powered,
// and a truly dead peer fenced within a bound.
//
// The fence agent of the rig: `status` says on (exit 0) while the target is powered, off (exit 2) after;
// `off` takes effect at its completion (the latest moment a BMC may act on it), and only if its sender is
// still powered then. A quorumd that is paused runs nothing, but its agent and its I/Os go on.

#include <doctest/doctest.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "agent/fence_agent.h"
#include "config/fence_config.h"
#include "quorumd/power_fencer.h"
#include "quorumd/quorum_core.h"
#include "tests/support/landed_heartbeats.h"

using namespace castor;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

TimePoint at(int64_t ms) { return TimePoint(milliseconds(1000000 + ms)); }
int64_t ms_of(std::optional<TimePoint> t) {
  return t ? std::chrono::duration_cast<milliseconds>(*t - at(0)).count() : -1;
}
using Lat = std::pair<Millis, Millis>;  // (land or sample after issue, completion after issue)

using Disk = test::LandedHeartbeats;  // tests/support/landed_heartbeats.h

struct World;

struct NodeOpts {
  Millis T{2000};
  Duration suspicion = Millis(2000);  // a LAN whose every link is cut: S = T
  int retries = 0;
  Duration agent_timeout = seconds(30);
  Duration settle = milliseconds(300);
  // The peer's round against this node, as this node's castor.ini knows it ([fence <this node>]); unset: the
  // same settings as this node's own device.
  std::optional<Duration> peer_round;
};

struct Node {
  struct Op {
    CoreActionKind kind;
    TimePoint issued, sample_or_land, complete;
    HeartbeatRecord record;
    bool fails = false;
  };
  uint32_t id;
  uint64_t incarnation;
  NodeOpts o;
  World* w;
  std::unique_ptr<QuorumCore> core;
  PowerFencer fencer;
  std::vector<Op> ops;
  bool crashed = false;  // quorumd gone for good (its I/Os still land)
  std::function<bool(TimePoint)> paused = [](TimePoint) { return false; };
  std::function<Lat(TimePoint)> write_lat = [](TimePoint) { return Lat{Millis(1), Millis(1)}; };
  std::function<bool(TimePoint)> write_fails = [](TimePoint) { return false; };
  std::function<Lat(TimePoint)> read_lat = [](TimePoint) { return Lat{Millis(30), Millis(30)}; };
  std::function<Lat(TimePoint)> own_read_lat;  // unset: read_lat
  std::function<bool(TimePoint)> peer_read_torn = [](TimePoint) { return false; };  // by sample moment
  std::function<Millis(FenceAgentAction, TimePoint)> agent_lat = [](FenceAgentAction, TimePoint) { return Millis(300); };
  struct Agent {
    FenceAgentAction action;
    TimePoint done;
    bool effect_applied = false;
    int exit_code = 0;
  };
  std::optional<Agent> agent;
  std::optional<TimePoint> off_started, first_announce, first_look, suspected_at, yielded_at, confirmed_at;
  int offs = 0;

  static CoreConfig cfg(uint32_t id, uint64_t inc, Millis T) {
    CoreConfig c;
    c.cluster_uuid.bytes[0] = 9;
    c.node_id = id;
    c.incarnation = inc;
    c.timing = *Timing::from_io_timeout(T);
    c.no_watchdog = true;  // D declares nothing: every DEAD verdict here comes from a fence
    return c;
  }
  static FenceDeviceConfig dev(uint32_t peer, const NodeOpts& o) {
    FenceDeviceConfig d;
    d.node = peer == 1 ? "alpha" : "beta";
    d.agent = "fence_ipmilan";
    d.retries = o.retries;
    d.timeout = o.agent_timeout;
    d.settle = o.settle;
    return d;
  }
  Node(uint32_t id_, uint64_t inc, TimePoint start, World* w_, NodeOpts opts)
      : id(id_), incarnation(inc), o(opts), w(w_), core(std::make_unique<QuorumCore>(cfg(id_, inc, o.T), start)),
        fencer(dev(id_ == 1 ? 2 : 1, o), o.T * 6) {
    core->set_suspicion_time(o.suspicion);
  }
  uint32_t peer() const { return id == 1 ? 2 : 1; }
  void take(const std::vector<CoreAction>& acts, TimePoint now);
  void step(TimePoint now);
  void fence_step(TimePoint now);
  void admin_fence(TimePoint now) {
    std::string why;
    REQUIRE(fencer.request("admin request (test)", why));
    fence_step(now);
  }
};

struct World {
  Disk disk;
  std::map<uint32_t, bool> powered{{1, true}, {2, true}};
  std::map<uint32_t, std::unique_ptr<Node>> node;
  std::vector<std::unique_ptr<Node>> gone;  // crashed lives: their I/Os in flight still land
  std::optional<std::string> bad_verdict;
  std::map<uint32_t, std::optional<TimePoint>> off_at;  // when each was powered off

  Node& make(uint32_t id, uint64_t inc, TimePoint start, NodeOpts o) {
    if (node[id]) {
      node[id]->crashed = true;
      gone.push_back(std::move(node[id]));
    }
    node[id] = std::make_unique<Node>(id, inc, start, this, o);
    return *node[id];
  }
  void step(TimePoint now) {
    for (auto& g : gone) g->step(now);
    for (uint32_t id : {1u, 2u})
      if (node[id]) node[id]->step(now);
  }
  bool both_off_started() const {
    return node.at(1) && node.at(2) && node.at(1)->off_started && node.at(2)->off_started;
  }
  std::string summary() const {
    std::string s;
    for (uint32_t id : {1u, 2u}) {
      const Node& n = *node.at(id);
      s += std::string(id == 1 ? "alpha" : "beta") + ": suspects " + std::to_string(ms_of(n.suspected_at)) +
           " announce " + std::to_string(ms_of(n.first_announce)) + " yield " + std::to_string(ms_of(n.yielded_at)) +
           " off " + std::to_string(ms_of(n.off_started)) + " confirmed " + std::to_string(ms_of(n.confirmed_at)) +
           " powered " + (powered.at(id) ? "yes" : "no (" + std::to_string(ms_of(off_at.at(id))) + ")") + " phase " +
           PowerFencer::phase_name(n.fencer.phase()) + " core " + core_phase_name(n.core->phase()) + " view " +
           std::to_string(int(n.core->peer().view())) +
           (n.fencer.last() ? " last: " + n.fencer.last()->reason + " -> " + n.fencer.last()->result : "") + "; ";
    }
    return s;
  }
};

void Node::take(const std::vector<CoreAction>& acts, TimePoint now) {
  for (const CoreAction& a : acts) {
    if (a.kind == CoreActionKind::write_heartbeat) {
      auto [land, done] = write_lat(now);
      ops.push_back({a.kind, now, now + land, now + done, a.record, write_fails(now)});
    } else if (a.kind == CoreActionKind::read_peer || a.kind == CoreActionKind::read_own) {
      auto [sample, done] = a.kind == CoreActionKind::read_own && own_read_lat ? own_read_lat(now) : read_lat(now);
      ops.push_back({a.kind, now, now + sample, now + done, {}});
    }
  }
}

void Node::step(TimePoint now) {
  // The storage serves what was issued whatever the host does now (a write already accepted lands).
  for (Op& op : ops)
    if (op.kind == CoreActionKind::write_heartbeat && op.sample_or_land == now && !op.fails)
      w->disk.land(id, now, op.record);
  if (crashed || !w->powered[id]) return;
  // The agent is a process of its own: it runs on (and its off takes effect) while quorumd is paused.
  if (agent && !agent->effect_applied && agent->done <= now) {
    agent->effect_applied = true;
    if (agent->action == FenceAgentAction::status) agent->exit_code = w->powered[peer()] ? 0 : 2;
    if (agent->action == FenceAgentAction::off) {
      agent->exit_code = 0;
      if (w->powered[peer()]) {
        w->powered[peer()] = false;
        w->off_at[peer()] = now;
      }
    }
  }
  if (paused(now)) return;
  std::vector<CoreAction> acts;
  for (size_t i = 0; i < ops.size();) {
    if (ops[i].complete > now) {
      ++i;
      continue;
    }
    Op op = ops[i];
    ops.erase(ops.begin() + long(i));
    std::vector<CoreAction> out;
    if (op.kind == CoreActionKind::write_heartbeat) {
      core->on_write_done(op.record.seq, op.issued, op.fails ? Status(Error(Code::io_error, "injected")) : Status::Ok(),
                          now, out);
    } else {
      const uint32_t whose = op.kind == CoreActionKind::read_own ? id : peer();
      auto v = w->disk.value(whose, op.sample_or_land);
      const bool torn = op.kind == CoreActionKind::read_peer && peer_read_torn(op.sample_or_land);
      Result<HeartbeatRecord> r = v && !torn ? Result<HeartbeatRecord>(*v)
                                             : Result<HeartbeatRecord>(Error(Code::corrupt, torn ? "torn" : "empty"));
      const uint32_t hash = torn ? uint32_t(0x70000000 + ms_of(op.sample_or_land)) : v ? 0u : 7u;
      if (op.kind == CoreActionKind::read_own) core->on_own_read(op.issued, r, Status::Ok(), now, out);
      else core->on_peer_read(op.issued, r, hash, Status::Ok(), now, out);
    }
    take(out, now);
  }
  core->tick(now, acts);
  take(acts, now);
  fence_step(now);
  if (core->peer().view() == PeerView::dead && w->powered[peer()] && !w->bad_verdict)
    w->bad_verdict = "node " + std::to_string(id) + " declared its still powered peer dead at " +
                     std::to_string(ms_of(now));
}

// As QuorumDaemon::fence_step (quorumd/power_fencing.cc), with the LAN cut.
void Node::fence_step(TimePoint now) {
  if (agent && agent->effect_applied) {
    AgentOutcome out;
    out.exit_code = agent->exit_code;
    out.elapsed = milliseconds(300);
    const FenceAgentAction act = agent->action;
    agent.reset();
    fencer.on_result(act, interpret_fence_outcome(act, out), now);
  }
  const PeerMonitor& pm = core->peer();
  FenceSituation s;
  s.may_fence = core->may_power_fence(now);
  s.suspected = core->peer_silent_for(o.suspicion);
  s.peer_gone = pm.view() == PeerView::down || pm.view() == PeerView::dead;
  s.peer_incarnation = pm.incarnation();
  s.worst_write_latency = core->worst_write_latency();
  s.look_clear = core->fence_look_clear();
  s.peer_value_age = now - pm.first_seen();
  s.suspicion = o.suspicion;
  s.peer_fence_window = core->fence_window();
  s.peer_round = o.peer_round ? *o.peer_round : (o.retries + 1) * 3 * o.agent_timeout;
  if (s.may_fence && s.suspected && !suspected_at) suspected_at = now;
  if (pm.view() == PeerView::up) fencer.peer_alive(pm.first_seen());
  bool started = false;
  const auto before = fencer.phase();
  const auto action = fencer.tick(s, now, 0, started);
  core->set_fence_intent(fencer.wants_intent(), now);
  if (fencer.phase() != before && fencer.phase() == PowerFencer::Phase::announcing && !first_announce)
    first_announce = now;
  if (fencer.phase() == PowerFencer::Phase::yielded && !yielded_at) yielded_at = now;
  if (started) core->on_peer_fence_started();
  if (auto settle_end = fencer.take_confirmed()) {
    core->on_peer_fenced(*settle_end, "sim");
    if (!confirmed_at) confirmed_at = now;
  }
  if (pm.value_fenced()) fencer.verdict_stood();
  else if (fencer.phase() == PowerFencer::Phase::settling && !pm.fence_pending()) fencer.verdict_dropped();
  if (action) {
    if (*action == FenceAgentAction::off) {
      ++offs;
      if (!off_started) off_started = now;
    }
    agent = Agent{*action, now + agent_lat(*action, now)};
  }
  std::vector<CoreAction> acts;
  core->tick(now, acts);
  take(acts, now);
}

// Writes of latency d that land at their issue or at their completion, in turn.
std::function<Lat(TimePoint)> alternating(TimePoint from, Millis d) {
  auto count = std::make_shared<int>(0);
  return [=](TimePoint i) {
    if (i < from) return Lat{Millis(1), Millis(1)};
    return ++*count % 2 ? Lat{Millis(1), d} : Lat{d, d};
  };
}

void run(World& w, int64_t until_ms, std::function<void(TimePoint)> each = {}) {
  for (int64_t t = 0; t < until_ms; ++t) {
    if (each) each(at(t));
    w.step(at(t));
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// 1. The peer's incarnation changes mid-handshake. alpha's quorumd crashes at 10 s and restarts at 11 s as life 0x777
// (its first write slow: 1.99 s < T). beta suspects alpha's old life 0x101 (S = T), announces an intent against
// 0x101 at 11.06 s, looks (alpha's block still holds 0x101's last record: clear) and starts `status` (3 s, a
// slow BMC) -- and its quorumd then freezes from 12 s to 14.5 s (no watchdog; lease and own-disk rule hold).
// The new life 0x777 sees beta's block change (the intent) and then stand still for S: it suspects beta,
// announces, looks, and beta's intent names 0x101, not 0x777: "no intent" -- alpha fences beta. beta wakes
// before that off lands, its reads still the old ones (alpha's old value: suspected), and powers alpha off too.
TEST_CASE("review16b: a restart of the peer mid-handshake (the intent names its previous life)") {
  World w;
  NodeOpts o;
  Node* a = &w.make(1, 0x101, at(0), o);
  Node& b = w.make(2, 0x102, at(0), o);
  b.paused = [&b](TimePoint t) {
    return b.off_started == std::nullopt && b.fencer.phase() == PowerFencer::Phase::probing && t < at(14500) &&
           t >= at(12000);
  };
  b.agent_lat = [](FenceAgentAction act, TimePoint) { return act == FenceAgentAction::status ? Millis(3000) : Millis(300); };
  run(w, 30000, [&](TimePoint t) {
    if (t == at(10000)) a->crashed = true;  // quorumd crashes (a process restart follows)
    if (t == at(11000)) {
      a = &w.make(1, 0x777, t, o);
      a->write_lat = [](TimePoint i) { return i < at(11050) ? Lat{Millis(1990), Millis(1990)} : Lat{Millis(1), Millis(1)}; };
    }
  });
  MESSAGE(w.summary());
  REQUIRE(b.first_announce);  // the case is real: beta fences alpha's crashed life
  CHECK_MESSAGE(!w.both_off_started(), "both nodes power each other off");
  CHECK_MESSAGE(!w.bad_verdict, *w.bad_verdict);
}

// 2. The stale bound is shorter than the time a frozen fencer may still start its off. T = 10 s, timeout_s = 1,
// retries 0: as of 2693457 the peer's intent is stale after S + 6 x 1 s = 16 s of standing still. beta's quorumd
// freezes (no watchdog) from 10 s to 15.1 s; alpha suspects it, announces, looks clear, starts `status` -- and
// freezes itself. beta wakes, sees alpha's intent stand still, yields, finds it stale 16 s after its first read
// of it and fences alpha; alpha wakes then (its lease F = 30 s valid, its last ok write 16.4 s old: within the
// own-disk rule's 2T = 20 s; its last reads show beta's old value: still suspected) and runs its `off` as well.
// "Had the peer been fencing us we would be off by now" does not hold: a peer may start an off up to 2T after
// its last ok write (QuorumCore::may_power_fence), not S + 2 rounds. Fix: the bound adds that window.
TEST_CASE("review16b: a fencer frozen between status and off, lease F longer than the stale bound") {
  World w;
  NodeOpts o;
  o.T = Millis(10000);
  o.suspicion = Millis(10000);
  o.agent_timeout = seconds(1);
  Node& a = w.make(1, 0x101, at(0), o);
  Node& b = w.make(2, 0x102, at(0), o);
  b.paused = [](TimePoint t) { return t >= at(10000) && t < at(15100); };
  // alpha freezes once its status has been handed out, until beta starts its off (at most 28 s: lease).
  std::optional<TimePoint> a_froze;
  a.paused = [&](TimePoint t) {
    if (!a_froze && a.fencer.phase() == PowerFencer::Phase::probing && t > at(5000)) a_froze = t;
    return a_froze && t > *a_froze && !b.off_started && t < *a_froze + milliseconds(28000);
  };
  run(w, 60000);
  MESSAGE(w.summary() << " alpha froze at " << ms_of(a_froze));
  REQUIRE(a.first_announce);
  CHECK_MESSAGE(!w.both_off_started(), "both nodes power each other off");
  CHECK_MESSAGE(!w.bad_verdict, *w.bad_verdict);
}

// 3. The stale bound is computed from this node's device (its timeout_s, retries), while the peer's round runs
// with the peer's device: here alpha's [fence beta] has timeout_s = 30 and beta's [fence alpha] timeout_s = 1,
// T = 2 s. alpha fences beta (beta's quorumd froze), its `off` is slow (20 s, within its 30 s) and alpha's
// quorumd freezes meanwhile (no watchdog). beta wakes, yields to alpha's intent, finds it stale after
// S + 6 s and powers alpha off while alpha's off of beta is still under way. Fix: the bound uses the longer of
// the two rounds, the peer's from this node's castor.ini ([fence <this node>]) when it has it.
TEST_CASE("review16b: the stale bound uses this node's device, not the peer's (asymmetric timeout_s)") {
  World w;
  NodeOpts oa, ob;
  ob.agent_timeout = seconds(1);
  ob.peer_round = 3 * oa.agent_timeout;  // castor.ini's [fence beta], as beta reads it too
  Node& a = w.make(1, 0x101, at(0), oa);
  Node& b = w.make(2, 0x102, at(0), ob);
  b.paused = [](TimePoint t) { return t >= at(10000) && t < at(13500); };
  a.agent_lat = [](FenceAgentAction act, TimePoint) { return act == FenceAgentAction::off ? Millis(20000) : Millis(300); };
  a.paused = [&](TimePoint t) { return a.off_started && t > *a.off_started; };
  run(w, 40000);
  MESSAGE(w.summary());
  REQUIRE(a.off_started);
  CHECK_MESSAGE(!w.both_off_started(), "both nodes power each other off");
  CHECK_MESSAGE(!w.bad_verdict, *w.bad_verdict);
}

// 4. An admin's `castor fence beta` on alpha while beta's automatic round against alpha runs: the admin round
// announces nothing and looks at nothing (by design), beta's look sees no intent. LAN cut, alpha's writes slow
// (beta suspects alpha); the admin types the command the moment beta starts its status.
// Broke as designed in 2693457 ("admin rounds skip announce/look"); holds since admin rounds announce and look
// too: alpha's look sees beta's intent and the admin's fence is refused.
TEST_CASE("review16b: castor fence on one node while the other's automatic round runs") {
  World w;
  NodeOpts o;
  Node& a = w.make(1, 0x101, at(0), o);
  Node& b = w.make(2, 0x102, at(7), o);
  a.write_lat = alternating(at(10000), Millis(1990));
  bool asked = false;
  run(w, 30000, [&](TimePoint t) {
    if (!asked && b.fencer.phase() == PowerFencer::Phase::probing && w.powered[1]) {
      asked = true;
      a.admin_fence(t);
    }
  });
  MESSAGE(w.summary());
  REQUIRE(asked);
  CHECK_MESSAGE(!w.both_off_started(), "both nodes power each other off");
}

// 5. A torn read at the look: beta's renewal overlaps alpha's look, the block reads torn ("no intent seen"). The
// torn bytes are a changed value, so alpha no longer suspects beta: no fence on that look.
TEST_CASE("review16b: a torn peer block at the look") {
  World w;
  NodeOpts o;
  Node& a = w.make(1, 0x101, at(0), o);
  Node& b = w.make(2, 0x102, at(7), o);
  for (Node* n : {&a, &b}) n->write_lat = alternating(at(10000), Millis(1990));
  // Every peer read whose sample falls in a window after one's own first announce reads torn.
  for (Node* n : {&a, &b})
    n->peer_read_torn = [n](TimePoint s) {
      return n->first_announce && s > *n->first_announce && s < *n->first_announce + milliseconds(3000);
    };
  run(w, 40000);
  MESSAGE(w.summary());
  REQUIRE((a.first_announce || b.first_announce));
  CHECK_MESSAGE(!w.both_off_started(), "both nodes power each other off");
  CHECK_MESSAGE(!w.bad_verdict, *w.bad_verdict);
}

// 6. Intent writes that fail, withdrawals that are slow: each node's writes fail once at the announce (the
// next one carries the intent again) and its withdrawal after a yield takes 1.99 s to land.
TEST_CASE("review16b: a failed intent write and a slow withdrawal") {
  World w;
  NodeOpts o;
  Node& a = w.make(1, 0x101, at(0), o);
  Node& b = w.make(2, 0x102, at(3), o);
  for (Node* n : {&a, &b}) {
    auto base = alternating(at(10000), Millis(1990));
    n->write_lat = [n, base](TimePoint i) {
      if (n->yielded_at && i >= *n->yielded_at && i < *n->yielded_at + milliseconds(5)) return Lat{Millis(1990), Millis(1990)};
      return base(i);
    };
    auto failed = std::make_shared<bool>(false);
    n->write_fails = [n, failed](TimePoint i) {
      if (*failed || !n->first_announce || i < *n->first_announce) return false;
      return *failed = true;
    };
  }
  run(w, 40000);
  MESSAGE(w.summary());
  CHECK_MESSAGE(!w.both_off_started(), "both nodes power each other off");
  CHECK_MESSAGE(!w.bad_verdict, *w.bad_verdict);
}

// 7. Liveness: alpha announces (it suspects a frozen beta) and its quorumd crashes right after its intent landed,
// before any BMC call; beta wakes, yields to the intent, and must fence alpha once the intent is stale. How
// long: S + 2 x (retries + 1) x 3 x timeout_s (+ the fence window 2T with the fix) after beta first read that
// value. With timeout_s = 2, retries 0: 2 + 12 (+ 4) s. With the defaults (30 s, 1 retry) that is 6 min 2 s (+ 2T)
// -- for a peer without a watchdog; one with a watchdog is declared dead on D = 6T before that.
TEST_CASE("review16b: a peer that died with its intent on disk is fenced once the intent is stale") {
  World w;
  NodeOpts o;
  o.agent_timeout = seconds(2);
  Node& a = w.make(1, 0x101, at(0), o);
  Node& b = w.make(2, 0x102, at(0), o);
  b.paused = [](TimePoint t) { return t >= at(10000) && t < at(13000); };
  std::optional<TimePoint> crash;
  run(w, 45000, [&](TimePoint t) {
    if (!crash && a.core->fence_look_clear()) {  // its intent is on disk, the look is back: it dies now
      crash = t;
      a.crashed = true;
    }
  });
  MESSAGE(w.summary() << " alpha crashed at " << ms_of(crash));
  REQUIRE(crash);
  CHECK(b.yielded_at);
  REQUIRE(b.confirmed_at);
  CHECK(!w.powered[1]);
  // beta was frozen when alpha crashed: its first read of alpha's value is 2 s later; then the bound (S = 2 s, the
  // fence window 2T = 4 s, 2 x 3 x 2 s) and one round.
  CHECK(*b.confirmed_at - *crash <= seconds(2 + 2 + 4 + 12 + 2));
}

// 8. Liveness: a peer that is simply dead (no intent) is fenced after S and one announce + look.
TEST_CASE("review16b: a crashed peer is fenced within S plus the handshake") {
  World w;
  NodeOpts o;
  Node& a = w.make(1, 0x101, at(0), o);
  Node& b = w.make(2, 0x102, at(3), o);
  run(w, 20000, [&](TimePoint t) {
    if (t == at(10000)) a.crashed = true;
  });
  MESSAGE(w.summary());
  REQUIRE(b.off_started);
  CHECK(*b.off_started - at(10000) <= milliseconds(2000 + 1000 + 500));
  CHECK(!w.powered[1]);
}

// 9. A sweep: both nodes' quorumds pause at every phase of the handshake (before/after the announce, between the
// look and the status, during the round), writes and reads slow (< T) with landing and sampling anywhere
// between issue and completion, a LAN cut (S = T), and sometimes a restart of one node. Seeded: reproducible.
TEST_CASE("review16b: randomized schedules on one coherent disk") {
  std::mt19937_64 rng(16016);
  int both = 0, bad = 0, fenced = 0;
  std::string first_both;
  for (int run_no = 0; run_no < 300; ++run_no) {
    World w;
    NodeOpts o;
    o.agent_timeout = seconds(1);
      Node* nodes[3] = {nullptr, nullptr, nullptr};
    auto rnd = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
    const int64_t restart_at = rnd(0, 3) == 0 ? rnd(9000, 16000) : -1;
    const uint32_t restarter = uint32_t(rnd(1, 2));
    auto setup = [&](Node& n) {
      auto r = std::make_shared<std::mt19937_64>(rng());
      const int64_t slow_from = rnd(8000, 12000);
      n.write_lat = [r, slow_from](TimePoint i) {
        if (i < at(slow_from)) return Lat{Millis(1), Millis(1)};
        const int64_t d = std::uniform_int_distribution<int64_t>(1, 1990)(*r);
        return Lat{Millis(std::uniform_int_distribution<int64_t>(1, d)(*r)), Millis(d)};
      };
      n.read_lat = [r, slow_from](TimePoint i) {
        if (i < at(slow_from)) return Lat{Millis(2), Millis(2)};
        const int64_t d = std::uniform_int_distribution<int64_t>(1, 1500)(*r);
        return Lat{Millis(std::uniform_int_distribution<int64_t>(0, d)(*r)), Millis(d)};
      };
      // Two pauses: one at a fixed time, one triggered by a fencer phase.
      const int64_t p0 = rnd(9000, 16000), d0 = rnd(0, 4000), d1 = rnd(0, 4500);
      const int phase = int(rnd(0, 4));
      auto trig = std::make_shared<std::optional<TimePoint>>();
      Node* np = &n;
      n.paused = [=](TimePoint t) {
        if (t >= at(p0) && t < at(p0 + d0)) return true;
        const auto ph = np->fencer.phase();
        const bool hit = (phase == 0 && ph == PowerFencer::Phase::announcing) ||
                         (phase == 1 && np->core->fence_look_clear().has_value()) ||
                         (phase == 2 && ph == PowerFencer::Phase::probing) ||
                         (phase == 3 && ph == PowerFencer::Phase::powering_off) ||
                         (phase == 4 && ph == PowerFencer::Phase::yielded);
        if (!*trig && hit) *trig = t;
        return *trig && t > **trig && t < **trig + milliseconds(d1);
      };
      n.agent_lat = [r](FenceAgentAction, TimePoint) {
        return Millis(std::uniform_int_distribution<int64_t>(50, 900)(*r));
      };
    };
    nodes[1] = &w.make(1, 0x101, at(0), o);
    nodes[2] = &w.make(2, 0x102, at(0), o);
    setup(*nodes[1]);
    setup(*nodes[2]);
    run(w, 30000, [&](TimePoint t) {
      if (restart_at >= 0 && t == at(restart_at) && w.powered[restarter]) {
        nodes[restarter] = &w.make(restarter, 0x900 + uint64_t(run_no), t, o);
        setup(*nodes[restarter]);
      }
    });
    if (w.both_off_started()) {
      if (!both++) first_both = "run " + std::to_string(run_no) + ": " + w.summary();
    }
    if (w.bad_verdict) ++bad;
    if (!w.powered[1] || !w.powered[2]) ++fenced;
  }
  MESSAGE("300 runs: " << fenced << " with a fence, " << both << " with both offs, " << bad << " bad verdicts; "
                       << first_both);
  CHECK(both == 0);
  CHECK(bad == 0);
}
