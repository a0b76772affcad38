// QuorumCore as the daemon drives it, on the peer side: the transitions it reports and the confirmation it
// exposes (PeerMonitor::confirmed_read_issued, the table-peer reply's confirmed_boottime_ns) follow the
// rules of issue 12 items 5 and 6 — late writes of replaced or earlier lives and undecodable blocks never
// yield a DOWN nor re-confirm a verdict; a new life fences when its previous life's late write lands over
// its own records.
#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include "quorumd/quorum_core.h"
#include "svcmgr/peer_request_rule.h"
#include "svcmgr/started_mark_rule.h"

using namespace castor;

namespace {

struct CoreRig {
  CoreConfig config() {
    CoreConfig c;
    c.cluster_uuid.bytes[0] = 7;
    c.node_id = 1;
    c.incarnation = 0x111;
    c.timing = *Timing::from_io_timeout(Millis(200));
    return c;
  }
  TimePoint t{std::chrono::seconds(1000)};
  QuorumCore core{config(), t};
  bool writes_fail = false;  // this node's heartbeat writes fail (its path, or the whole storage, stalls)

  HeartbeatRecord peer(uint64_t inc, uint64_t seq, NodeState st = NodeState::up) {
    HeartbeatRecord r;
    r.cluster_uuid = core.config().cluster_uuid;
    r.node_id = 2;
    r.incarnation = inc;
    r.seq = seq;
    r.state = st;
    return r;
  }
  // Heartbeat writes the core asks for complete ok 1 ms later; returns the peer transition reported, if any.
  std::optional<PeerTransition> run(std::vector<CoreAction> acts) {
    std::optional<PeerTransition> seen;
    while (!acts.empty()) {
      std::vector<CoreAction> more;
      for (auto& a : acts) {
        if (a.kind == CoreActionKind::peer_changed) seen = a.peer;
        if (a.kind == CoreActionKind::write_heartbeat)
          core.on_write_done(a.record.seq, t, writes_fail ? Status(Error(Code::timeout, "injected: the write passed its deadline")) : Status::Ok(),
                             t + Millis(1), more);
      }
      acts.swap(more);
    }
    return seen;
  }
  // Time passes with the core renewing its lease.
  void pass(Duration d) {
    const TimePoint end = t + d;
    while (t < end) {
      t += Millis(20);
      std::vector<CoreAction> acts;
      core.tick(t, acts);
      run(acts);
    }
  }
  // One read of the peer's block issued now, completing 1 ms later; returns the transition reported, if any.
  std::optional<PeerTransition> read_peer(const Result<HeartbeatRecord>& r, uint32_t hash = 0) {
    std::vector<CoreAction> acts;
    core.on_peer_read(t, r, hash, Status::Ok(), t + Millis(1), acts);
    auto seen = run(acts);
    pass(Millis(100));
    return seen;
  }
  bool fenced() const { return core.phase() == CorePhase::fenced; }
  // The first write completes ok: the core has a lease.
  void first_write() { pass(Millis(20)); }
};

}  // namespace

TEST_CASE("quorum core: the peer's late DOWN of a replaced incarnation is reported as no DOWN") {
  CoreRig r;
  r.first_write();
  r.read_peer(r.peer(0xA, 1));
  r.read_peer(r.peer(0xA, 2));
  r.read_peer(r.peer(0xB, 1));  // the peer restarted
  REQUIRE(r.core.peer().view() == PeerView::up);
  auto t = r.read_peer(r.peer(0xA, 3, NodeState::down));
  CHECK_FALSE(t.has_value());
  CHECK(r.core.peer().view() == PeerView::up);
  CHECK(r.core.peer().incarnation() == 0xB);
  CHECK_FALSE(r.fenced());
}

TEST_CASE("quorum core: corrupt peer blocks under a DEAD verdict never re-confirm it") {
  CoreRig r;
  r.first_write();
  r.read_peer(r.peer(0xA, 1));
  r.read_peer(r.peer(0xA, 2));
  r.pass(r.core.config().timing.dead);
  const TimePoint verdict = r.t;
  auto t = r.read_peer(r.peer(0xA, 2));
  REQUIRE(t.has_value());
  REQUIRE(t->to == PeerView::dead);
  CHECK(r.core.peer().confirmed_read_issued() == verdict);
  // The peer's block changes to values that do not decode (a new life's torn first write, bad sectors).
  const Result<HeartbeatRecord> bad = Error(Code::corrupt, "bad CRC");
  for (uint32_t h = 1; h <= 5; ++h) r.read_peer(bad, h);
  CHECK(r.core.peer().view() == PeerView::dead);
  CHECK(r.core.peer().confirmed_read_issued() == verdict);
  CHECK(r.core.peer().last_read_issued() > verdict);
  // The core schedules a read at the moment the new value could confirm again.
  REQUIRE(r.core.peer().dead_deadline().has_value());
  CHECK(r.core.next_wakeup() <= *r.core.peer().dead_deadline());
}

