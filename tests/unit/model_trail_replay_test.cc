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
      const long v = std::stol(tok.substr(eq + 1));
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
