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
  return x;
}

bool same_fields(const ServiceEntry& a, const ServiceEntry& b) {
  return a.state == b.state && a.node == b.node && a.ballot == b.ballot && a.epoch == b.epoch;
}

std::string show(const ServiceEntry& e) {
  return std::string(ownership_state_name(e.state)) + " nd=" + std::to_string(e.node) + " bal=" +
         std::to_string(e.ballot) + " ep=" + std::to_string(e.epoch);
}

// none: the real core fed as svcmgr feeds it; the others reproduce a bug or a misuse on the test side.
enum class Bug { none, stale_read_as_fresh, early_verdict, liveness_alone };

struct Replay {
  explicit Replay(Bug bug) : bug_(bug) {}

  // Feeds every event; stops at the first model step the core does not take (a divergence).
  void run(const std::vector<Event>& events) {
    for (const Event& e : events) {
      clock_.advance(Millis(1));
      if (!apply(e)) {
        diverged_at = &e;
        return;
      }
    }
  }

  bool both_may_run() const { return may_run(0) && may_run(1); }
  bool epoch_reused = false;  // a start with an epoch not above every earlier start's

  // As svcmgr would next: a read of the peer's entry issued now, with quorumd's verdict, then step().
  OwnershipStep read_and_step(int id) {
    Node& n = n_[id - 1];
    clock_.advance(Millis(1));
    n.own->on_peer_entry({n_[2 - id].disk, clock_.now(), clock_.now() + Millis(1)});
    n.own->on_liveness(liveness(n));
    clock_.advance(Millis(2));
    return n.own->step(clock_.now());
  }
  bool may_run(int i) const { return n_[i].own && n_[i].own->may_run(); }

  const Event* diverged_at = nullptr;
  std::string divergence;    // what the core did instead
  std::string verdict_note;  // where the real PeerMonitor disagreed with the model's verdict
  int steps_matched = 0;

 private:
  struct Node {
    std::unique_ptr<Ownership> own;
    std::unique_ptr<PeerMonitor> monitor;  // this node's quorumd, watching the peer
    Intent intent = Intent::hold;
    bool alive = true, paused = false, hb_fails = false;
    uint64_t incarnation = 0, seq = 0;
    ServiceEntry disk;                         // my entry on the disk
    struct InKernel {
      uint64_t token;  // 0: nobody waits for it (timed out, or its writer crashed)
      ServiceEntry value;
      bool landed = false;
    };
    std::optional<InKernel> in_kernel;         // at most one write of my entry in the kernel
    TimePoint read_issued;                     // the read of the peer's entry in flight
    std::optional<OwnershipStep> stashed;      // an action step() returned after releasing -> idle
  };

  Node& node(const Event& e) { return n_[e.node - 1]; }
  Node& peer(const Event& e) { return n_[2 - e.node]; }

  PeerLiveness liveness(const Node& n) const {
    return {n.monitor->view(), n.monitor->last_read_issued()};
  }

  void set_intent(Node& n, int self, Intent in) {
    n.intent = in;
    if (n.own) n.own->set_intent(in, in == Intent::release ? uint32_t(3 - self) : 0);
  }

  void crash(Node& n) {
    n.alive = false;
    n.paused = false;
    n.own.reset();
    n.monitor.reset();
    n.stashed.reset();
    if (n.in_kernel) {
      if (n.in_kernel->landed) n.in_kernel.reset();
      else n.in_kernel->token = 0;  // an orphan: may still land
    }
  }

  // Ownership::step, or what it returned earlier and the model takes now.
  OwnershipStep take_step(Node& n) {
    if (n.stashed) {
      OwnershipStep s = *n.stashed;
      n.stashed.reset();
      return s;
    }
    return n.own->step(clock_.now());
  }

  bool refuse(const Event& e, const std::string& why) {
    divergence = why;
    (void)e;
    return false;
  }

