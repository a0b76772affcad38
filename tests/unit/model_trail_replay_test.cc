// Replays the counter-examples spin found for the seeded bugs of the protocol model (tests/model/castor.pml,
// trails in tests/model/trails/, written by `make model-trails`) through the REAL core: two Ownership
// instances and, per node, a real PeerMonitor fed with the heartbeats of the trail's ticks, on a FakeClock.
//
// A trail is one event per line ("t=<tick> n=<node> <event> key=value..."), named after the core's inputs
// and the cases of Ownership::step. Each model step is checked against what the core's step() returns
// (same write: state, node, ballot, epoch; same start/stop), and each read against the replayed disk,
// so the model and the core are seen to say the same thing along the whole schedule.
//  - With the correct core and quorumd timing, the replay must diverge exactly at the unsafe step: the
//    core refuses it, and the two nodes never both may_run().
//  - With a test-side reproduction of the bug (a stale read passed off as fresh; a PeerMonitor with the
//    too-short dead time D = F), the core follows the model step for step into the two-owner state the
//    trail ends in.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "common/clock.h"
#include "quorumd/peer_monitor.h"
#include "quorumd/quorum_core.h"
#include "quorumd/stall_promise.h"
#include "svcmgr/ownership.h"

using namespace castor;

namespace {

const Millis T{200};                  // io_timeout: one model tick
const Duration kDeadTime = 6 * T;     // D = F + W + M (docs/design.md)
const Duration kBuggyDeadTime = 3 * T;  // BUG_EARLY_TAKEOVER: D = F

struct Event {
  int line = 0;
  int tick = 0;
  int node = 0;  // 1 or 2; 0 for "tick"
  std::string what;
  std::map<std::string, long> kv;
  std::string text;
};

std::optional<std::string> find_trail(const std::string& name) {
  std::vector<std::string> dirs;
  if (const char* d = std::getenv("CASTOR_SOURCE_DIR")) dirs.push_back(std::string(d) + "/tests/model/trails/");
  dirs.push_back("tests/model/trails/");
  std::string here = __FILE__;  // .../tests/unit/model_trail_replay_test.cc
  auto pos = here.rfind("tests/unit/");
  if (pos != std::string::npos) dirs.push_back(here.substr(0, pos) + "tests/model/trails/");
  dirs.push_back("../tests/model/trails/");
  for (const auto& d : dirs) {
    std::ifstream f(d + name);
    if (f) return d + name;
  }
  return std::nullopt;
}

std::vector<Event> parse_trail(const std::string& path, std::string& assertion) {
  std::vector<Event> events;
  std::ifstream f(path);
  std::string line;
  int n = 0;
  while (std::getline(f, line)) {
    ++n;
    if (line.rfind("# assertion violated:", 0) == 0 && assertion.empty()) assertion = line.substr(22);
    if (line.empty() || line[0] == '#') continue;
    std::istringstream in(line);
    Event e;
    e.line = n;
    e.text = line;
    std::string tok;
    while (in >> tok) {
      auto eq = tok.find('=');
      if (eq == std::string::npos) {
        e.what = e.what.empty() ? tok : e.what + " " + tok;
        continue;
      }
      const std::string k = tok.substr(0, eq);
      const std::string val = tok.substr(eq + 1);
      if (val.empty() || val.find_first_not_of("-0123456789") != std::string::npos) continue;  // kind=grant
      const long v = std::stol(val);
      if (k == "t") e.tick = int(v);
      else if (k == "n") e.node = int(v);
      else e.kv[k] = v;
    }
    events.push_back(e);
  }
  return events;
}

ServiceEntry entry_of(const Event& e) {
  ServiceEntry x;
  x.state = OwnershipState(e.kv.at("st"));
  x.node = uint32_t(e.kv.at("nd"));
  x.ballot = uint64_t(e.kv.at("bal"));
  x.epoch = uint64_t(e.kv.at("ep"));
  x.in_use = x.ballot > 0 || x.state != OwnershipState::none;
  return x;
}

bool same_fields(const ServiceEntry& a, const ServiceEntry& b) {
  return a.state == b.state && a.node == b.node && a.ballot == b.ballot && a.epoch == b.epoch;
}

std::string show(const ServiceEntry& e) {
  return std::string(ownership_state_name(e.state)) + " nd=" + std::to_string(e.node) + " bal=" +
         std::to_string(e.ballot) + " ep=" + std::to_string(e.epoch);
}

// none: the real core fed as svcmgr and quorumd feed it; the others reproduce a bug or a misuse on the test
// side (the model's seeded bug of the same name).
enum class Bug {
  none,
  stale_read_as_fresh,  // BUG_SKIP_REREAD
  early_verdict,        // BUG_EARLY_TAKEOVER: a PeerMonitor with D = F
  liveness_alone,       // the verdict fed without a read
  read_block0,          // only block 0 of the peer's table is read: a service in block 1 is "not found"
  corrupt_free,         // a corrupt peer block holds no entries
  floor_after,          // the floor is written after the table write that carries the epoch
  down_while_owned,     // DOWN written although the own table holds an up entry
  late_down,            // the observer takes a late DOWN of a retired incarnation
  restart_no_wait,      // a new quorumd process while a table write of the old one is still in the kernel
  restart_rebuild_floor,  // a restart that finds an own table block corrupt rebuilds its floor from what loaded
};

constexpr int kServices = 2;

struct Replay {
  explicit Replay(Bug bug) : bug_(bug) {}

  // Feeds every event; stops at the first model step the core (or quorumd's rule) does not take.
  void run(const std::vector<Event>& events) {
    for (const Event& e : events) {
      clock_.advance(Millis(1));
      if (!apply(e)) {
        diverged_at = &e;
        return;
      }
      for (int k = 0; k < kServices; ++k)
        if (holds(0, k) && holds(1, k)) two_owners = true;
    }
  }

  bool both_may_run() const {
    for (int k = 0; k < kServices; ++k)
      if (holds(0, k) && holds(1, k)) return true;
    return false;
  }
  bool two_owners = false;    // at some point both nodes held one service
  bool epoch_reused = false;  // a start with an epoch not above every earlier start's of that service

  // As svcmgr would next: a read of the peer's entry issued now, with quorumd's verdict, then step().
  OwnershipStep read_and_step(int id, int k = 0) {
    Node& n = n_[id - 1];
    clock_.advance(Millis(1));
    n.own[k]->on_peer_entry(read_of(n_[2 - id], k, clock_.now(), clock_.now() + Millis(1), n));
    n.own[k]->on_liveness(liveness(n));
    clock_.advance(Millis(2));
    return n.own[k]->step(clock_.now());
  }

  const Event* diverged_at = nullptr;
  std::string divergence;    // what the core did instead
  std::string verdict_note;  // where the real PeerMonitor disagreed with the model's verdict
  std::string read_note;     // where the real read of the peer's table disagreed with the model's
  int steps_matched = 0;