TEST_CASE("quorum core: a previous life's late write over a new life's records fences the new life") {
  CoreRig r;
  // Before the new life's first write completed, its block may hold the previous life's record: no fence.
  HeartbeatRecord prev = r.peer(0x110, 40);
  prev.node_id = 1;
  std::vector<CoreAction> out;
  r.core.on_own_read(r.t, prev, Status::Ok(), r.t + Millis(1), out);
  r.run(out);
  CHECK_FALSE(r.fenced());
  r.first_write();
  REQUIRE(r.core.may_act(r.t));
  // After it, the previous life's write still in flight lands: another writer on my block.
  out.clear();
  r.core.on_own_read(r.t, prev, Status::Ok(), r.t + Millis(1), out);
  CHECK(r.fenced());
  CHECK_FALSE(r.core.may_act(r.t));
}

TEST_CASE("quorum core: a peer is suspected for a power fence only once seen alive, after its silence") {
  CoreRig r;
  r.first_write();
  const Duration S = Millis(200);
  // Never seen changing (a peer still booting, or dead before this core): UNKNOWN is never suspected.
  r.read_peer(r.peer(0xA, 1));
  r.pass(Millis(400));
  r.read_peer(r.peer(0xA, 1));
  CHECK(r.core.peer().view() == PeerView::unknown);
  CHECK(!r.core.peer_silent_for(S));
  // Seen alive, then silent: suspected once a read issued S after the first read of the value returns it.
  r.read_peer(r.peer(0xA, 2));
  CHECK(r.core.peer().view() == PeerView::up);
  CHECK(!r.core.peer_silent_for(S));
  r.read_peer(r.peer(0xA, 2));  // 100 ms later
  CHECK(!r.core.peer_silent_for(S));
  r.read_peer(r.peer(0xA, 2));  // issued 200 ms after the first read of seq 2, which completed 1 ms after it
  CHECK(!r.core.peer_silent_for(S));
  r.read_peer(r.peer(0xA, 2));  // 300 ms
  CHECK(r.core.peer_silent_for(S));
  CHECK(r.core.may_power_fence(r.t));
  // A change clears it.
  r.read_peer(r.peer(0xA, 3));
  CHECK(!r.core.peer_silent_for(S));
}

TEST_CASE("quorum core: after a shared storage stall the peer's old value is no suspicion; a path of its own is") {
  const Duration S = Millis(400);  // 2T
  SUBCASE("both nodes' writes failed: the peer's value stood still while mine could not be written either") {
    CoreRig r;
    r.first_write();
    r.read_peer(r.peer(0xA, 1));
    r.read_peer(r.peer(0xA, 2));  // UP
    r.writes_fail = true;         // the storage stalls for both: the peer's writes do not land either
    r.pass(Millis(300));
    r.writes_fail = false;        // it comes back; my writes land first
    r.pass(Millis(100));
    REQUIRE(r.core.may_power_fence(r.t));  // lease valid (F = 600 ms), last write ok: the rule of the lease holds
    r.read_peer(r.peer(0xA, 2));  // the peer's first write since the stall is not there yet
    CHECK(r.core.peer().last_read_issued() >= r.core.peer().first_seen() + S);
    CHECK_FALSE(r.core.peer_silent_for(S));  // not suspected: my disk did not work all that time either
    r.read_peer(r.peer(0xA, 3));  // the peer's write lands: it lives
    CHECK_FALSE(r.core.peer_silent_for(S));
  }
  SUBCASE("only the peer's path failed: my writes worked throughout, so its silence counts") {
    CoreRig r;
    r.first_write();
    r.read_peer(r.peer(0xA, 1));
    r.read_peer(r.peer(0xA, 2));
    for (int i = 0; i < 4; ++i) r.read_peer(r.peer(0xA, 2));
    CHECK_FALSE(r.core.peer_silent_for(S));  // the last read was issued 400 ms after the first, 1 ms short of S
    r.read_peer(r.peer(0xA, 2));
    CHECK(r.core.may_power_fence(r.t));
    CHECK(r.core.peer_silent_for(S));
  }
  SUBCASE("my own stall after the peer's last change: the silence does not count until the value changes") {
    CoreRig r;
    r.first_write();
    r.read_peer(r.peer(0xA, 1));
    r.read_peer(r.peer(0xA, 2));
    r.writes_fail = true;
    r.pass(Millis(100));
    r.writes_fail = false;
    for (int i = 0; i < 6; ++i) r.read_peer(r.peer(0xA, 2));
    CHECK_FALSE(r.core.peer_silent_for(S));  // the dead time D decides for a peer silent since before my stall
    r.read_peer(r.peer(0xA, 3));              // a change: counted from here, my disk working throughout
    for (int i = 0; i < 5; ++i) r.read_peer(r.peer(0xA, 3));
    CHECK(r.core.peer_silent_for(S));
  }
}

