#include <doctest/doctest.h>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <cstdio>
#include <string>
#include <vector>

#include "common/clock.h"
#include "agent/agent_command_builder.h"
#include "svcmgr/service_runner.h"
#include "agent/agent_metadata.h"
#include "tests/support/runner_driver.h"
#include "tests/support/scratch.h"

using namespace castor;
using namespace std::chrono_literals;
using castor::testing::run_until;
using castor::testing::ScratchDir;
using castor::testing::shell_resource;
using State = ServiceRunner::State;
using ProbeResult = ServiceRunner::ProbeResult;

namespace {

bool settle(ServiceRunner& r, Duration limit = 10s) {
  return run_until(r, [&] { return r.idle() && r.state() != State::starting && r.state() != State::stopping; }, limit);
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream f(path);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(f, line)) out.push_back(line);
  return out;
}

bool exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

// An exec resource that logs "ACTION NAME epoch N" to dir/log; start creates dir/NAME.state, stop
// removes it, monitor checks it (exit 7 = not running).
ResourceDefinition logging_resource(const ScratchDir& dir, const std::string& name, bool start_fails = false) {
  std::string log = dir.file("log"), state = dir.file(name + ".state");
  std::string start = "echo \"start " + name + " epoch $CASTOR_EPOCH\" >>" + log;
  start += start_fails ? " && echo 'no luck' && exit 1" : " && touch " + state;
  std::string stop = "echo \"stop " + name + " epoch $CASTOR_EPOCH\" >>" + log + " && rm -f " + state;
  std::string monitor = "echo " + name + " >>" + dir.file("monitor.log") + "; test -f " + state + " || exit 7";
  return shell_resource(name, start, stop, monitor);
}

ServiceDefinition service(std::vector<ResourceDefinition> resources) {
  ServiceDefinition def;
  def.name = "svc";
  def.nodes = {"alpha", "beta"};
  def.resources = std::move(resources);
  return def;
}

RunContext context() {
  RunContext ctx;
  ctx.service = "svc";
  ctx.node = "alpha";
  return ctx;
}

TimePoint now() { return BootClock().now(); }

}  // namespace

TEST_CASE("service runner: start in file order with the epoch, monitors, stop in reverse (root)") {
  ScratchDir dir;
  ServiceRunner r(service({logging_resource(dir, "r1"), logging_resource(dir, "r2")}), context());
  CHECK(r.state() == State::stopped);
  CHECK(r.next_deadline() == TimePoint::max());

  REQUIRE(r.start(7, now()).ok());
  CHECK(r.state() == State::starting);
  CHECK(r.epoch() == 7);
  CHECK(r.fds().size() >= 1);
  CHECK(r.live_process_groups().size() == 1);  // the start in flight
  CHECK(r.start(8, now()).code() == Code::refused);
  REQUIRE(settle(r));
  REQUIRE(r.state() == State::started);
  CHECK(read_lines(dir.file("log")) == std::vector<std::string>{"start r1 epoch 7", "start r2 epoch 7"});
  CHECK(exists(dir.file("r1.state")));
  CHECK(exists(dir.file("r2.state")));
  CHECK(r.live_process_groups().empty());
  CHECK_FALSE(r.last_failure());
  CHECK(r.next_deadline() != TimePoint::max());  // monitors are scheduled

  // Both resources are monitored, several times, and stay started.
  REQUIRE(run_until(r, [&] {
    auto m = read_lines(dir.file("monitor.log"));
    return std::count(m.begin(), m.end(), "r1") >= 2 && std::count(m.begin(), m.end(), "r2") >= 2;
  }));
  CHECK(r.state() == State::started);
  CHECK(r.probe(now()).code() == Code::refused);

  r.stop(now());
  CHECK(r.state() == State::stopping);
  REQUIRE(settle(r));
  CHECK(r.state() == State::stopped);
  CHECK(read_lines(dir.file("log")) == std::vector<std::string>{"start r1 epoch 7", "start r2 epoch 7",
                                                                 "stop r2 epoch 7", "stop r1 epoch 7"});
  CHECK_FALSE(exists(dir.file("r1.state")));
  CHECK_FALSE(exists(dir.file("r2.state")));
  CHECK(r.fds().empty());
  CHECK(r.next_deadline() == TimePoint::max());

  // And it can be started again, under a new epoch.
  REQUIRE(r.start(9, now()).ok());
  REQUIRE(settle(r));
  CHECK(r.state() == State::started);
  CHECK(read_lines(dir.file("log")).back() == "start r2 epoch 9");
  r.stop(now());
  REQUIRE(settle(r));
  CHECK(r.state() == State::stopped);
}

