// Tests for svcmgr/alert_dispatcher.h with real programs: an alert program gets the event's environment
// and nothing else; at most kMaxRunning run at once and kMaxQueued wait (the oldest dropped past that);
// a program past its timeout is killed and counted failed; a failing program is counted and logged; an
// alert whose program others could replace is disabled. Pacemaker's alert_file.sh.sample, when installed,
// writes the line Pacemaker's own alerts write.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "common/clock.h"
#include "svcmgr/alert_dispatcher.h"
#include "tests/support/scratch.h"
#include "tests/support/source_tree.h"

using namespace castor;
using namespace std::chrono_literals;
using castor::testing::ScratchDir;
using castor::testing::read_text_file;

namespace {


void write_script(const std::string& path, const std::string& body) {
  std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
  REQUIRE(chmod(path.c_str(), 0755) == 0);
}

AlertConfig alert_of(const std::string& name, const std::string& program, Duration timeout = 10s) {
  AlertConfig a;
  a.name = name;
  a.program = program;
  a.timeout = timeout;
  return a;
}

AlertEvent node_dead() {
  AlertEvent e;
  e.kind = AlertKind::node;
  e.event = "node_dead";
  e.node = "beta";
  e.node_id = 2;
  e.desc = "lost";
  e.reason = "heartbeat unchanged for 1.2s";
  e.wall_ns = wall_time_ns();
  return e;
}

// Drives the dispatcher as svcmgr's loop does until it is idle (false after `limit`).
bool run_until_idle(AlertDispatcher& d, Duration limit = 10s) {
  BootClock clock;
  const TimePoint end = clock.now() + limit;
  while (!d.idle()) {
    if (clock.now() > end) return false;
    for (int fd : d.fds()) d.on_ready(fd);
    d.poll(clock.now());
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

}  // namespace

TEST_CASE("alert dispatcher: the program gets the event's environment, and only it (root)") {
  ScratchDir dir;
  write_script(dir.file("a.sh"), "env | sort > " + dir.file("env.out"));
  AlertDispatcher d({alert_of("log", dir.file("a.sh"))}, "alpha", /*check_programs=*/false);
  setenv("CASTOR_ALERT_TEST_LEAK", "1", 1);  // svcmgr's own environment never reaches the program
  d.post(node_dead());
  unsetenv("CASTOR_ALERT_TEST_LEAK");
  REQUIRE(run_until_idle(d));
  const std::string env = read_text_file(dir.file("env.out"));
  CAPTURE(env);
  CHECK(env.find("CRM_alert_kind=node\n") != std::string::npos);
  CHECK(env.find("CRM_alert_node=beta\n") != std::string::npos);
  CHECK(env.find("CRM_alert_desc=lost\n") != std::string::npos);
  CHECK(env.find("CRM_alert_node_sequence=1\n") != std::string::npos);
  CHECK(env.find("CASTOR_ALERT_EVENT=node_dead\n") != std::string::npos);
  CHECK(env.find("CASTOR_ALERT_REPORTER=alpha\n") != std::string::npos);
  CHECK(env.find("CASTOR_ALERT_TEST_LEAK") == std::string::npos);
  CHECK(d.counts().started == 1);
  CHECK(d.counts().succeeded == 1);
  CHECK(d.counts().failed == 0);
}

TEST_CASE("alert dispatcher: kinds filter, bounded running and waiting, timeouts and failures (root)") {
  ScratchDir dir;
  write_script(dir.file("slow.sh"), "sleep 30");
  write_script(dir.file("fail.sh"), "echo 'no route to the pager' >&2; exit 3");
  write_script(dir.file("mark.sh"), "echo \"$CASTOR_ALERT_EVENT\" >> " + dir.file("marks"));
  AlertConfig resources_only = alert_of("res", dir.file("mark.sh"));
  resources_only.kinds = uint8_t(AlertKind::resource);
  {
    AlertDispatcher d({resources_only}, "alpha", false);
    d.post(node_dead());  // not its kind: nothing runs
    CHECK(d.idle());
    AlertEvent r = node_dead();
    r.kind = AlertKind::resource;
    r.event = "service_started";
    d.post(r);
    REQUIRE(run_until_idle(d));
    CHECK(read_text_file(dir.file("marks")) == "service_started\n");
  }
  {
    AlertDispatcher d({alert_of("slow", dir.file("slow.sh"), 1s)}, "alpha", false);
    const auto t0 = std::chrono::steady_clock::now();
    for (size_t i = 0; i < AlertDispatcher::kMaxQueued + 2; ++i)
      d.post(node_dead());
    const auto post_took = std::chrono::steady_clock::now() - t0;
    CHECK(post_took < 1s);
    CHECK(d.counts().started == 0);  // post() only queues: no fork, no exec wait on the caller's loop
    CHECK(d.counts().dropped == 2);
    CHECK(d.next_deadline() == TimePoint{});  // one can start: the loop must come back at once
    // poll() starts one program a call, up to kMaxRunning.
    BootClock clock;
    for (size_t i = 1; i <= AlertDispatcher::kMaxRunning + 2; ++i) {
      d.poll(clock.now());
      CHECK(d.counts().started == std::min(i, AlertDispatcher::kMaxRunning));
    }
    CHECK(d.next_deadline() != TimePoint{});  // four run: nothing more to start now
    // The running ones time out after 1 s and are killed; then the next four start.
    const TimePoint end = clock.now() + 10s;
    while ((d.counts().failed < AlertDispatcher::kMaxRunning || d.counts().started < 2 * AlertDispatcher::kMaxRunning) &&
           clock.now() < end) {
      for (int fd : d.fds()) d.on_ready(fd);
      d.poll(clock.now());
      std::this_thread::sleep_for(10ms);
    }
    CHECK(d.counts().failed == AlertDispatcher::kMaxRunning);
    CHECK(d.counts().started == 2 * AlertDispatcher::kMaxRunning);
    // Destroying it kills what still runs (svcmgr exits): no sleep 30 outlives the test.
  }
  {
    AlertDispatcher d({alert_of("fail", dir.file("fail.sh"))}, "alpha", false);
    d.post(node_dead());
    REQUIRE(run_until_idle(d));
    CHECK(d.counts().failed == 1);
    CHECK(d.counts().succeeded == 0);
  }
}

TEST_CASE("alert dispatcher: an alert whose program others may replace is disabled (root)") {
  ScratchDir dir;
  write_script(dir.file("a.sh"), "true");
  REQUIRE(chmod(dir.file("a.sh").c_str(), 0777) == 0);
  AlertDispatcher d({alert_of("open", dir.file("a.sh"))}, "alpha");
  CHECK(d.alerts() == 0);
  write_script(dir.file("b.sh"), "true");
  AlertDispatcher ok({alert_of("closed", dir.file("b.sh"))}, "alpha");
  CHECK(ok.alerts() == 1);
}

TEST_CASE("alert dispatcher: Pacemaker's alert_file.sh.sample writes Pacemaker's lines (root)") {
  const std::string sample = "/usr/share/pacemaker/alerts/alert_file.sh.sample";
  struct stat st;
  if (stat(sample.c_str(), &st) != 0) {
    MESSAGE("skipped: " << sample << " is not installed (Debian: pacemaker-common)");
    return;
  }
  ScratchDir dir;
  AlertConfig a = alert_of("file", sample);
  a.recipient = dir.file("alerts.log");
  AlertDispatcher d({a}, "alpha");
  REQUIRE(d.alerts() == 1);
  d.post(node_dead());
  AlertEvent r = node_dead();
  r.kind = AlertKind::resource;
  r.event = "service_started";
  r.node = "alpha";
  r.service = "web";
  r.task = "start";
  r.desc = "OK";
  d.post(r);
  AlertEvent q = node_dead();
  q.kind = AlertKind::quorum;
  q.event = "lease_at_risk";
  q.node = "alpha";
  q.attribute = "castor-lease";
  q.value = "at-risk";
  d.post(q);
  AlertEvent f = node_dead();
  f.kind = AlertKind::fencing;
  f.event = "peer_power_fenced";
  f.task = "off";
  f.desc = "Operation off of beta by alpha: OK";
  d.post(f);
  REQUIRE(run_until_idle(d));
  const std::string log = read_text_file(dir.file("alerts.log"));
  CAPTURE(log);
  CHECK(log.find("Node 'beta' is now 'lost'") != std::string::npos);
  CHECK(log.find("Resource operation 'start' for 'web' on 'alpha': OK") != std::string::npos);
  CHECK(log.find("Attribute 'castor-lease' on node 'alpha' was updated to 'at-risk'") != std::string::npos);
  CHECK(log.find("Fencing Operation off of beta by alpha: OK") != std::string::npos);
  CHECK(d.counts().failed == 0);
}