TEST_CASE("quorum core: with a suspicion time, a read of the peer is scheduled when its silence reaches it") {
  CoreRig r;
  r.core.set_suspicion_time(Millis(130));
  r.first_write();
  r.read_peer(r.peer(0xA, 1));
  r.read_peer(r.peer(0xA, 2));  // UP; seq 2 first seen at the completion of this read
  const TimePoint first = r.core.peer().first_seen();
  {  // the periodic read the rig's ticks issued meanwhile completes, unchanged, before the suspicion time
    std::vector<CoreAction> a0;
    r.core.on_peer_read(r.t, r.peer(0xA, 2), 0, Status::Ok(), r.t + Millis(1), a0);
  }
  REQUIRE(r.t < first + Millis(130));
  CHECK(r.core.next_wakeup() <= first + Millis(130));
  std::vector<CoreAction> acts;
  r.core.tick(first + Millis(130), acts);
  CHECK(std::count_if(acts.begin(), acts.end(), [](const CoreAction& a) { return a.kind == CoreActionKind::read_peer; }) == 1);
}

TEST_CASE("quorum core: a node without a watchdog (power fence only) says so in every heartbeat") {
  for (bool nowd : {false, true}) {
    CoreRig r;
    CoreConfig c = r.config();
    c.no_watchdog = nowd;
    QuorumCore core(c, r.t);
    std::vector<CoreAction> acts;
    core.tick(r.t + Millis(20), acts);
    auto w = std::find_if(acts.begin(), acts.end(), [](const CoreAction& a) { return a.kind == CoreActionKind::write_heartbeat; });
    REQUIRE(w != acts.end());
    CHECK(((w->record.flags & HeartbeatRecord::kNoWatchdog) != 0) == nowd);
  }
}