  bool apply(const Event& e) {
    const std::string& w = e.what;
    if (w == "tick") return tick(e);
    Node& n = node(e);
    const int self = e.node;
    if (w == "set_intent") {
      set_intent(n, self, e.kv.at("") == 1 ? Intent::hold : Intent::release);
      return true;
    }
    if (w == "restart") {
      REQUIRE_MESSAGE((long(n.disk.state) == e.kv.at("st") && long(n.disk.ballot) == e.kv.at("bal")),
                      "line " << e.line << ": my entry on the replayed disk is " << show(n.disk));
      n.alive = true;
      ++n.incarnation;
      n.seq = 0;
      n.hb_fails = false;
      n.own = std::make_unique<Ownership>("svc", uint32_t(self), n.disk);
      n.own->set_intent(n.intent, n.intent == Intent::release ? uint32_t(3 - self) : 0);
      n.monitor = std::make_unique<PeerMonitor>(bug_ == Bug::early_verdict ? kBuggyDeadTime : kDeadTime);
      n.read_issued = clock_.now();
      return true;
    }
    if (w == "crash" || w == "fence_lease_lapsed" || w == "fence_on_resume" || w == "watchdog_reset") {
      crash(n);
      return true;
    }
    if (w == "pause") { n.paused = true; return true; }
    if (w == "resume") { n.paused = false; return true; }
    if (w == "hb_path_fails") { n.hb_fails = true; return true; }
    if (w == "write_lands") {
      REQUIRE_MESSAGE(n.in_kernel, "line " << e.line << ": nothing in the kernel");
      REQUIRE_MESSAGE(same_fields(n.in_kernel->value, entry_of(e)), "line " << e.line);
      n.disk = n.in_kernel->value;
      n.in_kernel->landed = true;
      if (n.in_kernel->token == 0) n.in_kernel.reset();  // a late write: nobody waits for it
      return true;
    }
    if (w == "write_lost") { n.in_kernel.reset(); return true; }
    if (w == "write_done ok" || w == "write_done failed") {
      REQUIRE_MESSAGE(n.in_kernel, "line " << e.line);
      const bool ok = w == "write_done ok";
      n.own->on_write_done(n.in_kernel->token, ok, clock_.now());
      if (ok || n.in_kernel->landed) n.in_kernel.reset();
      else n.in_kernel->token = 0;  // timed out: it may still land
      return true;
    }
    if (w == "on_peer_entry") {
      // The model's read returns the peer's entry on the disk, as the replay has it.
      const ServiceEntry seen = peer(e).disk;
      REQUIRE_MESSAGE(same_fields(seen, entry_of(e)), "line " << e.line << ": replayed disk has " << show(seen));
      n.own->on_peer_entry({seen, n.read_issued, clock_.now()});
      if (bug_ != Bug::liveness_alone)
        n.own->on_liveness(liveness(n));  // as SvcmgrDaemon::on_peer_table: the verdict comes with the read
      clock_.advance(Millis(1));
      n.read_issued = clock_.now();     // the next read
      return true;
    }
    if (w == "on_liveness dead") {
      if (bug_ == Bug::liveness_alone) n.own->on_liveness(liveness(n));  // the verdict alone
      if ((n.monitor->view() == PeerView::dead) != (e.kv.at("") == 1) && verdict_note.empty())
        verdict_note = "line " + std::to_string(e.line) + ": the model's verdict dead=" +
                       std::to_string(e.kv.at("")) + ", the real PeerMonitor says " +
                       peer_view_name(n.monitor->view());
      return true;
    }
    if (w == "peer_dead") {
      if (n.monitor->view() != PeerView::dead && verdict_note.empty())
        verdict_note = "line " + std::to_string(e.line) + " (t=" + std::to_string(e.tick) +
                       "): the model declares the peer dead, the real PeerMonitor (D=" +
                       format_duration(bug_ == Bug::early_verdict ? kBuggyDeadTime : kDeadTime) + ") says " +
                       peer_view_name(n.monitor->view());
      return true;
    }
    if (w == "on_stopped") { n.own->on_stopped(); return true; }
    if (w.rfind("step ", 0) == 0) {
      // The model's bug: its claim is confirmed by the read it had before its claim landed. Reproduced here
      // by handing the core that same stale value again, dressed as a read issued now.
      if (bug_ == Bug::stale_read_as_fresh && n.own->phase() == OwnershipPhase::claiming && n.own->peer() &&
          (w == "step claim_confirmed_owned" || w == "step claim_withdrawn_peer")) {
        n.own->on_peer_entry({n.own->peer()->entry, clock_.now(), clock_.now()});
        clock_.advance(Millis(1));
      }
      pending_step_ = w;
      pending_node_ = self;
      return true;
    }
    if (w == "write") {
      REQUIRE_MESSAGE(pending_node_ == self, "line " << e.line << ": a write without its step");
      pending_node_ = 0;
      OwnershipStep s = take_step(n);
      const ServiceEntry want = entry_of(e);
      if (!s.write || !same_fields(*s.write, want))
        return refuse(e, "model: " + pending_step_ + " -> write " + show(want) + "; core: " +
                             (s.write ? "write " + show(*s.write) : std::string("no write")) +
                             (s.start ? " start" : "") + (s.why.empty() ? "" : " (" + s.why + ")") +
                             " [phase " + ownership_phase_name(n.own->phase()) + "]");
      n.in_kernel = Node::InKernel{n.own->write_token(), *s.write};
      ++steps_matched;
      return true;
    }
    if (w == "start" || w == "stop" || w == "released_idle") {
      OwnershipStep s = take_step(n);
      bool ok = false;
      if (w == "start") {
        ok = s.start && long(s.epoch) == e.kv.at("ep") && !s.write;
        if (ok && s.epoch <= max_started_epoch_) epoch_reused = true;
        if (ok) max_started_epoch_ = std::max(max_started_epoch_, s.epoch);
      }
      if (w == "stop") ok = s.stop && !s.write;
      if (w == "released_idle") {
        ok = n.own->phase() == OwnershipPhase::idle;
        if (s.write || s.start || s.stop) n.stashed = s;  // step() went on from idle: the model's next step
      }
      if (!ok)
        return refuse(e, "model: " + w + "; core: " + (s.write ? "write " + show(*s.write) : "no write") +
                             (s.start ? " start" : "") + (s.stop ? " stop" : "") +
                             " [phase " + ownership_phase_name(n.own->phase()) + "]");
      ++steps_matched;
      return true;
    }
    FAIL("line " << e.line << ": unknown trail event '" << e.text << "'");
    return false;
  }

