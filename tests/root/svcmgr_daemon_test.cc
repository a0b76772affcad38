// Daemon-level tests of svcmgr: two whole SvcmgrDaemons in one process, each with its own SvcmgrEnv, a
// shared fake clock and an in-memory quorumd (FakeCluster: both nodes' service tables, the lease events,
// what each node's quorumd says of its peer). The agents are real: exec resources that are tiny shell
// commands writing a ledger in a scratch directory (like service_runner_test), hence tests/root/.
// Covers: start on the preferred node only; an admin relocate (stopped on the source before it starts on
// the target, with a higher epoch); lease at risk and fence (every service stopped, exit 3); peer death
// (the survivor takes the service over once its quorumd says the peer is DEAD).
#include "tests/root/svcmgr_pair.h"

using namespace castor;
using namespace castor::testing::svcmgr_pair;
using namespace std::chrono_literals;
using castor::testing::ScratchDir;
using nlohmann::json;

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

TEST_CASE("svcmgr daemons: a relocation that can never happen is refused with its reason; one held back by the peer's state is pending, with what it waits for") {
  // Before, each was "accepted" and left pending with nothing said: `castor relocate --wait` then timed out
  // after 60 s with the service still where it was.
  auto pending_blocked = [](TwoNodes& t, int i) { return t.status(i)["services"][0].value("pending_blocked", std::string()); };
  SUBCASE("frozen: pending, carried out once unfrozen") {
    TwoNodes t;
    REQUIRE(t.run_until([&] { return started_here(t, 0); }));
    REQUIRE(t.d[0]->admin_request(ControlRequest{"freeze", "ledger"}).ok);
    for (int k = 0; k < 20; ++k) t.step();
    auto r = t.d[0]->admin_request(ControlRequest{"relocate", "ledger b"});
    REQUIRE_MESSAGE(r.ok, r.body);
    CHECK(r.body.find("pending while ledger is frozen") != std::string::npos);
    for (int k = 0; k < 20; ++k) t.step();
    CHECK(t.running_on("a"));
    CHECK(pending_blocked(t, 0) == "ledger is frozen");
    REQUIRE(t.d[0]->admin_request(ControlRequest{"unfreeze", "ledger"}).ok);
    REQUIRE(t.run_until([&] { return started_here(t, 1); }));
  }
  SUBCASE("a node outside its nodes list: refused") {
    TwoNodes t("a");
    REQUIRE(t.run_until([&] { return started_here(t, 0); }));
    auto r = t.d[0]->admin_request(ControlRequest{"relocate", "ledger b"});
    CHECK_FALSE(r.ok);
    CHECK(r.body.find("b is not among the nodes that may run ledger (nodes = a)") != std::string::npos);
    r = t.d[1]->admin_request(ControlRequest{"relocate", "ledger"});  // asked on b: to b
    CHECK_FALSE(r.ok);
  }
  SUBCASE("the target in standby, asked on it: refused; the peer not up: pending") {
    TwoNodes t;
    REQUIRE(t.run_until([&] { return started_here(t, 0); }));
    REQUIRE(t.d[1]->admin_request(ControlRequest{"standby", "b"}).ok);
    for (int k = 0; k < 50; ++k) t.step();
    auto r = t.d[1]->admin_request(ControlRequest{"relocate", "ledger b"});
    CHECK_FALSE(r.ok);
    CHECK(r.body.find("b is in standby") != std::string::npos);
    REQUIRE(t.d[1]->admin_request(ControlRequest{"unstandby", "b"}).ok);
    for (int k = 0; k < 50; ++k) t.step();
    t.cluster.peer_changed(0, PeerView::down);
    for (int k = 0; k < 5; ++k) t.step();
    r = t.d[0]->admin_request(ControlRequest{"relocate", "ledger b"});
    REQUIRE_MESSAGE(r.ok, r.body);
    CHECK(r.body.find("pending while b is not up here (DOWN)") != std::string::npos);
    CHECK(pending_blocked(t, 0) == "b is not up here (DOWN)");
    for (int k = 0; k < 20; ++k) t.step();
    CHECK(t.running_on("a"));
  }
}