 private:
  struct InKernel {
    uint64_t token;  // 0: nobody waits for it (timed out, or its writer is gone)
    ServiceEntry value;
    bool landed = false;
  };
  struct Node {
    std::unique_ptr<Ownership> own[kServices];
    std::unique_ptr<PeerMonitor> monitor;  // this node's quorumd, watching the peer
    Intent intent[kServices] = {Intent::hold, Intent::hold};
    bool alive = false, paused = false, hb_fails = false, fenced = false, wrote = false;
    bool left_up[kServices] = {false, false};  // left with the service still up (resources without a process)
    uint64_t incarnation = 0, seq = 0;
    HeartbeatRecord block;                   // my heartbeat block on the disk
    bool block_written = false;
    std::optional<HeartbeatRecord> late;     // a DOWN write of mine still in the kernel
    ServiceEntry disk[kServices];            // my table blocks on the disk
    bool corrupt[kServices] = {false, false};
    ServiceEntry memory[kServices];          // quorumd's table in memory
    uint64_t floor_disk = 0, floor_mem = 0;  // my epoch record on the disk; my floor as durably written
    bool floor_corrupt = false;
    bool floor_rewrite = false;  // a rebuilt floor (ServiceTableStore::rebuild_floor) is written first ...
    uint64_t floor_wanted = 0;   // ... with at least this floor
    std::optional<InKernel> in_kernel[kServices];
    std::optional<ServiceEntry> old_in_kernel[kServices];  // a table write of the previous process
    TimePoint read_issued[kServices];
    std::optional<OwnershipStep> stashed[kServices];
  };

  bool holds(int i, int k) const {
    const Node& n = n_[i];
    return (n.own[k] && n.own[k]->may_run()) || n.left_up[k];
  }

  PeerLiveness liveness(const Node& n) const {
    if (!n.monitor) return {};
    return {n.monitor->view(), n.monitor->last_read_issued()};
  }

  static ServiceEntry named(ServiceEntry e, int k) {
    e.name = "svc" + std::to_string(k);
    return e;
  }

  // A read of block k of `p`'s table and of its epoch record, as quorumd's table-peer reply has it.
  PeerEntryRead read_of(const Node& p, int k, TimePoint issued, TimePoint completed, const Node& me) const {
    PeerEntryRead r;
    r.read_issued = issued;
    r.read_completed = completed;
    const bool found = p.disk[k].in_use;
    bool other_corrupt = p.floor_corrupt;
    for (int b = 0; b < kServices; ++b)
      if (b != k && p.corrupt[b]) other_corrupt = true;
    r.unknown = p.corrupt[k] || (!found && other_corrupt);
    if (r.unknown) r.unknown_reason = "corrupt record at block " + std::to_string(k);
    if (!r.unknown) r.entry = named(p.disk[k], k);
    if (!p.floor_corrupt) r.peer_floor = p.floor_disk;
    r.own_floor = me.floor_mem;
    if (bug_ == Bug::corrupt_free && r.unknown) {
      r.unknown = false;
      r.unknown_reason.clear();
      r.entry = ServiceEntry{};
    }
    if (bug_ == Bug::read_block0 && k > 0) {
      r.unknown = false;
      r.entry = ServiceEntry{};
    }
    return r;
  }

  void set_intent(Node& n, int self, int k, Intent in) {
    n.intent[k] = in;
    if (n.own[k]) n.own[k]->set_intent(in, in == Intent::release ? uint32_t(3 - self) : 0);
  }

  // svcmgr's state is gone (crash, fence, leave); a write nobody waits for may still land.
  void forget(Node& n) {
    for (int k = 0; k < kServices; ++k) {
      n.own[k].reset();
      n.stashed[k].reset();
      if (n.in_kernel[k]) {
        if (n.in_kernel[k]->landed) n.in_kernel[k].reset();
        else n.in_kernel[k]->token = 0;
      }
    }
    n.monitor.reset();
  }

  void construct(Node& n, int self, int k, const ServiceEntry& from) {
    n.own[k] = std::make_unique<Ownership>("svc" + std::to_string(k), uint32_t(self), named(from, k));
    n.own[k]->set_intent(n.intent[k], n.intent[k] == Intent::release ? uint32_t(3 - self) : 0);
    n.read_issued[k] = clock_.now();
  }

  OwnershipStep take_step(Node& n, int k) {
    if (n.stashed[k]) {
      OwnershipStep s = *n.stashed[k];
      n.stashed[k].reset();
      return s;
    }
    return n.own[k]->step(clock_.now());
  }

  bool refuse(const std::string& why) {
    divergence = why;
    return false;
  }

  bool own_table_up(const Node& n) const {
    for (const auto& e : n.memory)
      if (e.in_use && (e.state == OwnershipState::claiming || e.state == OwnershipState::owned ||
                       e.state == OwnershipState::releasing))
        return true;
    return false;
  }

  void note_verdict(const Event& e, const std::string& model_says, bool agrees) {
    if (agrees || !verdict_note.empty()) return;
    verdict_note = "line " + std::to_string(e.line) + " (t=" + std::to_string(e.tick) + "): the model says " +
                   model_says + ", the real PeerMonitor (D=" +
                   format_duration(bug_ == Bug::early_verdict ? kBuggyDeadTime : kDeadTime) + ") says " +
                   (node(e).monitor ? peer_view_name(node(e).monitor->view()) : "nothing");
  }

  Node& node(const Event& e) { return n_[e.node - 1]; }
  Node& peer(const Event& e) { return n_[2 - e.node]; }