TEST_CASE("quorum core: a request for the peer rides every heartbeat until the peer's says it was handled") {
  CoreRig r;
  r.first_write();
  // The heartbeats the core writes from now on, as the peer would read them.
  auto next_written = [&] {
    std::optional<HeartbeatRecord> out;
    for (int i = 0; i < 50 && !out; ++i) {
      r.t += Millis(20);
      std::vector<CoreAction> acts;
      r.core.tick(r.t, acts);
      for (auto& a : acts)
        if (a.kind == CoreActionKind::write_heartbeat) out = a.record;
      r.run(acts);
    }
    REQUIRE(out.has_value());
    return *out;
  };
  HeartbeatRecord hb = next_written();
  CHECK(hb.peer_request == PeerRequest::none);
  CHECK(hb.peer_request_serial == 0);
  CHECK((hb.features & HeartbeatRecord::kTakesPeerRequests) == 0);  // no service manager said it acts on them
  r.core.set_takes_peer_requests(true);
  CHECK((next_written().features & HeartbeatRecord::kTakesPeerRequests) != 0);

  const uint64_t serial = r.core.set_peer_request(PeerRequest::standby);
  CHECK(serial > hb.seq);  // above every write this life issued: never one the peer handled before
  hb = next_written();
  CHECK(hb.peer_request == PeerRequest::standby);
  CHECK(hb.peer_request_serial == serial);

  // The peer handled another life's request with that serial, or an older one of this life: still asked.
  HeartbeatRecord p = r.peer(0x222, 5);
  p.handled_request_incarnation = 0x999;
  p.handled_request_serial = serial;
  r.read_peer(p);
  CHECK(next_written().peer_request == PeerRequest::standby);
  p = r.peer(0x222, 6);
  p.handled_request_incarnation = 0x111;
  p.handled_request_serial = serial - 1;
  r.read_peer(p);
  CHECK(next_written().peer_request == PeerRequest::standby);

  // A later request replaces it; the ack of the first does not take the second down.
  const uint64_t second = r.core.set_peer_request(PeerRequest::unstandby);
  CHECK(second > serial);
  p = r.peer(0x222, 7);
  p.handled_request_incarnation = 0x111;
  p.handled_request_serial = serial;
  r.read_peer(p);
  hb = next_written();
  CHECK(hb.peer_request == PeerRequest::unstandby);
  CHECK(hb.peer_request_serial == second);

  // The peer's heartbeat names this life and the serial: the request is taken down.
  p = r.peer(0x222, 8);
  p.handled_request_incarnation = 0x111;
  p.handled_request_serial = second;
  r.read_peer(p);
  hb = next_written();
  CHECK(hb.peer_request == PeerRequest::none);
  CHECK(hb.peer_request_serial == 0);

  // What this node handled of the peer's requests is published in every heartbeat.
  r.core.set_handled_peer_request(0x222, 44);
  hb = next_written();
  CHECK(hb.handled_request_incarnation == 0x222);
  CHECK(hb.handled_request_serial == 44);

  // A node leaving asks nothing of its peer (review 20e: a peer must not put itself in standby for a node
  // going away).
  r.core.set_peer_request(PeerRequest::standby);
  CHECK(next_written().peer_request == PeerRequest::standby);
  std::vector<CoreAction> acts;
  r.core.request_leave(r.t, acts);
  r.run(acts);
  hb = next_written();
  CHECK(hb.state != NodeState::up);
  CHECK(hb.peer_request == PeerRequest::none);
  CHECK(hb.peer_request_serial == 0);
}

TEST_CASE("svcmgr's rule for the peer's requests: from an UP peer only, once per (life, serial)") {
  PeerSummary p;
  p.view = PeerView::up;
  p.incarnation = 7;
  p.request = PeerRequest::standby;
  p.request_serial = 40;
  CHECK(peer_request_action(p, {0, 0}) == PeerRequestAction::standby);
  CHECK(peer_request_action(p, {7, 40}) == PeerRequestAction::none);  // this svcmgr acted on it
  p.handled_incarnation = 7;
  p.handled_serial = 40;
  CHECK(peer_request_action(p, {0, 0}) == PeerRequestAction::none);  // quorumd says it was handled (a restarted svcmgr)
  p.handled_serial = 39;
  for (PeerView v : {PeerView::dead, PeerView::down, PeerView::unknown}) {
    p.view = v;  // a departed or dead peer's last heartbeat: never applied (review 20d, C1-2)
    CHECK(peer_request_action(p, {0, 0}) == PeerRequestAction::none);
  }
  p.view = PeerView::up;
  p.standby = true;  // the asker is in standby itself: both would stop every service (review 20e)
  CHECK(peer_request_action(p, {0, 0}) == PeerRequestAction::refuse);
  p.request = PeerRequest::unstandby;
  CHECK(peer_request_action(p, {7, 39}) == PeerRequestAction::unstandby);
  p.request = PeerRequest::none;
  CHECK(peer_request_action(p, {0, 0}) == PeerRequestAction::none);
}

TEST_CASE("started mark: owned siblings of one epoch listed, stopping counted as running, claims left out") {
  using P = OwnershipPhase;
  CHECK(started_mark_of({}) == std::vector<uint64_t>{0});
  // T started with epoch 5; S, confirmed from the same read, owned with 5 but not started yet (review 20e, A).
  CHECK(started_mark_of({{P::running, true, 5}, {P::owning, false, 5}}) == std::vector<uint64_t>{5, 5});
  CHECK(started_mark_of({{P::running, true, 5}, {P::running, false, 5}}) == std::vector<uint64_t>{5, 5});
  // A service being stopped still runs, and its entry says owned (review 20e, C).
  CHECK(started_mark_of({{P::stopping, false, 9}}) == std::vector<uint64_t>{9});
  // A claim in flight, and a newer owned one, are above the mark: not listed.
  CHECK(started_mark_of({{P::running, true, 5}, {P::claiming, false, 0}, {P::owning, false, 8}}) == std::vector<uint64_t>{5});
  // Listed once each, ascending.
  CHECK(started_mark_of({{P::running, true, 9}, {P::running, false, 4}, {P::owning, false, 2}, {P::running, false, 4}}) ==
        std::vector<uint64_t>{9, 2, 4});
  // More than fit: the mark below the lowest, none listed.
  std::vector<ClaimState> many{{P::running, true, 100}};
  for (uint64_t e = 10; e < 10 + HeartbeatRecord::kMaxNotStarted + 1; ++e) many.push_back({P::running, false, e});
  CHECK(started_mark_of(many) == std::vector<uint64_t>{9});
}