TEST_CASE("service runner: a monitor that is not ok makes the service failed (root)") {
  ScratchDir dir;
  ServiceRunner r(service({logging_resource(dir, "r1"), logging_resource(dir, "r2")}), context());
  REQUIRE(r.start(1, now()).ok());
  REQUIRE(settle(r));
  REQUIRE(r.state() == State::started);

  REQUIRE(unlink(dir.file("r2.state").c_str()) == 0);
  REQUIRE(run_until(r, [&] { return r.state() == State::failed; }));
  REQUIRE(r.last_failure());
  CHECK(r.last_failure()->resource == "r2");
  CHECK(r.last_failure()->action == "monitor");
  CHECK(r.last_failure()->severity == Severity::not_running);
  CHECK(r.last_failure()->text.find("exit 7") != std::string::npos);
  CHECK(r.idle());
  CHECK(r.next_deadline() == TimePoint::max());  // no more monitors once failed
  CHECK(r.start(2, now()).code() == Code::refused);

  r.stop(now());
  REQUIRE(settle(r));
  CHECK(r.state() == State::stopped);  // r2's exec stop is idempotent (rm -f)
}

TEST_CASE("service runner: a failed start stops the sequence; stop() then stops every resource (root)") {
  ScratchDir dir;
  ServiceRunner r(service({logging_resource(dir, "r1"), logging_resource(dir, "r2", /*start_fails=*/true),
                           logging_resource(dir, "r3")}),
                  context());
  REQUIRE(r.start(3, now()).ok());
  REQUIRE(settle(r));
  REQUIRE(r.state() == State::failed);
  REQUIRE(r.last_failure());
  CHECK(r.last_failure()->resource == "r2");
  CHECK(r.last_failure()->action == "start");
  CHECK(r.last_failure()->severity == Severity::soft);
  CHECK(r.last_failure()->text == "exit 1: no luck");
  CHECK(read_lines(dir.file("log")) == std::vector<std::string>{"start r1 epoch 3", "start r2 epoch 3"});

  r.stop(now());
  REQUIRE(settle(r));
  CHECK(r.state() == State::stopped);
  // Every resource, in reverse: also r2 (whose start failed) and r3 (never started).
  CHECK(read_lines(dir.file("log")) == std::vector<std::string>{"start r1 epoch 3", "start r2 epoch 3",
                                                                 "stop r3 epoch 3", "stop r2 epoch 3",
                                                                 "stop r1 epoch 3"});
}

TEST_CASE("service runner: a stop that outlives stop_timeout gives stop_failed, the others still stop (root)") {
  ScratchDir dir;
  ResourceDefinition r1 = logging_resource(dir, "r1");
  ResourceDefinition hang = shell_resource("hang", "true", "true");
  hang.stop_argv = {"/bin/sleep", "30"};
  hang.stop_timeout = 300ms;
  ServiceRunner r(service({r1, hang}), context());
  REQUIRE(r.start(4, now()).ok());
  REQUIRE(settle(r));
  REQUIRE(r.state() == State::started);

  TimePoint t0 = now();
  r.stop(now());
  REQUIRE(settle(r));
  CHECK(r.state() == State::stop_failed);
  CHECK(now() - t0 < 5s);  // SIGTERM ends the sleep at once: no wait for the kill grace
  REQUIRE(r.last_failure());
  CHECK(r.last_failure()->resource == "hang");
  CHECK(r.last_failure()->action == "stop");
  CHECK(r.last_failure()->text.find("timed out") != std::string::npos);
  CHECK(read_lines(dir.file("log")).back() == "stop r1 epoch 4");  // r1 was still stopped
  CHECK(r.start(5, now()).code() == Code::refused);                // the node must fence, not restart
}

