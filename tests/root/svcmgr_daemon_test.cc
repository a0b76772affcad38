// Daemon-level tests of svcmgr: two whole SvcmgrDaemons in one process, each with its own SvcmgrEnv, a
// shared fake clock and an in-memory quorumd (FakeCluster: both nodes' service tables, the lease events,
// what each node's quorumd says of its peer). The agents are real: exec resources that are tiny shell
// commands writing a ledger in a scratch directory (like service_runner_test), hence tests/root/.
// Covers: start on the preferred node only; an admin relocate (stopped on the source before it starts on
// the target, with a higher epoch); lease at risk and fence (every service stopped, exit 3); peer death
// (the survivor takes the service over once its quorumd says the peer is DEAD).
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

using namespace castor;
using namespace std::chrono_literals;
using castor::testing::ScratchDir;
using nlohmann::json;

namespace {

int64_t ns(TimePoint t) { return t.time_since_epoch().count(); }

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
                  {"standby", false}}
          .dump();
    if (verb == "set-digest") {
      digest[i] = std::stoull(args);
      return encode_ok_reply();
    }
    if (verb == "table-own") {
      TableOwnReply r;
      for (const auto& [n, e] : table[i]) r.entries.push_back(TableEntry{e.entry, std::nullopt, std::nullopt});
      return encode_table_own_reply(r);
    }
    if (verb == "table-peer") {
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
  Result<std::unique_ptr<ControlServer>> listen_admin(const std::string&) override {
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
LedgerLine parse_line(const std::string& l) {
  LedgerLine x;
  std::istringstream in(l);
  in >> x.what >> x.node >> x.epoch;
  return x;
}

bool started_here(TwoNodes& t, int i) { return t.running_on(FakeCluster::name(i)) && t.state_of(i) == "started"; }

}  // namespace

TEST_CASE("svcmgr daemons: an autostart service starts on its preferred node only") {
  SUBCASE("preferred a") {
    TwoNodes t("a, b");
    REQUIRE(t.run_until([&] { return started_here(t, 0); }));
    for (int k = 0; k < 100; ++k) t.step();  // and nothing else happens
    CHECK(t.running_on("a"));
    CHECK_FALSE(t.running_on("b"));
    const auto lines = t.ledger();
    REQUIRE(lines.size() == 1);
    CHECK(parse_line(lines[0]).what == "start");
    CHECK(parse_line(lines[0]).node == "a");
    CHECK(parse_line(lines[0]).epoch > 0);
    CHECK(t.cluster.state_in(0, "ledger") == "owned");
    CHECK(t.cluster.state_in(1, "ledger") != "owned");
    CHECK(t.status(1)["services"][0].value("owner", "") == "a");
  }
  SUBCASE("preferred b") {
    TwoNodes t("b, a");
    REQUIRE(t.run_until([&] { return started_here(t, 1); }));
    for (int k = 0; k < 100; ++k) t.step();
    CHECK(t.running_on("b"));
    CHECK_FALSE(t.running_on("a"));
    CHECK(t.ledger().size() == 1);
    CHECK(t.cluster.state_in(1, "ledger") == "owned");
  }
}

TEST_CASE("svcmgr daemons: relocate stops it on the source before it starts on the target, with a higher epoch") {
  TwoNodes t;
  REQUIRE(t.run_until([&] { return started_here(t, 0); }));
  auto r = t.d[0]->admin_request(ControlRequest{"relocate", "ledger"});
  REQUIRE_MESSAGE(r.ok, r.body);
  CHECK(json::parse(r.body, nullptr, false).value("message", "") == "relocate ledger accepted");
  REQUIRE(t.run_until([&] { return started_here(t, 1); }));
  CHECK_FALSE(t.running_on("a"));
  const auto lines = t.ledger();
  REQUIRE(lines.size() == 3);
  const LedgerLine s1 = parse_line(lines[0]), stop = parse_line(lines[1]), s2 = parse_line(lines[2]);
  CHECK(s1.what == "start");
  CHECK(s1.node == "a");
  CHECK(stop.what == "stop");
  CHECK(stop.node == "a");
  CHECK(stop.epoch == s1.epoch);
  CHECK(s2.what == "start");
  CHECK(s2.node == "b");
  CHECK(s2.epoch > s1.epoch);
  // a released it on the disk before b's claim.
  size_t released = SIZE_MAX, claimed = SIZE_MAX;
  for (size_t k = 0; k < t.cluster.writes.size(); ++k) {
    if (t.cluster.writes[k].rfind("a ledger released", 0) == 0 && released == SIZE_MAX) released = k;
    if (t.cluster.writes[k].rfind("b ledger claiming", 0) == 0 && claimed == SIZE_MAX) claimed = k;
  }
  CHECK(released < claimed);
  CHECK(t.cluster.state_in(1, "ledger") == "owned");
}

TEST_CASE("svcmgr daemons: lease at risk stops every service") {
  TwoNodes t;
  REQUIRE(t.run_until([&] { return started_here(t, 0); }));
  t.cluster.lease_ok[0] = false;  // no renewal either (one would let it start again)
  t.cluster.send(0, t.cluster.event(0, QuorumdEventKind::lease_at_risk, "test: disk writes late"));
  // Stopped well before the lease (5 s) could expire.
  REQUIRE(t.run_until([&] { return !t.running_on("a"); }, 2s));
  CHECK_FALSE(t.exit_code[0].has_value());
  for (int k = 0; k < 100; ++k) t.step();
  CHECK_FALSE(t.running_on("a"));
  CHECK(t.state_of(0) != "started");
  // a stopped it (today twice: the risk's stop, then Ownership's before it releases; stops are idempotent)
  // and released it, so b, whose lease is fine, may take it over — never before a's stop, never a again.
  const auto lines = t.ledger();
  REQUIRE(lines.size() >= 2);
  CHECK(parse_line(lines[1]).what == "stop");
  CHECK(parse_line(lines[1]).node == "a");
  CHECK(parse_line(lines[1]).epoch == parse_line(lines[0]).epoch);
  for (size_t k = 2; k < lines.size(); ++k) {
    const LedgerLine l = parse_line(lines[k]);
    if (l.node == "a") {
      CHECK(l.what == "stop");
    } else {
      CHECK(l.what == "start");
      CHECK(l.epoch > parse_line(lines[0]).epoch);
    }
  }
  CHECK(t.cluster.state_in(0, "ledger") == "released");
}

TEST_CASE("svcmgr daemons: a fence event kills every service and exits 3 at once") {
  TwoNodes t;
  REQUIRE(t.run_until([&] { return started_here(t, 0); }));
  t.cluster.send(0, t.cluster.event(0, QuorumdEventKind::fenced));
  // At once: the lease is still renewed, so only the fence can end it within a second.
  REQUIRE(t.run_until([&] { return t.exit_code[0].has_value(); }, 1s));
  CHECK(*t.exit_code[0] == kSvcmgrExitFenced);
  for (int k = 0; k < 50; ++k) t.step();
  CHECK_FALSE(t.exit_code[1].has_value());  // the peer lives on
}

TEST_CASE("svcmgr daemons: the lease expiring without a renewal kills every service and exits 3") {
  TwoNodes t;
  REQUIRE(t.run_until([&] { return started_here(t, 0); }));
  t.cluster.lease_ok[0] = false;
  REQUIRE(t.run_until([&] { return t.exit_code[0].has_value(); }, 10s));
  CHECK(*t.exit_code[0] == kSvcmgrExitLeaseLost);
}

TEST_CASE("svcmgr daemons: after the peer is reported DEAD the survivor takes the service over") {
  TwoNodes t;
  REQUIRE(t.run_until([&] { return started_here(t, 0); }));
  const uint64_t first_epoch = parse_line(t.ledger().at(0)).epoch;
  // Node a dies: its svcmgr is gone (never steps again), its entry stays "owned" on the disk, and its
  // service is gone with the machine.
  t.exit_code[0] = -1;
  REQUIRE(testing::run_command("rm -f " + t.dir.file("state/ledger-a")) == 0);
  // While b's quorumd still says UP, b must not take it (a's entry says owned).
  for (int k = 0; k < 200; ++k) t.step();
  CHECK_FALSE(t.running_on("b"));
  CHECK(t.ledger().size() == 1);
  t.cluster.peer_changed(1, PeerView::dead);
  // The claim follows the verdict at once: a table read asked for then, not at the next tick (500 ms here).
  const size_t writes_before = t.cluster.writes.size();
  for (int k = 0; k < 5 && t.cluster.writes.size() == writes_before; ++k) t.step();
  REQUIRE(t.cluster.writes.size() > writes_before);
  CHECK(t.cluster.writes[writes_before].rfind("b ledger ", 0) == 0);
  REQUIRE(t.run_until([&] { return started_here(t, 1); }));
  const auto lines = t.ledger();
  REQUIRE(lines.size() == 2);
  CHECK(parse_line(lines[1]).what == "start");
  CHECK(parse_line(lines[1]).node == "b");
  CHECK(parse_line(lines[1]).epoch > first_epoch);
  CHECK(t.cluster.state_in(1, "ledger") == "owned");
}

TEST_CASE("svcmgr daemons: a peer table whose entries do not parse never makes the service free") {
  // The old hand parser skipped an entry it could not read, so the service looked free (no entry) unless
  // a block was corrupt; the codec rejects the whole reply and nothing is concluded from it.
  TwoNodes t;
  REQUIRE(t.run_until([&] { return started_here(t, 0); }));
  for (int k = 0; k < 100; ++k) t.step();  // b has read a's "owned" entry
  REQUIRE(t.status(1)["services"][0].value("owner", "") == "a");
  t.cluster.garble_peer_entries[1] = true;  // from now on b cannot read a's entries
  for (int k = 0; k < 50; ++k) t.step();
  // b is asked to run it: the only thing that may let b claim is a's entry, read after a released it.
  auto r = t.d[1]->admin_request(ControlRequest{"relocate", "ledger b"});
  REQUIRE_MESSAGE(r.ok, r.body);
  for (int k = 0; k < 500; ++k) {
    t.step();
    REQUIRE_FALSE((t.running_on("a") && t.running_on("b")));
  }
  CHECK_FALSE(t.running_on("b"));
  CHECK(t.cluster.state_in(1, "ledger") != "owned");
  for (const auto& w : t.cluster.writes) {
    CHECK(w.rfind("b ledger owned", 0) != 0);
    CHECK(w.rfind("b ledger claiming", 0) != 0);  // b still holds a's last readable word: a owns it
  }
  for (const auto& l : t.ledger()) CHECK(parse_line(l).node == "a");
}

TEST_CASE("svcmgr daemons: a fence, lease-at-risk or leaving event with a malformed field is still obeyed") {
  // Before the codecs svcmgr acted on the "event" name alone; an event of these kinds must never be
  // skipped because another field (node, incarnation, boottime_ns, reason, fences) does not parse.
  SUBCASE("fenced") {
    TwoNodes t;
    REQUIRE(t.run_until([&] { return started_here(t, 0); }));
    t.cluster.raw_events[0].push_back(R"({"event":"fenced","node":"a","reason":"test"})");
    REQUIRE(t.run_until([&] { return t.exit_code[0].has_value(); }, 1s));
    CHECK(*t.exit_code[0] == kSvcmgrExitFenced);
  }
  SUBCASE("lease_at_risk") {
    TwoNodes t;
    REQUIRE(t.run_until([&] { return started_here(t, 0); }));
    t.cluster.lease_ok[0] = false;  // no renewal either (one would let it start again)
    t.cluster.raw_events[0].push_back(R"({"event":"lease_at_risk","node":"a","incarnation":"one","reason":"x"})");
    REQUIRE(t.run_until([&] { return !t.running_on("a"); }, 2s));
    CHECK_FALSE(t.exit_code[0].has_value());
  }
  SUBCASE("leaving") {
    TwoNodes t;
    REQUIRE(t.run_until([&] { return started_here(t, 0); }));
    t.cluster.raw_events[0].push_back(R"({"event":"leaving","node":"a","boottime_ns":-1.5})");
    REQUIRE(t.run_until([&] { return t.exit_code[0].has_value(); }, 2s));
    CHECK_FALSE(t.running_on("a"));
    CHECK(t.cluster.state_in(0, "ledger") == "released");
    CHECK(*t.exit_code[0] == kSvcmgrExitLeftWithQuorumd);  // after "services-stopped"
    CHECK(std::count(t.cluster.other[0].begin(), t.cluster.other[0].end(), "services-stopped") == 1);
  }
}

TEST_CASE("svcmgr daemons: a quorumd descriptor the event loop cannot watch stops svcmgr before its loop runs") {
  // poll() watched every descriptor whatever happened; an epoll_ctl that fails (here EPERM: a regular file;
  // in life ENOMEM or ENOSPC) must not leave svcmgr running deaf to quorumd's lease-at-risk and fence events.
  ScratchDir dir;
  REQUIRE(testing::run_command("mkdir -p " + dir.file("services")) == 0);
  std::ofstream(dir.file("regular")) << "not a socket\n";
  UniqueFd regular(::open(dir.file("regular").c_str(), O_RDONLY | O_CLOEXEC));
  REQUIRE(regular.valid());
  FakeCluster cluster;
  cluster.event_fd[0] = regular.get();
  TestEnv env(cluster, 0);
  SvcmgrConfig config;
  config.services_dir = dir.file("services");
  config.socket = dir.file("a.sock");
  config.quorumd_socket = "in-memory";
  config.ocf_root = dir.file("ocf");
  config.state_dir = dir.file("state");
  config.connect_timeout = 1s;
  auto d = SvcmgrDaemon::start(config, env);
  REQUIRE_MESSAGE(d.ok(), d.status().to_string());
  const Status st = (*d)->prepare_loop();
  REQUIRE_FALSE(st.ok());
  CHECK(st.to_string().find("quorumd's events") != std::string::npos);
  CHECK((*d)->run() == kSvcmgrExitStartup);
}

namespace {

const char* const kSlowMetadata =
    "<?xml version=\"1.0\"?>\n<resource-agent name=\"slowmeta\">\n<actions>\n"
    "<action name=\"start\" timeout=\"41s\"/>\n<action name=\"stop\" timeout=\"42s\"/>\n"
    "<action name=\"monitor\" timeout=\"43s\" interval=\"600s\"/>\n</actions>\n</resource-agent>\n";

// An OCF agent whose meta-data takes 3 s (as a real one may, up to its 30 s timeout) and advertises start,
// stop and monitor timeouts Castor's defaults do not have; its start writes the timeout it was given.
void write_slow_metadata_agent(const ScratchDir& dir) {
  REQUIRE(testing::run_command("mkdir -p " + dir.file("ocf/resource.d/test")) == 0);
  const std::string agent = dir.file("ocf/resource.d/test/slowmeta");
  std::ofstream f(agent);
  f << "#!/bin/sh\n"
    << "case \"$1\" in\n"
    << "meta-data) sleep 3; cat <<'EOF'\n"
    << kSlowMetadata << "EOF\n  exit 0;;\n"
    << "start) echo \"$OCF_RESKEY_CRM_meta_timeout\" > " << dir.file("slow-start-timeout") << "; touch "
    << dir.file("slow-running") << "; exit 0;;\n"
    << "stop) rm -f " << dir.file("slow-running") << "; exit 0;;\n"
    << "monitor) test -e " << dir.file("slow-running") << " && exit 0; exit 7;;\n"
    << "esac\nexit 3\n";
  f.close();
  REQUIRE(::chmod(agent.c_str(), 0755) == 0);
}

void write_slow_service(const ScratchDir& dir, const std::string& node) {
  std::ofstream f(dir.file(node + "-services/slow.ini"));
  f << "[service]\nname = slow\nnodes = a\n\n[resource r]\nagent = ocf:test:slowmeta\n";
}

json service_json(TwoNodes& t, int i, const std::string& name) {
  const json j = t.status(i);
  for (const auto& s : j["services"])
    if (s.value("name", "") == name) return s;
  return json::object();
}

std::string read_first_line(const std::string& path) {
  std::ifstream f(path);
  std::string l;
  std::getline(f, l);
  return l;
}

}  // namespace

TEST_CASE("svcmgr daemons: an agent whose meta-data takes 3 s never stalls start-up nor the loop; the service waits for its timings") {
  BootClock real;
  const TimePoint t0 = real.now();
  TwoNodes t("a, b", [](TwoNodes& n) {
    write_slow_metadata_agent(n.dir);
    write_slow_service(n.dir, "a");
    write_slow_service(n.dir, "b");
  });
  // Before: add_service read the meta-data synchronously, 3 s per daemon before start() returned.
  CHECK(real.now() - t0 < Duration(1s));
  Duration longest{0};
  bool saw_waiting = false;
  int passes = 0;
  while (real.now() - t0 < Duration(2s)) {
    const TimePoint a = real.now();
    t.step_real();
    const json s = service_json(t, 0, "slow");  // the admin's status, answered while meta-data runs
    longest = std::max(longest, real.now() - a);
    saw_waiting = saw_waiting || s.value("waiting_for", "") == "agent meta-data";
    CHECK(s.value("state", "") != "started");  // never runs before its timings are known
    ++passes;
  }
  CHECK(saw_waiting);
  CHECK(passes > 50);
  CHECK_MESSAGE(longest < Duration(500ms), "a loop pass took " << format_duration(longest));
  // Once the meta-data is in, the start-up probes settle (the held probe of "slow" ran with the agent's
  // monitor timeout) and both services start on a, "slow" with the agent's start timeout (41 s, not 20 s).
  for (int k = 0; k < 2000 && !(started_here(t, 0) && service_json(t, 0, "slow").value("state", "") == "started"); ++k)
    t.step_real();
  CHECK(started_here(t, 0));
  CHECK(service_json(t, 0, "slow").value("state", "") == "started");
  CHECK_FALSE(service_json(t, 0, "slow").contains("waiting_for"));
  CHECK(read_first_line(t.dir.file("slow-start-timeout")) == "41000");
}

TEST_CASE("svcmgr daemons: a reload that adds a service whose agent's meta-data takes 3 s never stalls the loop") {
  TwoNodes t;
  REQUIRE(t.run_until([&] { return started_here(t, 0); }));
  write_slow_metadata_agent(t.dir);
  write_slow_service(t.dir, "a");
  // SIGHUP, read from the signalfd of the daemon that waits first (a: step() runs it before b).
  REQUIRE(::kill(::getpid(), SIGHUP) == 0);
  BootClock real;
  const TimePoint t0 = real.now();
  Duration longest{0};
  bool saw_waiting = false;
  while (real.now() - t0 < Duration(2s)) {
    const TimePoint a = real.now();
    t.step_real();
    const auto r = t.d[0]->admin_request(ControlRequest{"services", ""});
    CHECK(r.ok);
    longest = std::max(longest, real.now() - a);
    saw_waiting = saw_waiting || service_json(t, 0, "slow").value("waiting_for", "") == "agent meta-data";
  }
  CHECK(saw_waiting);
  CHECK_MESSAGE(longest < Duration(500ms), "a loop pass took " << format_duration(longest));
  CHECK(started_here(t, 0));
  for (int k = 0; k < 2000 && service_json(t, 0, "slow").value("state", "") != "started"; ++k) t.step_real();
  CHECK(service_json(t, 0, "slow").value("state", "") == "started");
  CHECK(read_first_line(t.dir.file("slow-start-timeout")) == "41000");
}

TEST_CASE("svcmgr daemons: a cgroup v1 freeze the kernel is slow to complete never stalls the loop; the kill still happens") {
  // The kernel completes a freeze at once unless a task sleeps uninterruptibly; the freezer's progress is
  // read through the runners' seam, which says "FREEZING" for the service "daemon" (its real cgroup IS
  // frozen: the kernel did it). The freeze then counts as not done within kFreezeLimit (2 s): the kill
  // must go on anyway, and the loop must keep running meanwhile.
  TwoNodes t("a, b", [](TwoNodes& n) {
    for (const char* node : {"a", "b"}) {
      std::ofstream f(n.dir.file(std::string(node) + "-services/daemon.ini"));
      f << "[service]\nname = daemon\nnodes = a\n\n[resource d]\nagent = exec\nshell = yes\n"
        << "start = sleep 1000 >/dev/null 2>&1 & echo $! > " << n.dir.file("daemon.pid") << "\n"
        << "stop = true\n";  // leaves the daemon running: the end of the stop kills the cgroup
    }
  });
  if (!cgroups_usable().ok() || *detect_cgroup_version() != CgroupVersion::v1) {
    MESSAGE("skipped: needs the cgroup v1 freezer");
    return;
  }
  int freeze_reads = 0;
  t.env[0]->freezer_state = [&](const std::string& path) -> Result<std::string> {
    if (path.find("/a/daemon/freezer.state") != std::string::npos) {
      ++freeze_reads;
      return std::string("FREEZING\n");
    }
    return read_file_to_string(path);
  };
  auto daemon_state = [&] { return service_json(t, 0, "daemon").value("state", ""); };
  REQUIRE(t.run_until([&] { return started_here(t, 0) && daemon_state() == "started"; }));
  const pid_t pid = pid_t(std::stol(read_first_line(t.dir.file("daemon.pid"))));
  REQUIRE(::kill(pid, 0) == 0);
  const std::string freezer = "/sys/fs/cgroup/freezer/castor/a/daemon";

  REQUIRE(t.d[0]->admin_request(ControlRequest{"disable", "daemon"}).ok);
  BootClock real;
  const TimePoint t0 = real.now();
  Duration longest{0};
  bool saw_frozen_stopping = false;
  while (real.now() - t0 < Duration(5s) && daemon_state() != "disabled" && daemon_state() != "stopped") {
    const TimePoint a = real.now();
    t.step_real();
    const auto r = t.d[0]->admin_request(ControlRequest{"services", ""});  // answered during the freeze
    CHECK(r.ok);
    longest = std::max(longest, real.now() - a);
    if (freeze_reads > 0 && daemon_state() == "stopping" &&
        read_first_line(freezer + "/freezer.state") == "FROZEN")
      saw_frozen_stopping = true;
  }
  CHECK_MESSAGE(longest < Duration(500ms), "a loop pass took " << format_duration(longest));
  CHECK(saw_frozen_stopping);  // the loop ran while the cgroup was frozen, waiting for the freezer
  CHECK(freeze_reads > 20);    // read at the runner's timer (every 10 ms of a 2 s freeze), not once
  // After kFreezeLimit the daemon was SIGKILLed and the cgroup thawed (then removed, emptied).
  for (int k = 0; k < 400 && ::kill(pid, 0) == 0; ++k) t.step_real();
  CHECK(::kill(pid, 0) != 0);
  CHECK(t.run_until([&] { return daemon_state() == "disabled"; }, 5s));
  const std::string left = read_first_line(freezer + "/freezer.state");
  CHECK((left.empty() || left == "THAWED"));
  CHECK(started_here(t, 0));  // the other service never noticed
}

TEST_CASE("svcmgr daemons: my entry up at start and no saved copy: the digest decides once the agent's meta-data is in") {
  // The digest in my entry covers the agents' timings, so the file's definition can be compared with it
  // only once the (slow) meta-data is read; meanwhile the service counts as possibly running here.
  for (const bool same : {true, false}) {
    CAPTURE(same);
    TwoNodes t("a, b", [&](TwoNodes& n) {
      write_slow_metadata_agent(n.dir);
      write_slow_service(n.dir, "a");
      write_slow_service(n.dir, "b");
      LoadResult r = load_service_dir(n.dir.file("a-services"), {"a", "b"});
      ServiceDefinition def;
      for (const auto& d : r.services)
        if (d.name == "slow") def = d;
      REQUIRE(def.name == "slow");
      for (auto& res : def.resources) apply_agent_timings(res, parse_agent_timings(kSlowMetadata));
      ServiceEntry e;
      e.in_use = true;
      e.state = OwnershipState::owned;
      e.node = FakeCluster::id(0);
      e.epoch = 1;
      e.name = "slow";
      e.definition_digest = definition_digest(def) + (same ? 0 : 1);
      n.cluster.table[0]["slow"] = TableEntry{e, 1, 1};
    });
    bool saw_waiting = false, refused = false;
    BootClock real;
    const TimePoint t0 = real.now();
    while (real.now() - t0 < Duration(2s)) {
      t.step_real();
      const json s = service_json(t, 0, "slow");
      saw_waiting = saw_waiting || s.value("waiting_for", "") == "agent meta-data";
      CHECK_FALSE(s.contains("orphaned"));  // not decided yet
      const auto r = t.d[0]->admin_request(ControlRequest{"restart", "slow"});
      if (!r.ok && r.body.find("waits for its agents' meta-data") != std::string::npos) refused = true;
    }
    CHECK(saw_waiting);
    CHECK(refused);  // no admin verb acts on it before it is decided
    CHECK_FALSE(t.running_on("a"));
    for (int k = 0; k < 1000 && service_json(t, 0, "slow").contains("waiting_for"); ++k) t.step_real();
    for (int k = 0; k < 50; ++k) t.step_real();
    const json s = service_json(t, 0, "slow");
    CHECK_FALSE(s.contains("waiting_for"));
    if (same) {
      CHECK_FALSE(s.contains("orphaned"));  // the file's definition is the one it runs under: managed
      CHECK(s.value("state", "") != "orphaned");
    } else {
      CHECK(s.value("state", "") == "orphaned");
      CHECK(s.value("orphaned", "").find("definition it runs under is unknown") != std::string::npos);
      CHECK(t.cluster.state_in(0, "slow") == "owned");  // its entry stays up
    }
  }
}