  bool apply(const Event& e) {
    const std::string& w = e.what;
    if (w == "tick") return tick(e);
    if (w == "hb_reads") return hb_reads();
    Node& n = node(e);
    const int self = e.node;
    const int k = e.kv.count("s") ? int(e.kv.at("s")) : 0;
    REQUIRE(k < kServices);
    if (w == "set_intent") {
      set_intent(n, self, k, e.kv.at("") == 1 ? Intent::hold : Intent::release);
      return true;
    }
    if (w == "restart") {  // a new quorumd process: table and floor from the disk
      n.alive = true;
      n.paused = n.fenced = n.hb_fails = false;
      n.incarnation = uint64_t(e.kv.at("inc"));
      n.seq = 0;
      for (int b = 0; b < kServices; ++b) n.memory[b] = n.disk[b];
      n.floor_mem = n.floor_disk;
      n.floor_rewrite = false;
      n.floor_wanted = 0;
      n.monitor = std::make_unique<PeerMonitor>(bug_ == Bug::early_verdict ? kBuggyDeadTime : kDeadTime);
      return true;
    }
    if (w == "rejoin") {  // a new core after a fence; quorumd's table stays in memory
      n.fenced = false;
      n.incarnation = uint64_t(e.kv.at("inc"));
      n.seq = 0;
      n.monitor = std::make_unique<PeerMonitor>(bug_ == Bug::early_verdict ? kBuggyDeadTime : kDeadTime);
      return true;
    }
    if (w == "load_corrupt") {  // ServiceTableStore::mark_corrupt: starts empty, rewritten under a lease
      REQUIRE_MESSAGE(n.corrupt[k], "line " << e.line << ": the block is not corrupt in the replay");
      n.memory[k] = ServiceEntry{};
      return true;
    }
    if (w == "floor_rebuilt") {
      // TableService::load_own_region rebuilds the floor only when the epoch record does not decode.
      if (!n.floor_corrupt && bug_ != Bug::restart_rebuild_floor)
        return refuse("model: the floor rebuilt at the restart; quorumd: the epoch record decodes, its floor is "
                      "loaded (load_floor)");
      // ... from the own valid entries, the peer's valid entries and the peer's floor
      const Node& p = peer(e);
      uint64_t rebuilt = p.floor_corrupt ? 0 : p.floor_disk;
      for (int b = 0; b < kServices; ++b) {
        if (!n.corrupt[b]) rebuilt = std::max(rebuilt, n.memory[b].epoch);
        if (!p.corrupt[b]) rebuilt = std::max(rebuilt, p.disk[b].epoch);
      }
      REQUIRE_MESSAGE(long(rebuilt) == e.kv.at("fl"), "line " << e.line << ": rebuilt floor " << rebuilt);
      n.floor_mem = 0;  // nothing durable until the rebuilt record is written
      n.floor_rewrite = true;
      n.floor_wanted = rebuilt;
      return true;
    }
    if (w == "old_write_in_kernel") {
      // The previous process's exit waited for its I/O (io_destroy in ~AioBlockDevice; the kernel's exit_aio
      // for a killed process; a node reset drops it): no restart finds one of its writes in the kernel.
      if (bug_ != Bug::restart_no_wait)
        return refuse("model: a restart while a table write of the previous process is in the kernel; quorumd: "
                      "the old process's exit waited for its I/O");
      REQUIRE_MESSAGE((n.in_kernel[k] && n.in_kernel[k]->token == 0 && !n.in_kernel[k]->landed), "line " << e.line);
      REQUIRE(same_fields(n.in_kernel[k]->value, entry_of(e)));
      n.old_in_kernel[k] = n.in_kernel[k]->value;
      n.in_kernel[k].reset();
      return true;
    }
    if (w == "old_write_lands") {
      REQUIRE_MESSAGE(n.old_in_kernel[k], "line " << e.line);
      n.disk[k] = *n.old_in_kernel[k];
      n.corrupt[k] = false;
      n.old_in_kernel[k].reset();
      return true;
    }
    if (w == "old_write_lost" || w == "old_write_torn") {
      REQUIRE_MESSAGE(n.old_in_kernel[k], "line " << e.line);
      if (w == "old_write_torn") n.corrupt[k] = true;
      n.old_in_kernel[k].reset();
      return true;
    }
    if (w == "construct") {
      // With two services, node 1 holds service 0 from the start: the "running" event drives the core there.
      if (e.tick == 0 && entry_of(e).state == OwnershipState::owned) {
        n.disk[k] = entry_of(e);
        return true;
      }
      REQUIRE_MESSAGE(same_fields(n.memory[k], entry_of(e)),
                      "line " << e.line << ": quorumd's table in the replay has " << show(n.memory[k]));
      construct(n, self, k, n.memory[k]);
      return true;
    }
    if (w == "running") {  // service 0 held by node 1 from the start: drive the real core there
      n.disk[k] = ServiceEntry{};
      ServiceEntry blank;
      blank.in_use = true;  // an entry with nothing in it yet: no rewrite first
      construct(n, self, k, blank);
      Ownership& o = *n.own[k];
      o.on_peer_entry(read_of(peer(e), k, clock_.now(), clock_.now(), n));
      clock_.advance(Millis(1));
      for (int round = 0; round < 3 && !o.may_run(); ++round) {
        OwnershipStep s = o.step(clock_.now());
        if (s.write) {
          if (s.write->epoch > n.floor_mem) n.floor_mem = n.floor_disk = s.write->epoch;
          n.disk[k] = n.memory[k] = *s.write;
          clock_.advance(Millis(1));
          o.on_write_done(o.write_token(), true, clock_.now());
          clock_.advance(Millis(1));
          o.on_peer_entry(read_of(peer(e), k, clock_.now(), clock_.now(), n));
          clock_.advance(Millis(1));
        }
      }
      REQUIRE(o.may_run());
      REQUIRE(long(o.epoch()) == e.kv.at("ep"));
      REQUIRE(long(n.disk[k].ballot) == e.kv.at("bal"));
      started_[k] = o.epoch();
      return true;
    }
    if (w == "crash" || w == "watchdog_reset") {
      n.alive = n.paused = n.fenced = false;
      forget(n);
      for (auto& e2 : n.memory) e2 = ServiceEntry{};
      n.floor_mem = 0;
      n.floor_rewrite = false;
      n.floor_wanted = 0;
      return true;
    }
    if (w == "fence_lease_lapsed" || w == "fence_on_resume" || w == "fence_undead_writer") {
      n.fenced = true;
      n.paused = false;
      forget(n);  // the process groups are killed; svcmgr exits
      return true;
    }
    if (w == "pause") { n.paused = true; return true; }
    if (w == "resume") { n.paused = false; return true; }
    if (w == "hb_path_fails") { n.hb_fails = true; return true; }
    if (w == "leave") {
      for (int b = 0; b < kServices; ++b) set_intent(n, self, b, Intent::release);
      return true;
    }
    if (w == "down_timeout" || w == "down_written") {
      // quorumd writes DOWN only when its own table holds no claiming, owned or releasing entry.
      if (bug_ != Bug::down_while_owned && own_table_up(n))
        return refuse("model: DOWN written; quorumd: its own table holds an up entry, no DOWN");
      HeartbeatRecord r;
      r.node_id = uint32_t(self);
      r.incarnation = n.incarnation;
      r.seq = ++n.seq;
      r.state = NodeState::down;
      n.wrote = true;
      if (w == "down_timeout") {
        n.late = r;
        return true;
      }
      n.block = r;
      n.block_written = true;
      // the node has left: quorumd and svcmgr exit; what the service holds without a process stays
      for (int b = 0; b < kServices; ++b) n.left_up[b] = n.own[b] && n.own[b]->may_run();
      n.alive = false;
      forget(n);
      for (int b = 0; b < kServices; ++b) {
        n.memory[b] = ServiceEntry{};
        n.intent[b] = Intent::hold;
      }
      return true;
    }
    if (w == "late_down_lands") {
      REQUIRE(n.late);
      n.block = *n.late;
      n.block_written = true;
      n.late.reset();
      if (bug_ == Bug::late_down)  // an observer that never saw the newer incarnation takes it as DOWN
        if (peer(e).monitor) peer(e).monitor = std::make_unique<PeerMonitor>(kDeadTime);
      return true;
    }
    if (w == "late_down_lost") { n.late.reset(); return true; }
    if (w == "peer_dead") {
      note_verdict(e, "DEAD", n.monitor && n.monitor->view() == PeerView::dead);
      return true;
    }
    if (w == "peer_down") {
      note_verdict(e, "DOWN", n.monitor && n.monitor->view() == PeerView::down);
      return true;
    }
    if (w == "peer_up") {
      note_verdict(e, "UP", n.monitor && n.monitor->view() == PeerView::up);
      return true;
    }
    if (w == "peer_stale") {
      note_verdict(e, "a stale write (no verdict)", n.monitor && n.monitor->view() != PeerView::down);
      return true;
    }
    if (w == "floor_written") {
      // quorumd writes its floor before any table write carrying a higher epoch (done at "write" below);
      // the seeded bug writes it only after that write completed: follow the model then.
      if (bug_ == Bug::floor_after) {
        n.floor_mem = n.floor_disk = std::max<uint64_t>(n.floor_disk, uint64_t(e.kv.at("fl")));
        n.floor_corrupt = false;
      }
      return true;
    }
    if (w == "floor_rewritten" || w == "scrub_floor") {
      n.floor_mem = n.floor_disk = uint64_t(e.kv.at("fl"));
      n.floor_corrupt = false;
      n.floor_rewrite = false;
      n.floor_wanted = 0;
      return true;
    }
    if (w == "corrupt") { n.corrupt[k] = true; return true; }
    if (w == "corrupt_floor") { n.floor_corrupt = true; return true; }
    if (w == "scrub") {
      n.disk[k] = n.memory[k];
      n.corrupt[k] = false;
      return true;
    }
    if (w == "write_lands") {
      REQUIRE_MESSAGE(n.in_kernel[k], "line " << e.line << ": nothing in the kernel");
      REQUIRE_MESSAGE(same_fields(n.in_kernel[k]->value, entry_of(e)), "line " << e.line);
      n.disk[k] = n.in_kernel[k]->value;
      n.corrupt[k] = false;
      n.in_kernel[k]->landed = true;
      if (n.in_kernel[k]->token == 0) n.in_kernel[k].reset();  // a late write: nobody waits for it
      return true;
    }
    if (w == "write_lost") { n.in_kernel[k].reset(); return true; }
    if (w == "write_torn") {
      n.in_kernel[k].reset();
      n.corrupt[k] = true;
      return true;
    }
    if (w == "write_done ok" || w == "write_done failed") {
      REQUIRE_MESSAGE(n.in_kernel[k], "line " << e.line);
      const bool ok = w == "write_done ok";
      n.own[k]->on_write_done(n.in_kernel[k]->token, ok, clock_.now());
      if (ok || n.in_kernel[k]->landed) n.in_kernel[k].reset();
      else n.in_kernel[k]->token = 0;  // timed out: it may still land
      return true;
    }
    if (w == "on_peer_entry") {
      const PeerEntryRead r = read_of(peer(e), k, n.read_issued[k], clock_.now(), n);
      const bool same = (r.unknown ? 1 : 0) == e.kv.at("unk") && (r.unknown || same_fields(r.entry, entry_of(e))) &&
                        (r.peer_floor ? long(*r.peer_floor) : 255L) == e.kv.at("pfl");
      // The model's buggy reader (or quorumd's floor written late) returns what the real one does not: the
      // real read goes to the core, whose next step then differs from the model's. With the bug reproduced
      // here, the reads must agree.
      if (!same && bug_ != Bug::none)
        FAIL("line " << e.line << ": replayed read " << (r.unknown ? "unknown" : show(r.entry)) << " floor "
                     << (r.peer_floor ? std::to_string(*r.peer_floor) : "?"));
      if (!same && read_note.empty())
        read_note = "line " + std::to_string(e.line) + ": the model reads " + e.text.substr(e.text.find("st=")) +
                    ", the real read " + (r.unknown ? "unknown (" + r.unknown_reason + ")" : show(r.entry)) +
                    " peer floor " + (r.peer_floor ? std::to_string(*r.peer_floor) : "unknown");
      n.own[k]->on_peer_entry(r);
      if (bug_ != Bug::liveness_alone)
        n.own[k]->on_liveness(liveness(n));  // as SvcmgrDaemon::on_peer_table: the verdict comes with the read
      clock_.advance(Millis(1));
      n.read_issued[k] = clock_.now();  // the next read
      return true;
    }
    if (w == "on_liveness dead") {
      if (bug_ == Bug::liveness_alone) n.own[k]->on_liveness(liveness(n));  // the verdict alone
      return true;
    }
    if (w == "on_stopped") { n.own[k]->on_stopped(); return true; }
    if (w.rfind("step ", 0) == 0) {
      // BUG_SKIP_REREAD: the claim is confirmed by the read it had before its claim landed. Reproduced here
      // by handing the core that same stale value again, dressed as a read issued now.
      Ownership& o = *n.own[k];
      if (bug_ == Bug::stale_read_as_fresh && o.phase() == OwnershipPhase::claiming && o.peer() &&
          (w == "step claim_confirmed_owned" || w == "step claim_withdrawn_peer")) {
        PeerEntryRead r = *o.peer();
        r.read_issued = r.read_completed = clock_.now();
        o.on_peer_entry(r);
        clock_.advance(Millis(1));
      }
      pending_step_ = w;
      pending_ = {self, k};
      return true;
    }
    if (w == "write") {
      REQUIRE_MESSAGE((pending_ == std::pair<int, int>{self, k}), "line " << e.line << ": a write without its step");
      pending_ = {0, 0};
      OwnershipStep s = take_step(n, k);
      const ServiceEntry want = entry_of(e);
      if (!s.write || !same_fields(*s.write, want))
        return refuse("model: " + pending_step_ + " -> write " + show(want) + "; core: " +
                      (s.write ? "write " + show(*s.write) : std::string("no write")) + (s.start ? " start" : "") +
                      (s.why.empty() ? "" : " (" + s.why + ")") + " [phase " +
                      ownership_phase_name(n.own[k]->phase()) + "]");
      // quorumd: the floor >= e is written (and completed) before a table write carrying epoch e
      // (a rebuilt floor waiting to be written goes first, with max(durable, wanted))
      if (bug_ != Bug::floor_after && (s.write->epoch > n.floor_mem || n.floor_rewrite)) {
        n.floor_mem = n.floor_disk = std::max({s.write->epoch, n.floor_mem, n.floor_wanted});
        n.floor_corrupt = false;
        n.floor_rewrite = false;
        n.floor_wanted = 0;
      }
      n.memory[k] = *s.write;
      n.in_kernel[k] = InKernel{n.own[k]->write_token(), *s.write};
      ++steps_matched;
      return true;
    }
    if (w == "start" || w == "stop" || w == "released_idle") {
      OwnershipStep s = take_step(n, k);
      bool ok = false;
      if (w == "start") {
        ok = s.start && long(s.epoch) == e.kv.at("ep") && !s.write;
        if (ok && started_[k] && s.epoch <= *started_[k]) epoch_reused = true;
        if (ok) started_[k] = std::max(started_[k].value_or(0), s.epoch);
      }
      if (w == "stop") ok = s.stop && !s.write;
      if (w == "released_idle") {
        ok = n.own[k]->phase() == OwnershipPhase::idle;
        if (s.write || s.start || s.stop) n.stashed[k] = s;  // step() went on from idle: the model's next step
      }
      if (!ok)
        return refuse("model: " + w + "; core: " + (s.write ? "write " + show(*s.write) : "no write") +
                      (s.start ? " start" : "") + (s.stop ? " stop" : "") + " [phase " +
                      ownership_phase_name(n.own[k]->phase()) + "]");
      ++steps_matched;
      return true;
    }
    FAIL("line " << e.line << ": unknown trail event '" << e.text << "'");
    return false;
  }