TEST_CASE("service runner: real ocf:heartbeat:Dummy, probe before and after start (root)") {
  if (!exists("/usr/lib/ocf/resource.d/heartbeat/Dummy")) {
    MESSAGE("resource-agents not installed: skipped");
    return;
  }
  ScratchDir dir;
  ResourceDefinition d;
  d.name = "dummy";
  d.kind = ResourceDefinition::AgentKind::ocf;
  d.provider = "heartbeat";
  d.type = "Dummy";
  d.params = {{"state", dir.file("dummy.state")}};
  d.monitor_interval = 200ms;
  d.start_timeout = d.stop_timeout = d.monitor_timeout = 10s;
  ServiceDefinition def = service({d});

  ServiceRunner r(def, context());
  CHECK(r.probe_result() == ProbeResult::unknown);
  REQUIRE(r.probe(now()).ok());
  REQUIRE(settle(r));
  CHECK(r.probe_result() == ProbeResult::all_stopped);
  CHECK(r.state() == State::stopped);

  REQUIRE(r.start(11, now()).ok());
  REQUIRE(settle(r));
  REQUIRE_MESSAGE(r.state() == State::started, (r.last_failure() ? r.last_failure()->text : ""));
  CHECK(exists(dir.file("dummy.state")));

  // A runner that knows nothing (the daemon restarted) finds it running.
  ServiceRunner fresh(def, context());
  REQUIRE(fresh.probe(now()).ok());
  REQUIRE(settle(fresh));
  CHECK(fresh.probe_result() == ProbeResult::some_running);
  CHECK(fresh.state() == State::stopped);

  // Monitors pass for a while.
  BootClock clock;
  TimePoint until = clock.now() + 700ms;
  run_until(r, [&] { return clock.now() >= until || r.state() != State::started; });
  CHECK(r.state() == State::started);
  CHECK_FALSE(r.last_failure());

  r.stop(now());
  REQUIRE(settle(r));
  CHECK(r.state() == State::stopped);
  CHECK_FALSE(exists(dir.file("dummy.state")));

  REQUIRE(fresh.probe(now()).ok());
  REQUIRE(settle(fresh));
  CHECK(fresh.probe_result() == ProbeResult::all_stopped);
}

TEST_CASE("service runner: Dummy monitor failure is reported with the resource (root)") {
  if (!exists("/usr/lib/ocf/resource.d/heartbeat/Dummy")) return;
  ScratchDir dir;
  ResourceDefinition d;
  d.name = "dummy";
  d.provider = "heartbeat";
  d.type = "Dummy";
  d.params = {{"state", dir.file("dummy.state")}};
  d.monitor_interval = 100ms;
  ServiceRunner r(service({d}), context());
  REQUIRE(r.start(1, now()).ok());
  REQUIRE(settle(r));
  REQUIRE(r.state() == State::started);
  REQUIRE(unlink(dir.file("dummy.state").c_str()) == 0);
  REQUIRE(run_until(r, [&] { return r.state() == State::failed; }));
  CHECK(r.last_failure()->resource == "dummy");
  CHECK(r.last_failure()->action == "monitor");
  CHECK(r.last_failure()->text.find("OCF_NOT_RUNNING") != std::string::npos);
  r.stop(now());
  REQUIRE(settle(r));
  CHECK(r.state() == State::stopped);
}

TEST_CASE("service runner: a start that leaves a daemon behind lists its process group (root)") {
  ScratchDir dir;
  ResourceDefinition bg = shell_resource("bg", "sleep 60 >/dev/null 2>&1 & echo started", "true");
  ServiceRunner r(service({bg}), context());
  REQUIRE(r.start(1, now()).ok());
  REQUIRE(settle(r));
  REQUIRE(r.state() == State::started);

  std::vector<pid_t> groups = r.live_process_groups();
  REQUIRE(groups.size() == 1);
  pid_t pg = groups[0];
  REQUIRE(pg > 1);
  REQUIRE(pg != getpgrp());
  CHECK(kill(-pg, 0) == 0);  // the sleep is in it

  // Still listed after a while (it is alive).
  BootClock clock;
  TimePoint until = clock.now() + 1500ms;
  run_until(r, [&] { return clock.now() >= until; });
  CHECK(r.live_process_groups() == groups);

  // The test kills the group it made (the sleep started by our start command): it drops out.
  REQUIRE(kill(-pg, SIGKILL) == 0);
  CHECK(run_until(r, [&] { return r.live_process_groups().empty(); }, 5s));

  r.stop(now());
  REQUIRE(settle(r));
  CHECK(r.state() == State::stopped);
}

