// The two-node svcmgr fixture of the root tests: two whole SvcmgrDaemons in one process, each with its own
// SvcmgrEnv, a shared fake clock and an in-memory quorumd (FakeCluster), with real exec/OCF agents writing
// into a scratch directory. Shared by svcmgr_daemon_test.cc and review14c_test.cc; it must never stand in
// for a real agent's process or a real node's own files (each node's instance lives in files of its own).
#pragma once

#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/read_file.h"
#include "agent/agent_metadata.h"
#include "config/service_loader.h"
#include "common/unique_fd.h"
#include "control/event_codec.h"
#include "control/reply_codec.h"
#include "control/table_codec.h"
#include "svcmgr/svcmgr_daemon.h"
#include "svcmgr/svcmgr_env.h"
#include "svcmgr/svcmgr_exit.h"
#include "tests/support/scratch.h"

namespace castor::testing::svcmgr_pair {

using namespace std::chrono_literals;
using castor::testing::ScratchDir;
using nlohmann::json;

inline int64_t ns(TimePoint t) { return t.time_since_epoch().count(); }

// Two quorumds and their disk, in memory. Node index 0 is "a" (id 1), 1 is "b" (id 2). Replies and events
// are written with lib/control's codecs, as quorumd writes them.
struct FakeCluster {
  FakeClock clock;
  std::map<std::string, TableEntry> table[2];  // each node's service table, by service name
  uint64_t digest[2] = {0, 0};
  PeerView view_of_peer[2] = {PeerView::up, PeerView::up};  // what node i's quorumd says of its peer
  bool lease_ok[2] = {true, true};
  std::deque<QuorumdEvent> events[2];  // queued for node i's svcmgr
  std::deque<std::string> raw_events[2];  // event texts as they are, sent after `events` (malformed ones)
  bool garble_peer_entries[2] = {false, false};  // node i's table-peer replies: every entry's state unparsable
  int event_fd[2] = {-1, -1};  // what node i's link gives as its event descriptor (-1: none, in memory)
  std::vector<std::string> writes;     // "a ledger owned 1": every table-set, in order
  std::vector<std::string> other[2];   // every other request line (fence, register-pgid, ...)
  uint32_t next_block = 1;
  // quorumd's peer_updated (issue 19): off by default (the status reply then says this quorumd does not
  // send it, and svcmgr reads at every tick, as it did before); when on, a table-set or set-digest of node i
  // tells node 1-i.
  std::vector<TimePoint> table_reads[2];   // when node i asked table-peer
  int fail_table_peer[2] = {0, 0};         // answer the next N table-peer requests of node i with an error reply
  bool emit_peer_updated = false;           // model quorumd: a table-set or set-digest of node i sends peer_updated to 1-i
  std::function<void(int, const std::string&)> on_table_set;  // hook (node, write text)
  void peer_updated(int i, const std::string& why = "table generation") {
    QuorumdEvent e = event(i, QuorumdEventKind::peer_updated, why);
    e.peer_incarnation = 1;
    send(i, e);
  }

  static std::string name(int i) { return i == 0 ? "a" : "b"; }
  static uint32_t id(int i) { return uint32_t(i + 1); }

  QuorumdEvent event(int i, QuorumdEventKind kind, const std::string& reason = "test") const {
    QuorumdEvent e;
    e.kind = kind;
    e.node = name(i);
    e.incarnation = 1;
    e.boottime_ns = ns(clock.now());
    e.reason = reason;
    return e;
  }
  void send(int i, QuorumdEvent e) { events[i].push_back(std::move(e)); }
  void peer_changed(int i, PeerView to) {
    QuorumdEvent e = event(i, QuorumdEventKind::peer_changed);
    e.peer = name(1 - i);
    e.from = view_of_peer[i];
    e.to = to;
    e.peer_incarnation = 1;
    view_of_peer[i] = to;
    send(i, e);
  }