  // One io_timeout begins; heartbeats are written and read at "hb_reads" (after the tick's fences).
  bool tick(const Event& e) {
    const TimePoint next = TimePoint(std::chrono::seconds(1000)) + e.tick * T;
    REQUIRE(next > clock_.now());
    clock_.set(next);
    for (Node& n : n_) n.wrote = false;
    return true;
  }

  // The tick's heartbeat writes of running nodes whose path works, then each quorumd reads the peer's.
  bool hb_reads() {
    for (int i = 0; i < 2; ++i) {
      Node& n = n_[i];
      if (n.alive && !n.paused && !n.fenced && !n.hb_fails && !n.wrote) {
        n.block.node_id = uint32_t(i + 1);
        n.block.incarnation = n.incarnation;
        n.block.seq = ++n.seq;
        n.block.state = NodeState::up;
        n.block_written = true;
      }
    }
    for (int i = 0; i < 2; ++i) {
      Node& n = n_[i];
      const Node& p = n_[1 - i];
      if (!n.alive || n.paused || n.fenced || !n.monitor) continue;
      PeerObservation obs;
      obs.read_issued = obs.read_completed = clock_.now();
      if (p.block_written) obs.record = p.block;
      n.monitor->observe(obs);
    }
    return true;
  }

  Bug bug_;
  FakeClock clock_{TimePoint(std::chrono::seconds(1000))};
  Node n_[2];
  std::string pending_step_;
  std::pair<int, int> pending_{0, 0};
  std::optional<uint64_t> started_[kServices];
};

void normalise(std::vector<Event>& events) {
  // "set_intent 1" and "on_liveness dead=1" carry a bare value; keep it under key "".
  for (Event& e : events) {
    if (e.what.rfind("set_intent ", 0) == 0) {
      e.kv[""] = std::stol(e.what.substr(11));
      e.what = "set_intent";
    }
    if (e.what == "on_liveness" && e.kv.count("dead")) {
      e.kv[""] = e.kv["dead"];
      e.what = "on_liveness dead";
    }
  }
}

std::vector<Event> load(const std::string& name, std::string& assertion) {
  auto path = find_trail(name);
  REQUIRE_MESSAGE(path, "trail " << name << " not found (tests/model/trails/; make model-trails writes it)");
  auto events = parse_trail(*path, assertion);
  normalise(events);
  REQUIRE(events.size() > 10);
  return events;
}

// Replays one trail twice: through the real core (must refuse the unsafe step: diverge, and never two owners
// nor a reused epoch) and with the bug reproduced on the test side (must follow the trail to its end, into
// the unsafe state the model's assertion names).
struct Outcome {
  size_t events = 0;
  int line = 0;
  std::string divergence, verdict_note, read_note;
};

// `bug_reaches`: false when the core itself now refuses even the test-side reproduction (liveness_alone).
Outcome check_trail(const std::string& name, Bug bug, bool bug_reaches = true) {
  std::string assertion;
  const auto events = load(name + ".trail", assertion);
  const bool two_owners_trail = assertion.find("svc") != std::string::npos;
  CHECK_MESSAGE((two_owners_trail || assertion.find("maxep") != std::string::npos), assertion);

  Replay real(Bug::none);
  real.run(events);
  REQUIRE_MESSAGE(real.diverged_at, name << ": the real core followed the unsafe schedule to the end");
  CHECK_FALSE(real.two_owners);
  CHECK_FALSE(real.epoch_reused);
  MESSAGE(name << ": real core refuses at trail line " << real.diverged_at->line << ": " << real.divergence
               << (real.verdict_note.empty() ? "" : "; " + real.verdict_note)
               << (real.read_note.empty() ? "" : "; " + real.read_note));

  Replay buggy(bug);
  buggy.run(events);
  if (!bug_reaches) {
    CHECK_FALSE(buggy.two_owners);
    CHECK_FALSE(buggy.epoch_reused);
    std::printf("[castor] model trail %s: %zu events; real core refuses at line %d; fed as the bug feeds it, "
                "it refuses too (at line %d)\n",
                name.c_str(), events.size(), real.diverged_at->line, buggy.diverged_at ? buggy.diverged_at->line : 0);
    return {events.size(), real.diverged_at->line, real.divergence, real.verdict_note, real.read_note};
  }
  CHECK_MESSAGE(!buggy.diverged_at,
                name << ": " << (buggy.diverged_at ? buggy.diverged_at->text + ": " + buggy.divergence : ""));
  if (two_owners_trail) CHECK(buggy.two_owners);
  else CHECK(buggy.epoch_reused);
  std::printf("[castor] model trail %s: %zu events; real core refuses at line %d after %d matching steps; with "
              "the bug reproduced it reaches %s\n",
              name.c_str(), events.size(), real.diverged_at->line, real.steps_matched,
              two_owners_trail ? "two owners" : "a reused epoch");
  return {events.size(), real.diverged_at->line, real.divergence, real.verdict_note, real.read_note};
}

// ---- The promise trails (-DLAN, issue 15): replayed through two real QuorumCores ----
//
// The promise bugs are steps of quorumd's core (a grant, an extension, a DEAD verdict, a new core's floor), not
// of Ownership, so these trails go to two real QuorumCores (PromiseTerms: P = F = 3T, max_storage_stall S = 5T,
// failing after 2T) fed as the model's ticks feed quorumd: every event of tick t happens at t * T (the model's
// convention, its times rounded down to the tick). At `hb_reads` each running core is ticked: its heartbeat
// write completes at once, ok, or with an I/O error while its path failed (an immediate EIO: the model's disk is
// failing from the tick its path failed); then each running core reads the peer's block. LAN events call the
// core's promise API: `lan_request` -> wants_promise, `grant` -> grant_promise, `lan_grant_in` -> on_promise
// (request sent at t - age), `extend` -> the lease end it must give, `promise_floor` -> promise_floor(),
// `peer_dead` -> the monitor's view after the tick's read. The first life of a node (init, inc=1) follows no
// earlier life, so its core is made 10T before the trail begins (its start floor long past). Service events
// (Ownership's) are not replayed here: the unsafe step of a promise trail is a core step, and the replay
// stops at the first model step the real core does not take.
const Duration kPromiseStall = 5 * T;

class CoreReplay {
 public:
  explicit CoreReplay(Duration term = 3 * T) : term_(term) {}
  // A copy: the replay outlives the events it ran (check_promise_trail returns it).
  std::optional<Event> diverged_at;
  std::string divergence;
  std::vector<std::string> notes;
  int grants = 0, extensions = 0, requests = 0;