TEST_CASE("service runner: stop() during a start lets that start finish, then stops all (root)") {
  ScratchDir dir;
  ResourceDefinition slow = logging_resource(dir, "r1");
  slow.start_argv[2] = "sleep 0.3; " + slow.start_argv[2];
  ServiceRunner r(service({slow, logging_resource(dir, "r2")}), context());
  REQUIRE(r.start(2, now()).ok());
  r.stop(now());
  CHECK(r.state() == State::stopping);
  r.stop(now());  // ignored: already stopping
  REQUIRE(settle(r));
  CHECK(r.state() == State::stopped);
  CHECK(read_lines(dir.file("log")) == std::vector<std::string>{"start r1 epoch 2", "stop r2 epoch 2",
                                                                 "stop r1 epoch 2"});
}

TEST_CASE("service runner: stop() during a long monitor kills the monitor, not the stop (root)") {
  ScratchDir dir;
  ResourceDefinition slow = logging_resource(dir, "r1");
  slow.monitor_argv = {"/bin/sleep", "20"};
  slow.monitor_timeout = 30s;
  slow.monitor_interval = 50ms;
  ServiceRunner r(service({slow}), context());
  REQUIRE(r.start(1, now()).ok());
  REQUIRE(settle(r));
  REQUIRE(r.state() == State::started);
  REQUIRE(run_until(r, [&] { return !r.idle(); }));  // the monitor is running
  CHECK(r.live_process_groups().empty());             // a monitor is not listed
  TimePoint t0 = now();
  r.stop(now());
  REQUIRE(settle(r, 5s));
  CHECK(now() - t0 < 3s);
  CHECK(r.state() == State::stopped);
  CHECK_FALSE(r.last_failure());
  CHECK(read_lines(dir.file("log")).back() == "stop r1 epoch 1");
}

TEST_CASE("service runner: probes that cannot tell, and agents that cannot run (root)") {
  ScratchDir dir;
  // An exec resource without a monitor command cannot be probed: error.
  ServiceRunner blind(service({shell_resource("nomon", "true", "true")}), context());
  REQUIRE(blind.probe(now()).ok());
  REQUIRE(settle(blind));
  CHECK(blind.probe_result() == ProbeResult::error);

  // A missing program: the start fails as hard, the stop (also missing) gives stop_failed.
  ResourceDefinition missing = shell_resource("missing", "true", "true");
  missing.start_argv = {dir.file("no-such-program")};
  missing.stop_argv = {dir.file("no-such-program")};
  ServiceRunner r(service({missing}), context());
  REQUIRE(r.start(1, now()).ok());
  CHECK(r.state() == State::failed);  // known at once: nothing was spawned
  CHECK(r.last_failure()->severity == Severity::hard);
  CHECK(r.last_failure()->text.find("no-such-program") != std::string::npos);
  r.stop(now());
  CHECK(r.state() == State::stop_failed);
  // Probed, a missing program is "not installed": it cannot run anything here, so stopped (as Pacemaker
  // reads OCF_ERR_INSTALLED from a probe), not an error that would lead to a stop that cannot run either.
  ResourceDefinition absent = shell_resource("absent", "true", "true");
  absent.monitor_argv = {dir.file("no-such-monitor")};
  absent.stop_argv = {dir.file("no-such-program")};
  ServiceRunner probed(service({absent}), context());
  REQUIRE(probed.probe(now()).ok());
  REQUIRE(settle(probed));
  CHECK(probed.probe_result() == ProbeResult::all_stopped);

  // A systemd resource: unsupported, its probe says error.
  ResourceDefinition unit;
  unit.name = "unit";
  unit.kind = ResourceDefinition::AgentKind::systemd;
  unit.systemd_unit = "x.service";
  ServiceRunner sd(service({unit}), context());
  REQUIRE(sd.probe(now()).ok());
  CHECK(sd.probe_result() == ProbeResult::error);
  CHECK(sd.last_failure()->text.find("systemd") != std::string::npos);
}

