// The fence intent (issue 16; docs/design.md "Power fencing"): before a node asks its BMC to power its peer
// off, it announces the fence on its own heartbeat block, and looks at the peer's block with a read issued
// after that write is on disk; it yields to an intent of the peer against its own life. Here the two halves:
// QuorumCore writes the flag and answers the look only from such a read; PowerFencer announces, fences on a
// clear look, yields otherwise, and gets past a stale intent. fence_race_test.cc drives both together.
#include <doctest/doctest.h>

#include <vector>

#include "agent/fence_agent.h"
#include "config/fence_config.h"
#include "quorumd/power_fencer.h"
#include "quorumd/quorum_core.h"

using namespace castor;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

CoreConfig core_config() {
  CoreConfig c;
  c.cluster_uuid.bytes[0] = 5;
  c.node_id = 1;
  c.incarnation = 0x111;
  c.timing = *Timing::from_io_timeout(Millis(200));
  return c;
}

HeartbeatRecord peer_record(uint64_t seq, uint16_t flags = 0, uint64_t about = 0x111) {
  HeartbeatRecord r;
  r.cluster_uuid = core_config().cluster_uuid;
  r.node_id = 2;
  r.incarnation = 0x222;
  r.seq = seq;
  r.peer_view = PeerView::up;
  r.peer_incarnation = about;
  r.flags = flags;
  return r;
}

const CoreAction* find(const std::vector<CoreAction>& acts, CoreActionKind k) {
  for (const CoreAction& a : acts)
    if (a.kind == k) return &a;
  return nullptr;
}

// The core's first write done and the peer read once: it is up, with a lease, and the peer is UP.
struct Rig {
  TimePoint t{seconds(500)};
  QuorumCore core{core_config(), t};
  Rig() {
    std::vector<CoreAction> acts, more;
    core.tick(t, acts);
    const CoreAction* w = find(acts, CoreActionKind::write_heartbeat);
    REQUIRE(w);
    core.on_write_done(w->record.seq, t, Status::Ok(), t + milliseconds(1), more);
    core.on_peer_read(t, peer_record(1), 0, Status::Ok(), t + milliseconds(2), more);
    t += milliseconds(10);
  }
  // Announces (or withdraws) and returns the write the core asks for at once.
  HeartbeatRecord intent(bool on) {
    core.set_fence_intent(on, t);
    std::vector<CoreAction> acts;
    core.tick(t, acts);
    const CoreAction* w = find(acts, CoreActionKind::write_heartbeat);
    REQUIRE(w);
    return w->record;
  }
  // That write completes ok at t + 50 ms: returns whether the core asked for the look (a read of the peer).
  bool written(const HeartbeatRecord& w) {
    t += milliseconds(50);
    std::vector<CoreAction> acts;
    core.on_write_done(w.seq, t - milliseconds(50), Status::Ok(), t, acts);
    return find(acts, CoreActionKind::read_peer) != nullptr;
  }
  void peer_read(TimePoint issued, const Result<HeartbeatRecord>& r) {
    std::vector<CoreAction> acts;
    core.on_peer_read(issued, r, 0, Status::Ok(), t + milliseconds(1), acts);
  }
};

FenceDeviceConfig device(int retries = 0, Duration timeout = seconds(30)) {
  FenceDeviceConfig d;
  d.node = "beta";
  d.agent = "fence_ipmilan";
  d.retries = retries;
  d.timeout = timeout;
  return d;
}

}  // namespace

TEST_CASE("fence intent: the core writes it at once and answers the look only from a read issued after it landed") {
  Rig r;
  const HeartbeatRecord w = r.intent(true);
  CHECK((w.flags & HeartbeatRecord::kFenceIntent) != 0);
  CHECK(w.peer_incarnation == 0x222);
  CHECK(!r.core.fence_look_clear());
  // A read issued before the intent completed shows the peer's intent: it answers nothing (the peer's look
  // may have missed ours, and ours must come after our write).
  r.peer_read(r.t, peer_record(2, HeartbeatRecord::kFenceIntent));
  CHECK(!r.core.fence_look_clear());
  REQUIRE(r.written(w));  // the look is asked for at the completion
  r.peer_read(r.t, peer_record(2));
  REQUIRE(r.core.fence_look_clear());
  CHECK(*r.core.fence_look_clear());
  // The intent stays in every write while set.
  r.t += milliseconds(200);
  std::vector<CoreAction> acts;
  r.core.tick(r.t, acts);
  if (const CoreAction* next = find(acts, CoreActionKind::write_heartbeat))
    CHECK((next->record.flags & HeartbeatRecord::kFenceIntent) != 0);
}