  std::string answer(int i, const std::string& line) {
    const TimePoint now = clock.now();
    const auto sp = line.find(' ');
    const std::string verb = line.substr(0, sp);
    const std::string args = sp == std::string::npos ? "" : line.substr(sp + 1);
    if (verb == "status")
      return json{{"ok", true},
                  {"node", {{"name", name(i)}, {"id", id(i)}}},
                  {"peer", {{"name", name(1 - i)}, {"id", id(1 - i)}}},
                  {"timing_ms", {{"renew_interval", 500}}},
                  {"standby", false},
                  {"sends_peer_updated", emit_peer_updated}}
          .dump();
    if (verb == "set-digest") {
      digest[i] = std::stoull(args);
      if (emit_peer_updated) peer_updated(1 - i, "digest");
      return encode_ok_reply();
    }
    if (verb == "table-own") {
      TableOwnReply r;
      for (const auto& [n, e] : table[i]) r.entries.push_back(TableEntry{e.entry, std::nullopt, std::nullopt});
      return encode_table_own_reply(r);
    }
    if (verb == "table-peer") {
      table_reads[i].push_back(now);
      if (fail_table_peer[i] > 0) {
        --fail_table_peer[i];
        return encode_error_reply("reading the peer's table failed: timeout");
      }
      TablePeerReply r;
      r.read_issued_boottime_ns = ns(now);
      for (const auto& [n, e] : table[1 - i]) r.entries.push_back(e);
      r.peer_epoch_floor = 0;
      r.peer.view = view_of_peer[i];
      r.peer.incarnation = 1;
      r.peer.confirmed_boottime_ns = ns(now);
      r.peer.digest_known = digest[1 - i] != 0;
      r.peer.services_digest = digest[1 - i];
      if (!garble_peer_entries[i]) return encode_table_peer_reply(r);
      // A reply whose peer entries do not parse (a state this svcmgr does not know).
      json j = json::parse(encode_table_peer_reply(r));
      for (auto& e : j["entries"]) e["state"] = "bogus";
      return j.dump();
    }
    if (verb == "table-set") {
      auto req = parse_table_set_args(args);
      if (!req.ok()) return encode_error_reply(req.status().message());
      TableEntry& e = table[i][req->name];
      if (!e.block) e.block = next_block++;
      e.incarnation = 1;
      e.entry = req->to_entry();
      writes.push_back(name(i) + " " + req->name + " " + ownership_state_name(req->state) + " " +
                       std::to_string(req->epoch));
      if (emit_peer_updated) peer_updated(1 - i);
      if (on_table_set) on_table_set(i, writes.back());
      return encode_table_set_reply(TableSetReply{ns(now)});
    }
    other[i].push_back(line);
    return encode_ok_reply();
  }

  // What `svc` looks like in node i's table (state name, or "" when it has no entry).
  std::string state_in(int i, const std::string& svc) const {
    auto it = table[i].find(svc);
    return it == table[i].end() ? "" : ownership_state_name(it->second.entry.state);
  }
};

// Node i's quorumd link: requests are answered at the next process(), as from a socket; events too.
class FakeChannel final : public QuorumdChannel {
 public:
  FakeChannel(FakeCluster& c, int i) : c_(c), i_(i) {}
  Status connect(EventFn on_event) override {
    on_event_ = std::move(on_event);
    return Status::Ok();
  }
  bool connected() const override { return true; }
  void request(const std::string& line, ReplyFn done) override { queue_.emplace_back(line, std::move(done)); }
  int request_fd() const override { return -1; }
  int event_fd() const override { return c_.event_fd[i_]; }
  bool wants_write() const override { return false; }
  void await(Duration) override {}
  void process() override {
    const TimePoint now = c_.clock.now();
    if (c_.lease_ok[i_] && now >= next_renew_) {
      next_renew_ = now + 1s;
      QuorumdEvent e = c_.event(i_, QuorumdEventKind::lease_renewed, "");
      e.seq = ++seq_;
      e.lease_expiry_boottime_ns = ns(now + 5s);
      c_.send(i_, e);
    }
    while (!c_.events[i_].empty()) {
      const QuorumdEvent e = std::move(c_.events[i_].front());
      c_.events[i_].pop_front();
      if (on_event_) on_event_(encode_quorumd_event(e));
    }
    while (!c_.raw_events[i_].empty()) {
      const std::string text = std::move(c_.raw_events[i_].front());
      c_.raw_events[i_].pop_front();
      if (on_event_) on_event_(text);
    }
    // Only what was queued before this call: a reply's callback may queue the next request.
    std::deque<std::pair<std::string, ReplyFn>> batch;
    batch.swap(queue_);
    for (auto& [line, done] : batch) done(Result<std::string>(c_.answer(i_, line)));
  }