TEST_CASE("quorum core: the peer's datagram naming its completed write starts the silence before the disk shows it") {
  const Duration S = Millis(200);
  SUBCASE("the value the datagram named: suspected S after the datagram, not S after the later first read") {
    CoreRig r;
    r.core.set_suspicion_time(S);
    r.first_write();
    r.read_peer(r.peer(0xA, 1));
    const TimePoint heard = r.t;  // the peer's datagram: its write of seq 2 has completed
    r.core.on_peer_write_heard(0xA, 2, heard);
    r.pass(Millis(50));
    r.read_peer(r.peer(0xA, 2));  // the disk shows it 50 ms later: UP
    REQUIRE(r.core.peer().view() == PeerView::up);
    CHECK(r.core.peer().first_seen() == heard + Millis(61));  // the rig's time moves in 20 ms ticks
    CHECK(r.core.silence_start() == heard);
    // A read of the peer is scheduled when the silence since the datagram reaches S.
    CHECK(r.core.next_wakeup() <= heard + S);
    r.read_peer(r.peer(0xA, 2));  // issued at heard + 160 ms
    CHECK_FALSE(r.core.peer_silent_for(S));
    r.read_peer(r.peer(0xA, 2));  // heard + 260 ms: S after the datagram, S - 1 ms after the first read
    CHECK(r.core.peer_silent_for(S));
  }
  SUBCASE("a datagram naming another write (a later one not read yet, or another life) moves nothing") {
    for (auto [inc, seq] : {std::pair<uint64_t, uint64_t>{0xA, 3}, {0xB, 2}, {0xA, 1}}) {
      CoreRig r;
      r.core.set_suspicion_time(S);
      r.first_write();
      r.read_peer(r.peer(0xA, 1));
      const TimePoint heard = r.t;
      r.core.on_peer_write_heard(inc, seq, heard);
      r.pass(Millis(50));
      r.read_peer(r.peer(0xA, 2));
      REQUIRE(r.core.peer().view() == PeerView::up);
      CHECK(r.core.silence_start() == r.core.peer().first_seen());
      r.read_peer(r.peer(0xA, 2));
      r.read_peer(r.peer(0xA, 2));  // heard + 260 ms: only S - 1 ms after the first read
      CHECK_FALSE(r.core.peer_silent_for(S));
    }
  }
  SUBCASE("a repeated datagram naming the same write keeps the first one's time") {
    CoreRig r;
    r.first_write();
    r.read_peer(r.peer(0xA, 1));
    const TimePoint heard = r.t;
    r.core.on_peer_write_heard(0xA, 2, heard);
    r.core.on_peer_write_heard(0xA, 2, heard + Millis(30));
    r.pass(Millis(50));
    r.read_peer(r.peer(0xA, 2));
    CHECK(r.core.silence_start() == heard);
  }
  SUBCASE("the own-disk rule counts from the earlier start: my write that failed after the datagram voids it") {
    CoreRig r;
    r.core.set_suspicion_time(S);
    r.first_write();
    r.read_peer(r.peer(0xA, 1));
    const TimePoint heard = r.t;
    r.core.on_peer_write_heard(0xA, 2, heard);
    r.writes_fail = true;  // one of my writes fails after the datagram...
    r.pass(Millis(100));
    r.writes_fail = false;
    r.pass(Millis(120));   // ...and the next ones work again, all before the disk shows the peer's seq 2
    REQUIRE(r.core.disk_ok_since());
    REQUIRE(*r.core.disk_ok_since() > heard);
    r.read_peer(r.peer(0xA, 2));
    REQUIRE(*r.core.disk_ok_since() < r.core.peer().first_seen());
    for (int i = 0; i < 4; ++i) r.read_peer(r.peer(0xA, 2));  // S + 200 ms after the first read
    CHECK_FALSE(r.core.peer_silent_for(S));  // my disk did not work throughout the silence the datagram began
  }
}