  void run(const std::vector<Event>& events) {
    for (const Event& e : events) {
      if (!apply(e)) {
        diverged_at = e;
        return;
      }
    }
  }
  const QuorumCore* core(int id) const { return n_[id - 1].core.get(); }
  TimePoint now() const { return now_; }
  TimePoint at(int tick) const { return base_ + tick * T; }
  std::optional<TimePoint> started(int id) const { return n_[id - 1].started; }
  std::optional<TimePoint> last_grant(int id) const { return n_[id - 1].last_grant; }
  std::optional<TimePoint> expiry_before_extend;  // the holder's lease end before the divergent extension

 private:
  struct Node {
    std::unique_ptr<QuorumCore> core;
    bool alive = false, paused = false, hb_fails = false, read_pending = false;
    std::optional<HeartbeatRecord> block;  // my heartbeat block on the disk (the last ok write)
    std::optional<TimePoint> started, last_grant, request_sent;
    std::optional<TimePoint> expiry_at_grant_in;
  };

  CoreConfig config(int id, uint64_t incarnation) const {
    CoreConfig c;
    c.cluster_uuid.bytes[0] = 0x15;
    c.node_id = uint32_t(id);
    c.incarnation = incarnation;
    c.timing = *Timing::from_io_timeout(T);
    c.promises = PromiseTerms::from(c.timing, kPromiseStall);
    c.promises->term = term_;  // P: F unless the trail was made with -DP=<ticks>
    return c;
  }