 private:
  FakeCluster& c_;
  int i_;
  EventFn on_event_;
  std::deque<std::pair<std::string, ReplyFn>> queue_;
  TimePoint next_renew_{};
  uint64_t seq_ = 0;
};

class TestEnv final : public SvcmgrEnv {
 public:
  TestEnv(FakeCluster& c, int i) : c_(c), i_(i) {}
  const Clock& clock() const override { return c_.clock; }
  std::unique_ptr<QuorumdChannel> quorumd_channel(const std::string&) override {
    return std::make_unique<FakeChannel>(c_, i_);
  }
  Result<std::unique_ptr<ControlServer>> listen_admin(const std::string&, ControlAccess) override {
    return std::unique_ptr<ControlServer>();  // no socket: the test calls admin_request()
  }
  std::unique_ptr<ServiceRunner> make_runner(const ServiceDefinition& def, RunContext ctx) override {
    auto r = std::make_unique<ServiceRunner>(def, std::move(ctx));
    // How the runners read a freeze's progress: the kernel's file unless a test says otherwise.
    r->set_cgroup_state_reader([this](const std::string& path) -> Result<std::string> {
      if (freezer_state) return freezer_state(path);
      return read_file_to_string(path);
    });
    return r;
  }
  CgroupStateReader freezer_state;
  // The agents are real processes: a short real wait for their descriptors; the test moves the clock.
  Result<std::span<const EventLoop::Ready>> wait(EventLoop& loop, TimePoint, Duration) override {
    return loop.wait(Duration(1ms));
  }
  void pause(Duration d) override { c_.clock.advance(d); }

 private:
  FakeCluster& c_;
  int i_;
};

// Two svcmgrs, one service "ledger" preferred on a, whose exec agent appends "start NODE EPOCH" and
// "stop NODE EPOCH" to a ledger file and keeps a state file per node while it runs.
struct TwoNodes {
  ScratchDir dir;
  FakeCluster cluster;
  std::unique_ptr<TestEnv> env[2];
  std::unique_ptr<SvcmgrDaemon> d[2];
  std::optional<int> exit_code[2];

  // `before_start`: more service files or agents, written before the daemons start.
  explicit TwoNodes(const std::string& nodes = "a, b", const std::function<void(TwoNodes&)>& before_start = {}) {
    REQUIRE(testing::run_command("mkdir -p " + dir.file("state")) == 0);
    for (int i = 0; i < 2; ++i) {
      const std::string n = FakeCluster::name(i);
      REQUIRE(testing::run_command("mkdir -p " + dir.file(n + "-services")) == 0);
      std::ofstream f(dir.file(n + "-services/ledger.ini"));
      f << "[service]\nname = ledger\nnodes = " << nodes << "\nstop_timeout = 30s\nstart_timeout = 30s\n"
        << "monitor_interval = 600s\n\n[resource log]\nagent = exec\nshell = yes\n"
        << "start = echo \"start $CASTOR_NODE $CASTOR_EPOCH\" >> " << dir.file("ledger") << " && touch "
        << dir.file("state") << "/ledger-$CASTOR_NODE\n"
        << "stop = echo \"stop $CASTOR_NODE $CASTOR_EPOCH\" >> " << dir.file("ledger") << " && rm -f "
        << dir.file("state") << "/ledger-$CASTOR_NODE\n"
        << "monitor = test -e " << dir.file("state") << "/ledger-$CASTOR_NODE || exit 7\n";
    }
    if (before_start) before_start(*this);
    for (int i = 0; i < 2; ++i) {
      const std::string n = FakeCluster::name(i);
      SvcmgrConfig config;
      config.services_dir = dir.file(n + "-services");
      config.socket = dir.file(n + ".sock");
      config.quorumd_socket = "in-memory";
      config.ocf_root = dir.file("ocf");
      config.state_dir = dir.file(n + "-state");
      config.connect_timeout = 1s;
      env[i] = std::make_unique<TestEnv>(cluster, i);
      auto started = SvcmgrDaemon::start(config, *env[i]);
      REQUIRE_MESSAGE(started.ok(), started.status().to_string());
      d[i] = std::move(*started);
      REQUIRE(d[i]->prepare_loop().ok());
    }
  }