TEST_CASE("fence intent: the peer's own intent against this life makes the look unclear; withdrawn, the flag goes") {
  Rig r;
  HeartbeatRecord w = r.intent(true);
  REQUIRE(r.written(w));
  r.peer_read(r.t, peer_record(3, HeartbeatRecord::kFenceIntent));
  REQUIRE(r.core.fence_look_clear());
  CHECK(!*r.core.fence_look_clear());
  // Withdrawn: the next write (at once) carries no intent, and the look is forgotten.
  w = r.intent(false);
  CHECK((w.flags & HeartbeatRecord::kFenceIntent) == 0);
  CHECK(!r.core.fence_look_clear());
  r.written(w);
  r.peer_read(r.t, peer_record(3));
  CHECK(!r.core.fence_look_clear());  // no intent, no look
  // An intent against another life of this node counts too: the peer's BMC powers this machine off whatever
  // life it meant (review16b_fence_intent_test.cc, a restart mid-handshake); a corrupt block shows none (a
  // changed value: the peer is no longer suspected on that look).
  w = r.intent(true);
  REQUIRE(r.written(w));
  r.peer_read(r.t, peer_record(4, HeartbeatRecord::kFenceIntent, 0x110));
  REQUIRE(r.core.fence_look_clear());
  CHECK(!*r.core.fence_look_clear());
  r.written(r.intent(false));
  r.peer_read(r.t, peer_record(4));  // a periodic read asked meanwhile
  w = r.intent(true);
  REQUIRE(r.written(w));
  r.peer_read(r.t, Result<HeartbeatRecord>(Error(Code::corrupt, "torn")));
  REQUIRE(r.core.fence_look_clear());
  CHECK(*r.core.fence_look_clear());
}

TEST_CASE("fence intent: a failed intent write answers no look") {
  Rig r;
  const HeartbeatRecord w = r.intent(true);
  std::vector<CoreAction> acts;
  r.core.on_write_done(w.seq, r.t, Status(Error(Code::io_error, "injected")), r.t + milliseconds(50), acts);
  CHECK(!find(acts, CoreActionKind::read_peer));
  r.peer_read(r.t + milliseconds(60), peer_record(2));
  CHECK(!r.core.fence_look_clear());
}

TEST_CASE("power fencer: announces before the BMC, fences on a clear look, yields to the peer's intent") {
  PowerFencer f(device(), seconds(10));
  TimePoint t{seconds(100)};
  bool started = false;
  FenceSituation s{true, true, false, 7, {}};
  s.suspicion = seconds(2);
  s.peer_value_age = seconds(3);
  CHECK(!f.tick(s, t, 0, started));  // no look yet: nothing asked of the BMC
  CHECK(f.phase() == PowerFencer::Phase::announcing);
  CHECK(f.wants_intent());
  CHECK(!started);
  // The peer announced first: yield, withdraw, and stay yielded while its value stands.
  s.look_clear = false;
  CHECK(!f.tick(s, t + milliseconds(20), 0, started));
  CHECK(f.phase() == PowerFencer::Phase::yielded);
  CHECK(!f.wants_intent());
  s.look_clear.reset();  // the daemon withdrew the intent: the core forgot the look
  s.peer_value_age = seconds(60);
  CHECK(!f.tick(s, t + seconds(57), 0, started));
  CHECK(f.phase() == PowerFencer::Phase::yielded);
  f.peer_alive(t - seconds(1));  // the same value
  CHECK(f.phase() == PowerFencer::Phase::yielded);
  f.peer_alive(t + seconds(58));  // a new value: its round is over, the rules start again
  CHECK(f.phase() == PowerFencer::Phase::idle);
  // Silent again, a clear look: the round starts (status first), and the intent stays while it runs.
  s.peer_value_age = seconds(3);
  CHECK(!f.tick(s, t + seconds(70), 0, started));
  s.look_clear = true;
  CHECK(f.tick(s, t + seconds(70), 0, started) == FenceAgentAction::status);
  CHECK(started);
  CHECK(f.wants_intent());
  f.on_result(FenceAgentAction::status, {FenceVerdict::power_on, "on"}, t + seconds(71));
  CHECK(f.tick(s, t + seconds(71), 0, started) == FenceAgentAction::off);
  CHECK(f.wants_intent());
  f.on_result(FenceAgentAction::off, {FenceVerdict::failed, "unreachable"}, t + seconds(72));
  CHECK(f.phase() == PowerFencer::Phase::failed);
  CHECK(!f.wants_intent());
}