  bool refuse(const std::string& why) {
    divergence = why;
    return false;
  }
  bool runs(const Node& n) const { return n.alive && !n.paused && n.core; }
  static std::string at_tick(TimePoint base, std::optional<TimePoint> t) {
    if (!t) return "none";
    const auto d = *t - base;
    char buf[32];
    std::snprintf(buf, sizeof buf, "t=%g", double(d.count()) / double(std::chrono::duration_cast<Duration>(T).count()));
    return buf;
  }

  void handle(Node& n, std::vector<CoreAction> acts) {
    while (!acts.empty()) {
      std::vector<CoreAction> more;
      for (const CoreAction& a : acts) {
        if (a.kind == CoreActionKind::read_peer) n.read_pending = true;
        if (a.kind == CoreActionKind::write_heartbeat) {
          if (n.hb_fails) {
            n.core->on_write_done(a.record.seq, now_, Error(Code::io_error, "heartbeat path failed (model trail)"),
                                  now_, more);
          } else {
            n.block = a.record;
            n.core->on_write_done(a.record.seq, now_, Status::Ok(), now_, more);
          }
        }
      }
      acts.swap(more);
    }
  }

  // The tick's heartbeat writes, then each running core reads the peer's block (all at t * T).
  void hb_reads() {
    for (Node& n : n_) {
      if (!runs(n)) continue;
      std::vector<CoreAction> acts;
      n.core->tick(now_, acts);
      handle(n, std::move(acts));
    }
    for (int i = 0; i < 2; ++i) {
      Node& n = n_[i];
      const Node& p = n_[1 - i];
      if (!runs(n) || !n.read_pending) continue;
      n.read_pending = false;
      std::vector<CoreAction> acts;
      if (p.block) n.core->on_peer_read(now_, *p.block, 0, Status::Ok(), now_, acts);
      else n.core->on_peer_read(now_, Result<HeartbeatRecord>(Error(Code::not_found, "empty block")), 0,
                                Status::Ok(), now_, acts);
      handle(n, std::move(acts));
    }
  }

  void new_core(Node& n, int id, uint64_t incarnation, TimePoint start) {
    n.core = std::make_unique<QuorumCore>(config(id, incarnation), start);
    n.started = start;
    n.alive = true;
    n.paused = n.hb_fails = n.read_pending = false;
    n.request_sent.reset();
  }

  bool apply(const Event& e) {
    const std::string& w = e.what;
    if (w == "tick") {
      now_ = at(e.tick);
      return true;
    }
    if (w == "hb_reads") {
      hb_reads();
      return true;
    }
    if (w == "lan_partition" || w == "lan_heal") return true;
    if (e.node < 1 || e.node > 2) return true;
    Node& n = n_[e.node - 1];
    const std::string where = "line " + std::to_string(e.line) + " (t=" + std::to_string(e.tick) + "): ";
    if (w == "restart") {
      const uint64_t inc = uint64_t(e.kv.at("inc"));
      // The first life follows no earlier one: its start floor must not hold back the trail's first verdicts.
      new_core(n, e.node, inc, e.tick == 0 && inc == 1 ? at(0) - 10 * T : now_);
      return true;
    }
    if (w == "rejoin") {
      new_core(n, e.node, uint64_t(e.kv.at("inc")), now_);
      return true;
    }
    if (w == "crash" || w == "watchdog_reset") {
      n.core.reset();
      n.alive = n.paused = false;
      n.hb_fails = false;
      return true;
    }
    if (w == "pause") { n.paused = true; return true; }
    if (w == "resume") { n.paused = false; return true; }
    if (w == "hb_path_fails") { n.hb_fails = true; return true; }
    if (w == "hb_path_recovers") { n.hb_fails = false; return true; }
    if (w == "running" && e.tick == 0 && n.core) {
      // -DHELD: node 1 holds the service with a lease from its heartbeat written at t=0.
      std::vector<CoreAction> acts;
      n.core->tick(now_, acts);
      handle(n, std::move(acts));
      return true;
    }
    if (!n.core) return true;  // service events of a node that is down
    QuorumCore& c = *n.core;
    const Duration P = c.config().promises->term;
    if (w == "promise_floor") {
      // Before a grant the model prints the floor first: `grant` checks it, after grant_promise. A new core's
      // start floor is checked here.
      if (n.started != now_) return true;
      const TimePoint want = now_ + e.kv.at("in") * T;
      if (c.promise_floor() < want)
        return refuse(where + "model: floor t+" + std::to_string(e.kv.at("in")) + "; core: floor " +
                      at_tick(base_, c.promise_floor()));
      return true;
    }
    if (w == "lan_request") {
      ++requests;
      n.request_sent = now_;
      if (!c.wants_promise(now_))
        return refuse(where + "model: node " + std::to_string(e.node) + " asks for a promise; core: wants_promise "
                      "false (disk failing " + (c.disk_failing(now_) ? "yes" : "no") + ")");
      return true;
    }
    if (w == "grant") {
      const char* why = "";
      auto g = c.grant_promise(uint64_t(e.kv.at("inc")), now_, &why);
      if (!g) return refuse(where + "model: grant; core refuses: " + why);
      ++grants;
      n.last_grant = now_;
      if (c.promise_floor() < now_ + P) return refuse(where + "core granted without a floor");
      return true;
    }
    if (w == "lan_grant_in") {
      const TimePoint sent = now_ - e.kv.at("age") * T;
      n.expiry_at_grant_in = c.lease_expiry();
      std::vector<CoreAction> acts;
      c.on_promise(sent, P, now_, acts);
      handle(n, std::move(acts));
      return true;
    }
    if (w == "extend") {
      ++extensions;
      const TimePoint want = now_ + e.kv.at("lease") * T;
      const auto got = c.lease_expiry();
      if (!got || *got < want || !c.may_act(now_)) {
        expiry_before_extend = n.expiry_at_grant_in;
        return refuse(where + "model: extends node " + std::to_string(e.node) + "'s lease to t+" +
                      std::to_string(e.kv.at("lease")) + " = " + at_tick(base_, want) + "; core: lease ends " +
                      at_tick(base_, got));
      }
      if (*got > want) notes.push_back(where + "core's lease ends later than the model's");
      return true;
    }
    if (w == "peer_dead") {
      if (c.peer().view() != PeerView::dead) {
        const auto d = c.peer().dead_deadline();
        return refuse(where + "model: node " + std::to_string(e.node) + " declares its peer DEAD; core: " +
                      peer_view_name(c.peer().view()) + ", first seen " + at_tick(base_, c.peer().first_seen()) +
                      ", floor " + at_tick(base_, c.promise_floor()) + ", no DEAD before a read at " +
                      at_tick(base_, d));
      }
      return true;
    }
    if (w == "peer_up" && c.peer().view() != PeerView::up)
      notes.push_back(where + "model: peer_up; core: " + peer_view_name(c.peer().view()));
    return true;  // Ownership's events, fences (the core fences itself at its lease end), lan_* bookkeeping
  }