  // One pass of each running daemon after `dt` of fake time.
  void step(Duration dt = 20ms) {
    cluster.clock.advance(dt);
    for (int i = 0; i < 2; ++i)
      if (d[i] && !exit_code[i]) exit_code[i] = d[i]->run_once();
  }
  // One pass of each daemon after `dt` of real time, the fake clock moved by as much: for real agents whose
  // timeouts (on the fake clock) must not pass before their real work is done.
  void step_real(Duration dt = 5ms) {
    ::usleep(useconds_t(to_ms(dt) * 1000));
    step(dt);
  }
  // Steps until `done` holds; false after `limit` of fake time.
  bool run_until(const std::function<bool()>& done, Duration limit = 60s) {
    for (Duration t{0}; t < limit; t += 20ms) {
      if (done()) return true;
      step();
    }
    return done();
  }
  std::vector<std::string> ledger() const {
    std::vector<std::string> lines;
    std::ifstream f(dir.file("ledger"));
    for (std::string l; std::getline(f, l);) lines.push_back(l);
    return lines;
  }
  bool running_on(const std::string& node) const {
    return testing::run_command("test -e " + dir.file("state/ledger-" + node)) == 0;
  }
  json status(int i) {
    auto r = d[i]->admin_request(ControlRequest{"services", ""});
    REQUIRE(r.ok);
    json j = json::parse(r.body, nullptr, false);
    REQUIRE(!j.is_discarded());
    return j;
  }
  std::string state_of(int i) {
    json j = status(i);
    for (const auto& s : j["services"])
      if (s.value("name", "") == "ledger") return s.value("state", "");
    return "";
  }
};

// "start a 3" -> {"start", "a", 3}
struct LedgerLine {
  std::string what, node;
  uint64_t epoch = 0;
};
inline LedgerLine parse_line(const std::string& l) {
  LedgerLine x;
  std::istringstream in(l);
  in >> x.what >> x.node >> x.epoch;
  return x;
}

inline bool started_here(TwoNodes& t, int i) { return t.running_on(FakeCluster::name(i)) && t.state_of(i) == "started"; }



inline const char* const kSlowMetadata =
    "<?xml version=\"1.0\"?>\n<resource-agent name=\"slowmeta\">\n<actions>\n"
    "<action name=\"start\" timeout=\"41s\"/>\n<action name=\"stop\" timeout=\"42s\"/>\n"
    "<action name=\"monitor\" timeout=\"43s\" interval=\"600s\"/>\n</actions>\n</resource-agent>\n";

// An OCF agent whose meta-data takes 3 s (as a real one may, up to its 30 s timeout) and advertises start,
// stop and monitor timeouts Castor's defaults do not have; its start writes the timeout it was given. Its
// instance is a file per node (slow-running-NODE): each node's probe sees its own machine only, as on two
// real servers (one file for both made the peer's start-up probe find, and stop, a's instance).
inline void write_slow_metadata_agent(const ScratchDir& dir) {
  REQUIRE(testing::run_command("mkdir -p " + dir.file("ocf/resource.d/test")) == 0);
  const std::string agent = dir.file("ocf/resource.d/test/slowmeta");
  std::ofstream f(agent);
  f << "#!/bin/sh\n"
    << "case \"$1\" in\n"
    << "meta-data) sleep 3; cat <<'EOF'\n"
    << kSlowMetadata << "EOF\n  exit 0;;\n"
    << "start) echo \"$OCF_RESKEY_CRM_meta_timeout\" > " << dir.file("slow-start-timeout") << "; touch "
    << dir.file("slow-running-") << "$CASTOR_NODE; exit 0;;\n"
    << "stop) rm -f " << dir.file("slow-running-") << "$CASTOR_NODE; exit 0;;\n"
    << "monitor) test -e " << dir.file("slow-running-") << "$CASTOR_NODE && exit 0; exit 7;;\n"
    << "esac\nexit 3\n";
  f.close();
  REQUIRE(::chmod(agent.c_str(), 0755) == 0);
}

inline void write_slow_service(const ScratchDir& dir, const std::string& node) {
  std::ofstream f(dir.file(node + "-services/slow.ini"));
  f << "[service]\nname = slow\nnodes = a\n\n[resource r]\nagent = ocf:test:slowmeta\n";
}

inline json service_json(TwoNodes& t, int i, const std::string& name) {
  const json j = t.status(i);
  for (const auto& s : j["services"])
    if (s.value("name", "") == name) return s;
  return json::object();
}

inline std::string read_first_line(const std::string& path) {
  std::ifstream f(path);
  std::string l;
  std::getline(f, l);
  return l;
}

}  // namespace castor::testing::svcmgr_pair