  // One io_timeout: heartbeat writes of running nodes whose path works, then each quorumd reads the peer's.
  bool tick(const Event& e) {
    const TimePoint next = TimePoint(std::chrono::seconds(1000)) + e.tick * T;
    REQUIRE(next > clock_.now());
    clock_.set(next);
    for (Node& n : n_)
      if (n.alive && !n.paused && !n.hb_fails) ++n.seq;
    for (int i = 0; i < 2; ++i) {
      Node& n = n_[i];
      const Node& p = n_[1 - i];
      if (!n.alive || n.paused || !n.monitor) continue;
      PeerObservation obs;
      obs.read_issued = obs.read_completed = clock_.now();
      HeartbeatRecord r;
      r.node_id = uint32_t(2 - i);
      r.incarnation = p.incarnation;
      r.seq = p.seq;
      obs.record = r;
      n.monitor->observe(obs);
    }
    return true;
  }

  Bug bug_;
  FakeClock clock_{TimePoint(std::chrono::seconds(1000))};
  Node n_[2];
  std::string pending_step_;
  int pending_node_ = 0;
  uint64_t max_started_epoch_ = 0;
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

// The trail ends with both nodes having started the service (the model's assertion failed there).
void check_trail_ends_in_two_owners(const std::vector<Event>& events, const std::string& assertion) {
  CHECK(assertion.find("svc") != std::string::npos);
  int last_start[3] = {0, 0, 0};
  for (size_t k = 0; k < events.size(); ++k)
    if (events[k].what == "start") last_start[events[k].node] = int(k) + 1;
  CHECK(last_start[1] > 0);
  CHECK(last_start[2] > 0);
  CHECK(events.back().what == "start");
}

}  // namespace

TEST_CASE("model trail replay: skip_reread — the real core refuses a claim confirmed by a stale read") {
  std::string assertion;
  const auto events = load("skip_reread.trail", assertion);
  check_trail_ends_in_two_owners(events, assertion);

  Replay real(Bug::none);
  real.run(events);
  REQUIRE_MESSAGE(real.diverged_at, "the real core followed the buggy schedule to the end");
  const Event& at = *real.diverged_at;
  // The core goes along with the model up to the bug's step, and refuses exactly that one: confirming
  // its claim without a read of the peer issued after the claim landed.
  CHECK_MESSAGE(at.what == "write", at.text);
  CHECK_MESSAGE(at.kv.at("st") == long(OwnershipState::owned), at.text << " / " << real.divergence);
  CHECK(real.divergence.find("model: step claim_confirmed_owned") == 0);
  CHECK(real.divergence.find("core: no write") != std::string::npos);
  CHECK(real.steps_matched >= 3);  // node 2 itself confirms with a stale read at its first claim
  CHECK_FALSE(real.both_may_run());
  MESSAGE("real core at trail line " << at.line << ": " << real.divergence);

  Replay buggy(Bug::stale_read_as_fresh);
  buggy.run(events);
  CHECK_MESSAGE(!buggy.diverged_at, (buggy.diverged_at ? buggy.diverged_at->text + ": " + buggy.divergence : ""));
  CHECK(buggy.both_may_run());  // the two-owner state the trail ends in
  std::printf("[castor] model trail skip_reread: %zu events; real core refuses at line %d after %d matching "
              "steps; with stale reads passed off as fresh it reaches two owners\n",
              events.size(), at.line, real.steps_matched);
}