  Duration term_;
  const TimePoint base_{std::chrono::seconds(1000)};
  TimePoint now_{base_};
  Node n_[2];
};

// The promise term P of a trail: -DP=<ticks> in its "# flags:" line, else F.
Duration trail_term(const std::string& name) {
  auto path = find_trail(name + ".trail");
  REQUIRE(path);
  std::ifstream f(*path);
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("# flags:", 0) != 0) continue;
    auto pos = line.find(" -DP=");
    if (pos != std::string::npos) return std::stol(line.substr(pos + 5)) * T;
  }
  return 3 * T;
}

// Replays a promise trail through the real cores; the replay must diverge (the core refuses a step of the buggy
// model). Returns the replay for the case's own assertions.
std::unique_ptr<CoreReplay> check_promise_trail(const std::string& name) {
  std::string assertion;
  const auto events = load(name + ".trail", assertion);
  auto r = std::make_unique<CoreReplay>(trail_term(name));
  r->run(events);
  REQUIRE_MESSAGE(r->diverged_at, name << ": the real cores followed the buggy schedule to its end (" << assertion
                                       << ")");
  for (const auto& note : r->notes) MESSAGE(name << ": " << note);
  std::printf("[castor] model trail %s: %zu events; real cores refuse at line %d: %s\n", name.c_str(), events.size(),
              r->diverged_at->line, r->divergence.c_str());
  return r;
}

}  // namespace

TEST_CASE("model trail replay: skip_reread — the real core refuses a claim confirmed by a stale read") {
  const Outcome o = check_trail("skip_reread", Bug::stale_read_as_fresh);
  CHECK(o.divergence.find("model: step claim_confirmed_owned") == 0);
  CHECK(o.divergence.find("core: no write") != std::string::npos);
}

TEST_CASE("model trail replay: early_takeover — the real dead time keeps the core from taking over") {
  // quorumd's real PeerMonitor (D = 6T) does not call the paused peer dead when the model's buggy one
  // (D = F) does, so the core sees the peer's owned entry up and refuses to claim.
  const Outcome o = check_trail("early_takeover", Bug::early_verdict);
  CHECK_MESSAGE(o.verdict_note.find("the model says DEAD") != std::string::npos, o.verdict_note);
  CHECK(o.divergence.find("core: no write") != std::string::npos);
}

TEST_CASE("model trail replay: liveness_alone — fed as svcmgr feeds it, the core never reuses an epoch") {
  // Not a seeded bug: spin's counter-example to Ownership's contract. A DEAD verdict that reaches the core
  // alone (no read with it) voids a stale entry of a peer that since owned, and the core takes that epoch
  // again. SvcmgrDaemon::on_peer_table always hands the verdict over together with a table read. Since the
  // HOLE_STALE_VERDICT fix (a verdict voids only an entry read by a table read issued after the verdict first
  // stood) the core refuses even a verdict fed alone: the reproduction no longer reaches a reused epoch.
  const Outcome o = check_trail("liveness_alone", Bug::liveness_alone, /*bug_reaches=*/false);
  CHECK(o.divergence.find("core: no write") != std::string::npos);
}

TEST_CASE("model trail replay: read_block0 — the real reader sees a service in the second table block") {
  // BUG_READ_BLOCK0: table-peer read block 0 only; the peer's claim on service 1 (block 1) was invisible.
  // Fed every block, the real core sees the peer's entry up and does not claim it.
  const Outcome o = check_trail("read_block0", Bug::read_block0);
  CHECK_MESSAGE(o.read_note.find("the model reads st=0 nd=0 bal=0") != std::string::npos, o.read_note);
}

TEST_CASE("model trail replay: corrupt_free — an unknown (corrupt) peer entry is never free") {
  // BUG_CORRUPT_FREE: a corrupt peer block counted as no entries. The real core gets unknown=true and
  // does not claim (needs svcmgr's unknown-entry handling, branch h-svcmgr).
  const Outcome o = check_trail("corrupt_free", Bug::corrupt_free);
  CHECK_MESSAGE(o.read_note.find("the real read unknown") != std::string::npos, o.read_note);
}

TEST_CASE("model trail replay: floor_after — the epoch floor written first keeps a lost block's epoch") {
  // BUG_FLOOR_AFTER: the owner's floor was written after its owned write; it crashed before the floor write,
  // its table block was corrupted, and the survivor (floor known: 0) took the dead owner's epoch again.
  // With the floor written before the table write, the survivor's epoch is above it (needs svcmgr's floors,
  // branch h-svcmgr).
  const Outcome o = check_trail("floor_after", Bug::floor_after);
  CHECK_MESSAGE(o.divergence.find("model: step claim_confirmed_owned") == 0, o.divergence);
}

TEST_CASE("model trail replay: down_while_owned — quorumd writes no DOWN while its table holds an up entry") {
  const Outcome o = check_trail("down_while_owned", Bug::down_while_owned);
  CHECK(o.divergence.find("DOWN written") != std::string::npos);
}

TEST_CASE("model trail replay: late_down — a late DOWN of a replaced incarnation gives no verdict") {
  // BUG_LATE_DOWN: node 2 left (its first DOWN write timed out and stayed in the kernel), came back as a new
  // incarnation, took the service and paused; the old DOWN landed and node 1 took over at once. The real
  // PeerMonitor, having seen the new incarnation, ignores it (needs the PeerMonitor fix, branch h-core).
  const Outcome o = check_trail("late_down", Bug::late_down);
  CHECK_MESSAGE(o.verdict_note.find("the model says DOWN") != std::string::npos, o.verdict_note);
}