TEST_CASE("power fencer: an intent of the peer whose value stood still past its whole round is stale") {
  PowerFencer f(device(1, seconds(20)), seconds(10));
  TimePoint t{seconds(100)};
  bool started = false;
  FenceSituation s{true, true, false, 7, {}};
  s.suspicion = seconds(2);
  CHECK(f.stale_intent_after(s) == seconds(2) + 2 * 2 * 3 * seconds(20));
  s.look_clear = false;
  s.peer_value_age = f.stale_intent_after(s) - milliseconds(1);
  CHECK(!f.tick(s, t, 0, started));
  CHECK(f.phase() == PowerFencer::Phase::yielded);
  s.look_clear.reset();
  s.peer_value_age += milliseconds(1);
  CHECK(!f.tick(s, t + milliseconds(1), 0, started));
  CHECK(f.phase() == PowerFencer::Phase::idle);  // looks again
  s.look_clear = false;                          // the same intent, now stale: fenced
  CHECK(f.tick(s, t + milliseconds(2), 0, started) == FenceAgentAction::status);
  CHECK(started);
  REQUIRE(f.current());
  CHECK(f.current()->reason.find("stale") != std::string::npos);
}

TEST_CASE("power fencer: an admin's fence announces and looks too; --force fences without") {
  TimePoint t{seconds(100)};
  bool started = false;
  std::string why;
  FenceSituation quiet{true, false, false, 7, {}};  // not suspected: an admin needs no suspicion
  quiet.peer_fence_window = seconds(4);
  quiet.suspicion = seconds(2);
  SUBCASE("a clear look: fenced") {
    PowerFencer f(device(), seconds(10));
    REQUIRE(f.request("admin request (test)", why));
    CHECK(!f.tick(quiet, t, 0, started));
    CHECK(f.phase() == PowerFencer::Phase::announcing);
    CHECK(f.wants_intent());
    quiet.look_clear = true;
    CHECK(f.tick(quiet, t + milliseconds(5), 0, started) == FenceAgentAction::status);
    CHECK(started);
    CHECK(f.wants_intent());  // kept while the round runs: the peer sees it and yields
  }
  SUBCASE("the peer announced a fence of this node: refused, reported") {
    PowerFencer f(device(), seconds(10));
    REQUIRE(f.request("admin request (test)", why));
    quiet.look_clear = false;
    quiet.peer_value_age = seconds(1);
    CHECK(!f.tick(quiet, t, 0, started));
    CHECK(!started);
    CHECK(f.phase() == PowerFencer::Phase::idle);
    REQUIRE(f.last());
    CHECK(!f.last()->confirmed);
    CHECK(f.last()->result.find("announced a fence of this node") != std::string::npos);
  }
  SUBCASE("no look in the peer's fence window: refused") {
    PowerFencer f(device(), seconds(10));
    REQUIRE(f.request("admin request (test)", why));
    CHECK(!f.tick(quiet, t, 0, started));
    CHECK(f.next_wakeup() == t + seconds(4));
    CHECK(!f.tick(quiet, t + seconds(4), 0, started));
    CHECK(f.phase() == PowerFencer::Phase::idle);
    REQUIRE(f.last());
    CHECK(f.last()->result.find("--force") != std::string::npos);
  }
  SUBCASE("--force: no announce") {
    PowerFencer f(device(), seconds(10));
    REQUIRE(f.request("admin request (test)", why, false));
    CHECK(f.tick(quiet, t, 0, started) == FenceAgentAction::status);
    CHECK(started);
    CHECK(!f.wants_intent());
  }
}