TEST_CASE("model trail replay: early_takeover — the real dead time keeps the core from taking over") {
  std::string assertion;
  const auto events = load("early_takeover.trail", assertion);
  check_trail_ends_in_two_owners(events, assertion);

  Replay real(Bug::none);
  real.run(events);
  // quorumd's real PeerMonitor (D = 6T) does not call the paused peer dead when the model's buggy one
  // (D = F) does, so the core sees the peer's owned entry up and refuses to claim.
  CHECK_MESSAGE(real.verdict_note.find("the model declares the peer dead") != std::string::npos, real.verdict_note);
  REQUIRE_MESSAGE(real.diverged_at, "the real core followed the buggy schedule to the end");
  const Event& at = *real.diverged_at;
  CHECK_MESSAGE(at.what == "write", at.text);
  CHECK(real.divergence.find("model: step claim") == 0);
  CHECK(real.divergence.find("core: no write") != std::string::npos);
  CHECK_FALSE(real.both_may_run());
  MESSAGE(real.verdict_note);
  MESSAGE("real core at trail line " << at.line << ": " << real.divergence);

  Replay buggy(Bug::early_verdict);
  buggy.run(events);
  CHECK_MESSAGE(!buggy.diverged_at, (buggy.diverged_at ? buggy.diverged_at->text + ": " + buggy.divergence : ""));
  CHECK_MESSAGE(buggy.verdict_note.empty(), buggy.verdict_note);  // PeerMonitor(D=F) agrees with the model
  CHECK(buggy.both_may_run());  // node 2 paused with its service, node 1 running it too
  std::printf("[castor] model trail early_takeover: %zu events; real PeerMonitor (D=6T) gives no verdict at "
              "t=%d and the core refuses at line %d; with D=F it reaches two owners\n",
              events.size(), at.tick, at.line);
}

TEST_CASE("model trail replay: liveness_alone — fed as svcmgr feeds it, the core never reuses an epoch") {
  // Not a seeded bug: spin's counter-example to Ownership's contract. Node 2 starts epoch 1 and crashes;
  // node 1 last read node 2's entry while it still said "claiming, epoch 0". If the DEAD verdict reaches the
  // core alone (no read with it), the core voids that stale entry and takes epoch max(0, 0) + 1 = 1 again.
  // SvcmgrDaemon::on_peer_table always hands the verdict over together with a table read (issued at most T
  // earlier, so after the dead node's last write): then the core sees the crashed owner's epoch 1.
  std::string assertion;
  const auto events = load("liveness_alone.trail", assertion);
  CHECK(assertion.find("maxep") != std::string::npos);

  Replay real(Bug::none);
  real.run(events);
  REQUIRE_MESSAGE(real.diverged_at, "the real core followed the schedule to the end");
  const Event& at = *real.diverged_at;
  CHECK_MESSAGE(at.what == "write", at.text);
  CHECK(real.divergence.find("model: step claim_confirmed_owned") == 0);
  CHECK(real.divergence.find("core: no write") != std::string::npos);  // no verdict yet: it waits for a read
  CHECK_FALSE(real.epoch_reused);
  CHECK_FALSE(real.both_may_run());
  // The next table read brings the verdict with node 2's current entry (owned, epoch 1, of the crashed
  // incarnation, first seen now): the core never owns with an epoch at or below 1.
  const OwnershipStep s = real.read_and_step(at.node);
  CHECK_FALSE((s.write && s.write->state == OwnershipState::owned && s.write->epoch <= 1));
  MESSAGE("real core at trail line " << at.line << ": " << real.divergence << "; with the next read: "
                                      << (s.write ? show(*s.write) : std::string("no write")) << " (" << s.why << ")");

  Replay alone(Bug::liveness_alone);
  alone.run(events);
  CHECK_MESSAGE(!alone.diverged_at, (alone.diverged_at ? alone.diverged_at->text + ": " + alone.divergence : ""));
  CHECK(alone.epoch_reused);  // the contract matters: fed the verdict alone, the core reuses epoch 1
  std::printf("[castor] model trail liveness_alone: %zu events; fed as svcmgr does, the core waits for a read "
              "(then: %s); fed the verdict alone it reuses epoch 1\n",
              events.size(), s.why.c_str());
}