TEST_CASE("model trail replay: restart_no_wait — a restart finds no table write of the previous process in the kernel") {
  // BUG_RESTART_NO_WAIT: node 2 crashed with a table write in the kernel and restarted at once; the old write
  // landed over the new process's claim, node 1 read the old value as free and both ran the service. quorumd
  // gets the wait from the kernel (its exit waits for its AIO), so the correct replay refuses the restart.
  const Outcome o = check_trail("restart_no_wait", Bug::restart_no_wait);
  CHECK_MESSAGE(o.divergence.find("table write of the previous process") != std::string::npos, o.divergence);
}

TEST_CASE("model trail replay: restart_rebuild_floor — a corrupt own block at restart keeps the floor") {
  // BUG_RESTART_REBUILD_FLOOR: node 2 started epoch 1, crashed, its table block was garbled while it was down;
  // restarted, it rebuilt its floor from what it could load (0) and took epoch 1 again. quorumd loads the
  // floor from the epoch record (it decodes), so the new epoch is above it.
  const Outcome o = check_trail("restart_rebuild_floor", Bug::restart_rebuild_floor);
  CHECK_MESSAGE(o.divergence.find("the floor rebuilt at the restart") != std::string::npos, o.divergence);
}

TEST_CASE("model trail replay: promise_no_floor — the grantor's floor holds the DEAD verdict back") {
  // BUG_PROMISE_NO_FLOOR: node 2 granted node 1's requests during a shared stall but recorded no floor, and
  // declared node 1 DEAD at first_seen + D while node 1 still ran on the promise. The real core raised its floor
  // at each grant (grant_promise: the floor first): its monitor refuses that verdict until the last floor + D.
  const auto r = check_promise_trail("promise_no_floor");
  CHECK_MESSAGE(r->diverged_at->what == "peer_dead", r->divergence);
  const QuorumCore& grantor = *r->core(r->diverged_at->node);
  REQUIRE(r->last_grant(r->diverged_at->node));
  CHECK(grantor.promises_granted() > 0);
  CHECK(grantor.promise_floor() == *r->last_grant(r->diverged_at->node) + 3 * T);
  CHECK(grantor.peer().view() != PeerView::dead);
  REQUIRE(grantor.peer().dead_deadline());
  // the model's verdict came before floor + D, and only the floor holds it back (first_seen + D has passed)
  CHECK(r->now() < *grantor.peer().dead_deadline());
  CHECK(*grantor.peer().dead_deadline() == grantor.promise_floor() + kDeadTime);
  CHECK(grantor.peer().first_seen() + kDeadTime <= r->now());
}

TEST_CASE("model trail replay: grant_disk_ok — a core whose own disk works never grants") {
  // BUG_GRANT_DISK_OK: only node 1's path failed; node 2, its disk fine, granted from its disk-ok branch with no
  // floor and later took the service while node 1 ran on the promise. The real core refuses the first grant.
  const auto r = check_promise_trail("grant_disk_ok");
  CHECK_MESSAGE(r->diverged_at->what == "grant", r->divergence);
  CHECK_MESSAGE(r->divergence.find("my own disk works") != std::string::npos, r->divergence);
  const QuorumCore& grantor = *r->core(r->diverged_at->node);
  CHECK_FALSE(grantor.disk_failing(r->now()));
  CHECK(grantor.promises_granted() == 0);
}

TEST_CASE("model trail replay: promise_receipt_anchor — a late grant extends from its request's send time") {
  // BUG_PROMISE_RECEIPT_ANCHOR: a grant delayed 4 ticks extended node 1's lease to its receipt + P, past the
  // grantor's floor. on_promise anchors at the request's send time: that end is already behind the lease, so
  // the grant extends nothing, and the holder's lease ends no later than the grantor's floor.
  const auto r = check_promise_trail("promise_receipt_anchor");
  CHECK_MESSAGE(r->diverged_at->what == "extend", r->divergence);
  const int holder = r->diverged_at->node, grantor = 3 - holder;
  const QuorumCore& h = *r->core(holder);
  REQUIRE(h.lease_expiry());
  REQUIRE(h.last_ok_write_issue());
  CHECK(r->expiry_before_extend == h.lease_expiry());               // the late grant moved nothing:
  CHECK(*h.lease_expiry() == *h.last_ok_write_issue() + 3 * T);     // the lease is its own disk's
  CHECK(*h.lease_expiry() < r->now() + 3 * T);                      // the receipt anchor would have given this
  REQUIRE(r->core(grantor));
  CHECK(r->core(grantor)->promise_floor() < r->now() + 3 * T);      // ... past the grantor's floor
  CHECK((!h.promised_until() || *h.promised_until() <= r->core(grantor)->promise_floor()));
}

TEST_CASE("model trail replay: promise_forgotten — a new core holds DEAD back by restart_hold = P - F") {
  // BUG_PROMISE_FORGOTTEN, run with P = 5T > F = 3T (with P = F there is nothing to forget since b55f7e2:
  // restart_hold = max(0, P - F)). Node 2 granted, crashed and restarted with no floor, and its new monitor
  // declared node 1 DEAD at first_seen + D, before the old grant + (P - F) + D. The real core starts with
  // floor = start + (P - F) and refuses that verdict.
  const auto r = check_promise_trail("promise_forgotten");
  REQUIRE(trail_term("promise_forgotten") == 5 * T);
  CHECK_MESSAGE(r->diverged_at->what == "peer_dead", r->divergence);
  const int id = r->diverged_at->node;
  const QuorumCore& c = *r->core(id);
  REQUIRE(r->started(id));
  CHECK(c.promise_floor() == *r->started(id) + 2 * T);  // restart_hold = P - F
  CHECK(c.promises_granted() == 0);                      // the floor is the start's, not a grant of this life
  CHECK(c.peer().view() != PeerView::dead);
  REQUIRE(c.peer().dead_deadline());
  CHECK(r->now() < *c.peer().dead_deadline());
  CHECK(*c.peer().dead_deadline() == c.promise_floor() + kDeadTime);  // only the start floor holds it back
}

TEST_CASE("model trail replay: a new core with P = F holds nothing back (restart_hold = 0)") {
  CoreConfig cfg;
  cfg.cluster_uuid.bytes[0] = 0x15;
  cfg.node_id = 2;
  cfg.incarnation = 2;
  cfg.timing = *Timing::from_io_timeout(T);
  cfg.promises = PromiseTerms::from(cfg.timing, kPromiseStall);
  const TimePoint start{std::chrono::seconds(2000)};
  QuorumCore fresh(cfg, start);
  CHECK(fresh.promise_floor() == start);
  HeartbeatRecord peer;
  peer.cluster_uuid = cfg.cluster_uuid;
  peer.node_id = 1;
  peer.incarnation = 1;
  peer.seq = 7;
  std::vector<CoreAction> acts;
  fresh.on_peer_read(start, peer, 0, Status::Ok(), start, acts);  // first read at start: first_seen = start
  fresh.on_peer_read(start + kDeadTime, peer, 0, Status::Ok(), start + kDeadTime, acts);
  CHECK(fresh.peer().view() == PeerView::dead);  // first_seen + D: the stall_restart run (P = F) checks it safe
}