TEST_CASE("the real Dummy agent's meta-data defaults apply where the file gives no timing (root)") {
  ServiceDefinition def;
  def.name = "svc";
  ResourceDefinition r;
  r.name = "d";
  r.kind = ResourceDefinition::AgentKind::ocf;
  r.provider = "heartbeat";
  r.type = "Dummy";
  r.explicit_timings = ResourceDefinition::kMonitorInterval;
  r.monitor_interval = Millis(1000);
  def.resources.push_back(r);
  std::map<std::string, AgentTimings> cache;
  CHECK(apply_metadata_defaults(def, "/usr/lib/ocf", cache).empty());
  CHECK(def.resources[0].start_timeout == Millis(20000));  // Dummy advertises start timeout="20s"
  CHECK(def.resources[0].monitor_interval == Millis(1000));  // the file's own value stays
  CHECK(cache.count("heartbeat:Dummy") == 1);
}

TEST_CASE("service runner: an agent program others can write to is never run (root)") {
  ScratchDir dir;
  const std::string prog = dir.file("start.sh");
  const std::string ran = dir.file("ran");
  {
    FILE* f = std::fopen(prog.c_str(), "w");
    REQUIRE(f);
    std::fprintf(f, "#!/bin/sh\ntouch %s\nexit 0\n", ran.c_str());
    std::fclose(f);
  }
  REQUIRE(::chmod(prog.c_str(), 0757) == 0);
  ResourceDefinition res = shell_resource("app", "true", "true");
  res.shell = false;
  res.start_argv = {prog};
  res.stop_argv = {"/bin/true"};
  ServiceRunner r(service({res}), context());
  REQUIRE(r.start(1, now()).ok());
  REQUIRE(settle(r));
  CHECK(r.state() == State::failed);
  REQUIRE(r.last_failure());
  CHECK(r.last_failure()->action == "start");
  CHECK(r.last_failure()->severity == Severity::hard);
  CHECK_MESSAGE(r.last_failure()->text.find("refused: agent program: " + prog + ": writable by others (mode 0757)") !=
                    std::string::npos,
                r.last_failure()->text);
  CHECK_FALSE(exists(ran));  // it never ran
  r.stop(now());
  REQUIRE(settle(r));

  // Fixed (0755): it runs.
  REQUIRE(::chmod(prog.c_str(), 0755) == 0);
  ServiceRunner ok(service({res}), context());
  REQUIRE(ok.start(2, now()).ok());
  REQUIRE(settle(ok));
  CHECK(ok.state() == State::started);
  CHECK(exists(ran));
  ok.stop(now());
  REQUIRE(settle(ok));
}

TEST_CASE("service runner: the last start and stop durations, measured from start()/stop() to the state (root)") {
  ScratchDir dir;
  // A start that takes at least 300 ms, and a stop at least 200 ms; a failed start records nothing.
  ServiceRunner r(service({shell_resource("slow", "sleep 0.3; touch " + dir.file("s"),
                                          "sleep 0.2; rm -f " + dir.file("s"), "test -f " + dir.file("s") + " || exit 7")}),
                  context());
  CHECK_FALSE(r.last_start_took());
  CHECK_FALSE(r.last_stop_took());
  const TimePoint t0 = now();
  REQUIRE(r.start(1, t0).ok());
  REQUIRE(settle(r));
  REQUIRE(r.state() == State::started);
  const Duration start_wall = now() - t0;
  REQUIRE(r.last_start_took());
  CHECK(*r.last_start_took() >= 300ms);
  CHECK(*r.last_start_took() <= start_wall);
  CHECK_FALSE(r.last_stop_took());
  const TimePoint t1 = now();
  r.stop(t1);
  REQUIRE(settle(r));
  REQUIRE(r.state() == State::stopped);
  REQUIRE(r.last_stop_took());
  CHECK(*r.last_stop_took() >= 200ms);
  CHECK(*r.last_stop_took() <= now() - t1);

  ServiceRunner failing(service({logging_resource(dir, "f", /*start_fails=*/true)}), context());
  REQUIRE(failing.start(2, now()).ok());
  REQUIRE(settle(failing));
  REQUIRE(failing.state() == State::failed);
  CHECK_FALSE(failing.last_start_took());
}
