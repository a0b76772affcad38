// Root tests of the per-service cgroup (issue 14): limits are applied, an agent's child joins the cgroup
// before exec, a service whose start double-forks or calls setsid is fully stopped by ServiceRunner, and a
// fence kills the Castor cgroups but never an unrelated process group that reuses a registered id.
// Every cgroup is created under a parent named for this test run and removed at the end, also when a
// check fails (tests/support/cgroup_fixture.h); only processes started here are killed. The cgroup v2
// path, on this host's cgroup2 mount: service_cgroup_v2_test.cc.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "agent/agent_process.h"
#include "agent/service_cgroup.h"
#include "common/clock.h"
#include "quorumd/process_groups.h"
#include "svcmgr/service_runner.h"
#include "tests/support/cgroup_fixture.h"
#include "tests/support/runner_driver.h"
#include "tests/support/scratch.h"

using namespace castor;
using namespace std::chrono_literals;
using namespace castor::testing;

namespace {

std::string read_text(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

void kill_all_of(const std::vector<pid_t>& pids) {
  for (pid_t p : pids)
    if (p > 1) kill(p, SIGKILL);
}

}  // namespace

TEST_CASE("service cgroup: this host's cgroups are detected, bad paths refused (root)") {
  Result<CgroupVersion> v = detect_cgroup_version();
  REQUIRE(v.ok());
  CHECK(!ServiceCgroup::open("../etc", {}).ok());
  CHECK(!ServiceCgroup::open("/abs/x", {}).ok());
  CHECK(!ServiceCgroup::open("a//b", {}).ok());
  CHECK(!ServiceCgroup::open("a/b c", {}).ok());
}

TEST_CASE("service cgroup: limits are applied and read back (root)") {
  TestCgroupParent parent;
  CgroupLimits limits;
  limits.memory_max = 64ull << 20;
  limits.cpu_weight = 50;
  limits.tasks_max = 40;
  Result<ServiceCgroup> cg = ServiceCgroup::open(parent.name + "/node/limited", limits);
  REQUIRE_MESSAGE(cg.ok(), cg.status().to_string());
  if (cg->version() == CgroupVersion::v1) {
    CHECK(read_text("/sys/fs/cgroup/pids/" + parent.name + "/node/limited/pids.max") == "40\n");
    CHECK(read_text("/sys/fs/cgroup/memory/" + parent.name + "/node/limited/memory.limit_in_bytes") == "67108864\n");
    CHECK(read_text("/sys/fs/cgroup/cpu/" + parent.name + "/node/limited/cpu.shares") == "512\n");
  } else {
    CHECK(read_text("/sys/fs/cgroup/" + parent.name + "/node/limited/pids.max") == "40\n");
    CHECK(read_text("/sys/fs/cgroup/" + parent.name + "/node/limited/memory.max") == "67108864\n");
    CHECK(read_text("/sys/fs/cgroup/" + parent.name + "/node/limited/cpu.weight") == "50\n");
  }
  CHECK(cg->remove().ok());
}

TEST_CASE("service cgroup: tasks_max is enforced on what the agent forks (root)") {
  TestCgroupParent parent;
  CgroupLimits limits;
  limits.tasks_max = 3;
  Result<ServiceCgroup> cg = ServiceCgroup::open(parent.name + "/node/few", limits);
  REQUIRE_MESSAGE(cg.ok(), cg.status().to_string());
  AgentCommand c;
  c.argv = {"/bin/sh", "-c", "for i in 1 2 3 4 5 6; do sleep 30 & done; wait"};
  c.env = {"PATH=/usr/bin:/bin"};
  c.timeout = 3s;
  c.kill_grace = 0s;
  c.join_cgroups = cg->procs_files();
  BootClock clock;
  Result<AgentOutcome> o = run_agent(c, clock);
  REQUIRE(o.ok());
  CHECK(o->output_tail.find("fork") != std::string::npos);  // "Resource temporarily unavailable"
  CHECK(cg->kill_all().ok());
  CHECK(wait_until([&] { return cg->empty().ok() && *cg->empty(); }));
  CHECK(cg->remove().ok());
}

TEST_CASE("service cgroup: an agent's double-forked and setsid children are in it and killed with it (root)") {
  TestCgroupParent parent;
  ScratchDir dir;
  Result<ServiceCgroup> cg = ServiceCgroup::open(parent.name + "/node/svc", {});
  REQUIRE_MESSAGE(cg.ok(), cg.status().to_string());
  const std::string pids = dir.file("pids");
  Result<AgentOutcome> o = run_agent(escaping_agent(cg->procs_files(), pids), BootClock());
  REQUIRE(o.ok());
  CHECK(o->exit_code == 0);
  std::vector<pid_t> left = read_pid_file(pids);
  REQUIRE(left.size() == 2);
  for (pid_t p : left) CHECK(process_alive(p));
  Result<std::vector<pid_t>> in = cg->pids();
  REQUIRE(in.ok());
  for (pid_t p : left) CHECK(std::find(in->begin(), in->end(), p) != in->end());

  Status st = cg->kill_all();
  CHECK_MESSAGE(st.ok(), st.to_string());
  for (pid_t p : left) CHECK(wait_process_gone(p));
  CHECK(wait_until([&] { return cg->empty().ok() && *cg->empty(); }));
  CHECK(cg->remove().ok());
  kill_all_of(left);  // only if the checks above failed
}

TEST_CASE("service cgroup: a cgroup that cannot be joined fails the spawn with the path (root)") {
  AgentCommand c;
  c.argv = {"/bin/true"};
  c.timeout = 5s;
  c.join_cgroups = {"/nonexistent-castor/cgroup.procs"};
  Result<std::unique_ptr<AgentProcess>> p = AgentProcess::spawn(c, BootClock().now());
  REQUIRE(!p.ok());
  CHECK(p.status().to_string().find("/nonexistent-castor/cgroup.procs") != std::string::npos);
}

// The first test: a service whose start double-forks and calls setsid is fully stopped - nothing
// is left after stop. (Without the cgroup both sleeps escape the agent's process group and survive.)
TEST_CASE("service runner: a start that double-forks and calls setsid is fully stopped by stop() (root)") {
  TestCgroupParent parent;
  ScratchDir dir;
  const std::string pids = dir.file("pids");
  ServiceDefinition def;
  def.name = "escaper";
  def.nodes = {"alpha", "beta"};
  def.tasks_max = 64;
  def.resources.push_back(shell_resource("daemon", escaping_shell_line(pids), "true"));
  RunContext ctx;
  ctx.node = "alpha";
  ctx.cgroup_parent = parent.name;
  ServiceRunner r(def, ctx);
  REQUIRE(r.start(1, BootClock().now()).ok());
  REQUIRE(run_until(r, [&] { return r.idle() && r.state() == ServiceRunner::State::started; }));
  std::vector<pid_t> left = read_pid_file(pids);
  REQUIRE(left.size() == 2);
  for (pid_t p : left) CHECK(process_alive(p));
  REQUIRE(r.cgroup() != nullptr);
  CHECK(r.cgroup_path() == parent.name + "/alpha/escaper");
  if (r.cgroup()->version() == CgroupVersion::v1)  // the limit from the definition
    CHECK(read_text("/sys/fs/cgroup/pids/" + parent.name + "/alpha/escaper/pids.max") == "64\n");

  r.stop(BootClock().now());
  REQUIRE(run_until(r, [&] { return r.idle() && r.state() != ServiceRunner::State::stopping; }));
  CHECK(r.state() == ServiceRunner::State::stopped);
  for (pid_t p : left) CHECK_MESSAGE(!process_alive(p), "pid " << p << " survived the stop");
  CHECK(read_text("/proc/self/cgroup").find(parent.name) == std::string::npos);
  kill_all_of(left);  // only if the checks above failed
}

TEST_CASE("service runner: a probe that finds processes in the service's cgroup says some_running (root)") {
  TestCgroupParent parent;
  ServiceDefinition def;
  def.name = "leftover";
  def.nodes = {"alpha", "beta"};
  ResourceDefinition res = shell_resource("d", "setsid sleep 1000 >/dev/null 2>&1 &", "true");
  res.monitor_line = "exit 7";
  res.monitor_argv = {"/bin/sh", "-c", "exit 7"};
  def.resources.push_back(res);
  RunContext ctx;
  ctx.node = "alpha";
  ctx.cgroup_parent = parent.name;
  {
    ServiceRunner r(def, ctx);
    REQUIRE(r.start(1, BootClock().now()).ok());
    REQUIRE(run_until(r, [&] { return r.idle() && r.state() == ServiceRunner::State::started; }));
  }
  // A new runner (svcmgr restarted): the agent says "not running", the cgroup says otherwise.
  ServiceRunner r2(def, ctx);
  REQUIRE(r2.probe(BootClock().now()).ok());
  REQUIRE(run_until(r2, [&] { return r2.idle() && r2.probe_result() != ServiceRunner::ProbeResult::unknown; }));
  CHECK(r2.probe_result() == ServiceRunner::ProbeResult::some_running);
  r2.stop(BootClock().now());
  REQUIRE(run_until(r2, [&] { return r2.idle() && r2.state() != ServiceRunner::State::stopping; }));
  CHECK(r2.state() == ServiceRunner::State::stopped);
}

namespace {

// A child in a process group of its own, not in any Castor cgroup, that sleeps until killed; when
// `want` > 0 it must get that pid (ns_last_pid), else -1.
pid_t spawn_group(pid_t want = 0) {
  if (want > 0) {
    std::ofstream f("/proc/sys/kernel/ns_last_pid");
    f << (want - 1);
    f.close();
    if (!f) return -1;
  }
  pid_t p = fork();
  if (p == 0) {
    setpgid(0, 0);
    for (;;) pause();
  }
  if (p > 0) setpgid(p, p);
  if (want > 0 && p != want) {
    if (p > 0) {
      kill(p, SIGKILL);
      waitpid(p, nullptr, 0);
    }
    return -1;
  }
  return p;
}

// quorumd's registered process groups, wired to the node's cgroup tree `tree` as quorumd wires them (the
// fence kills the tree; a group is signalled only if it is all in it), with the busy check when `busy`.
ProcessGroups groups_over(const std::string& tree, bool busy = false) {
  ProcessGroups::CgroupsBusy busy_check;
  if (busy) busy_check = [tree] { return cgroup_tree_busy(tree); };
  return ProcessGroups([](pid_t g, int s) { return ::kill(-g, s) == 0 ? 0 : errno; },
                       [tree] { return kill_cgroup_tree(tree); },
                       [tree](pid_t g) { return process_group_in_cgroup_tree(g, tree); }, std::move(busy_check));
}

}  // namespace

// The second test: a registered process group ends, its id is reused by an unrelated process
// group (an ssh session, say), and then the node fences: the unrelated group must live, while what is in
// the services' cgroups dies.
TEST_CASE("fence: the services' cgroups are killed, a reused process group id is not (root)") {
  TestCgroupParent parent;
  const std::string tree = parent.name + "/alpha";
  Result<ServiceCgroup> cg = ServiceCgroup::open(tree + "/svc", {});
  REQUIRE_MESSAGE(cg.ok(), cg.status().to_string());
  ProcessGroups groups = groups_over(tree);

  // A service daemon that left its group (setsid): only the cgroup can find it.
  pid_t daemon = spawn_setsid_in(cg->procs_files().front());
  REQUIRE(daemon > 0);
  REQUIRE(wait_until([&] { return getpgid(daemon) == daemon; }));  // joined, then setsid
  Result<bool> in_tree = pid_in_cgroup_tree(daemon, tree);
  REQUIRE(in_tree.ok());
  REQUIRE(*in_tree);

  // A registered group that then ends, and an unrelated group that gets its id.
  pid_t unrelated = -1;
  pid_t registered = -1;
  for (int attempt = 0; attempt < 50 && unrelated < 0; ++attempt) {
    registered = spawn_group();
    REQUIRE(registered > 0);
    REQUIRE(groups.add(registered).ok());
    kill(registered, SIGKILL);
    waitpid(registered, nullptr, 0);
    unrelated = spawn_group(registered);  // may lose a race with another fork on the host: retry
    if (unrelated < 0) groups.remove(registered);
  }
  REQUIRE_MESSAGE(unrelated > 0, "could not get the reused pid (ns_last_pid)");
  REQUIRE(unrelated == registered);
  REQUIRE(groups.groups().count(registered) == 1);  // not pruned yet: the fence must not be fooled

  std::vector<ProcessGroups::Killed> killed = groups.kill_all();
  REQUIRE(killed.size() == 1);
  CHECK(killed[0].pgid == registered);
  CHECK(!killed[0].status.ok());  // not signalled
  CHECK(wait_process_gone(daemon));
  usleep(200000);
  CHECK_MESSAGE(process_alive(unrelated), "the fence killed an unrelated process group that reused a registered id");

  kill(unrelated, SIGKILL);
  waitpid(unrelated, nullptr, 0);
  kill(daemon, SIGKILL);
  waitpid(daemon, nullptr, 0);
}

TEST_CASE("process groups: a registered group that ended is pruned, one in the cgroups is kept (root)") {
  TestCgroupParent parent;
  const std::string tree = parent.name + "/alpha";
  Result<ServiceCgroup> cg = ServiceCgroup::open(tree + "/svc", {});
  REQUIRE(cg.ok());
  ProcessGroups groups = groups_over(tree);
  pid_t ours = spawn_setsid_in(cg->procs_files().front());  // setsid: leads its own group, in the cgroup
  pid_t gone = spawn_group();
  REQUIRE(ours > 0);
  REQUIRE(gone > 0);
  REQUIRE(wait_until([&] { return getpgid(ours) == ours; }));
  REQUIRE(groups.add(ours).ok());
  REQUIRE(groups.add(gone).ok());
  kill(gone, SIGKILL);
  waitpid(gone, nullptr, 0);
  CHECK(groups.any_alive());
  CHECK(groups.groups().count(gone) == 0);
  CHECK(groups.groups().count(ours) == 1);
  std::vector<ProcessGroups::Killed> killed = groups.kill_all();
  CHECK(wait_process_gone(ours));
  kill(ours, SIGKILL);
  waitpid(ours, nullptr, 0);
}

TEST_CASE("process groups: a process in the services' cgroups counts as alive, registered or not (root)") {
  TestCgroupParent parent;
  const std::string tree = parent.name + "/alpha";
  Result<ServiceCgroup> cg = ServiceCgroup::open(tree + "/svc", {});
  REQUIRE(cg.ok());
  ProcessGroups groups = groups_over(tree, true);
  CHECK_FALSE(groups.any_alive());
  pid_t daemon = spawn_setsid_in(cg->procs_files().front());
  REQUIRE(daemon > 0);
  REQUIRE(wait_until([&] { return getpgid(daemon) == daemon; }));
  CHECK(groups.any_alive());
  (void)groups.kill_all();
  CHECK(wait_process_gone(daemon));
  waitpid(daemon, nullptr, 0);
  CHECK_FALSE(groups.any_alive());
}

// --- CgroupKill: the kill in steps, for svcmgr's event loop (issue 14: nothing in svcmgr's loop blocks) ---

namespace {

// A `sleep 1000` in `cg`, started by an agent that joins it; its pid.
pid_t sleeper_in(const ServiceCgroup& cg, const ScratchDir& dir) {
  const std::string pidfile = dir.file("sleeper");
  AgentCommand c;
  c.argv = {"/bin/sh", "-c", "sleep 1000 >/dev/null 2>&1 & echo $! >" + pidfile};
  c.env = {"PATH=/usr/bin:/bin"};
  c.timeout = 5s;
  c.join_cgroups = cg.procs_files();
  Result<AgentOutcome> o = run_agent(c, BootClock());
  REQUIRE(o.ok());
  std::vector<pid_t> p = read_pid_file(pidfile);
  REQUIRE(p.size() == 1);
  REQUIRE(process_alive(p[0]));
  return p[0];
}

// A test cgroup parent with the service cgroup `leaf` below it and a `sleep 1000` in that cgroup (sleeper_in).
struct SleeperInCgroup {
  TestCgroupParent parent;
  ScratchDir dir;
  Result<ServiceCgroup> cg;
  pid_t pid = -1;

  explicit SleeperInCgroup(const std::string& leaf = "node/svc") : cg(ServiceCgroup::open(parent.name + "/" + leaf, {})) {
    REQUIRE_MESSAGE(cg.ok(), cg.status().to_string());
    pid = sleeper_in(*cg, dir);
  }
};

std::string freezer_state(const ServiceCgroup& cg) { return read_text(cg.main_dir() + "/freezer.state"); }

// Says the freeze is still in progress (what the kernel says while a task sleeps uninterruptibly).
Result<std::string> still_freezing(const std::string&) { return std::string("FREEZING\n"); }

}  // namespace

TEST_CASE("cgroup kill in steps: a freeze the kernel completes kills and thaws without any wait (root)") {
  if (!cgroups_usable().ok()) return;
  SleeperInCgroup s;
  ServiceCgroup& cg = *s.cg;
  const pid_t p = s.pid;
  const TimePoint now = BootClock().now();
  std::unique_ptr<CgroupKill> k = CgroupKill::start(cg, now);
  for (int i = 0; i < 200 && !k->done(); ++i) {  // the kernel's freeze: usually done within start()
    usleep(1000);
    k->step(k->next_deadline());
  }
  REQUIRE(k->done());
  CHECK_MESSAGE(k->result().ok(), k->result().to_string());
  CHECK(k->signalled() == 1);
  CHECK(wait_process_gone(p));
  if (cg.version() == CgroupVersion::v1) CHECK(freezer_state(cg) == "THAWED\n");
}

TEST_CASE("cgroup kill in steps: a slow freeze is read at the caller's timer, and the kill comes at kFreezeLimit (root)") {
  if (!cgroups_usable().ok() || *detect_cgroup_version() != CgroupVersion::v1) return;
  SleeperInCgroup s;
  ServiceCgroup& cg = *s.cg;
  const pid_t p = s.pid;
  // Fake time: the state machine only reads the `now` it is given; nothing here sleeps.
  const TimePoint t0 = BootClock().now();
  BootClock real;
  const TimePoint r0 = real.now();
  std::unique_ptr<CgroupKill> k = CgroupKill::start(cg, t0, still_freezing);
  CHECK(real.now() - r0 < Duration(100ms));  // returned at once: no wait for the freezer
  REQUIRE_FALSE(k->done());
  CHECK(k->next_deadline() == t0 + CgroupKill::kPoll);
  CHECK(wait_until([&] { return freezer_state(cg) == "FROZEN\n"; }, 2s));  // the kernel does freeze it
  k->step(t0 + 1s);
  CHECK_FALSE(k->done());
  CHECK(process_alive(p));  // nothing is signalled before the freeze is done or the limit passed
  CHECK(k->next_deadline() == t0 + 1s + CgroupKill::kPoll);
  k->step(t0 + ServiceCgroup::kFreezeLimit);
  REQUIRE(k->done());
  CHECK(k->result().ok());  // a freeze not done in time is logged, and everyone is killed anyway
  CHECK(k->signalled() == 1);
  CHECK(freezer_state(cg) == "THAWED\n");
  CHECK(wait_process_gone(p));
}

TEST_CASE("cgroup kill in steps: destroyed during the freeze, it kills and thaws at once, never leaving it frozen (root)") {
  if (!cgroups_usable().ok() || *detect_cgroup_version() != CgroupVersion::v1) return;
  SleeperInCgroup s;
  ServiceCgroup& cg = *s.cg;
  const pid_t p = s.pid;
  std::unique_ptr<CgroupKill> k = CgroupKill::start(cg, BootClock().now(), still_freezing);
  REQUIRE_FALSE(k->done());
  CHECK(wait_until([&] { return freezer_state(cg) == "FROZEN\n"; }, 2s));
  k.reset();  // svcmgr leaving (its runner destroyed) while the kernel freezes
  CHECK(freezer_state(cg) == "THAWED\n");
  CHECK(wait_process_gone(p));
}

TEST_CASE("service cgroup: a cgroup left frozen by a kill cut short is thawed; an ancestor's freeze is left alone (root)") {
  if (!cgroups_usable().ok() || *detect_cgroup_version() != CgroupVersion::v1) return;
  SleeperInCgroup s;
  ServiceCgroup& cg = *s.cg;
  const pid_t p = s.pid;
  const std::string node = "/sys/fs/cgroup/freezer/" + s.parent.name + "/node";
  // Frozen by its ancestor (quorumd's fence freezes the node's tree): not ours to thaw.
  REQUIRE(testing::run_command("echo FROZEN > " + node + "/freezer.state") == 0);
  REQUIRE(wait_until([&] { return read_text(node + "/freezer.state") == "FROZEN\n"; }, 2s));
  Result<bool> t = cg.thaw_if_left_frozen();
  REQUIRE(t.ok());
  CHECK_FALSE(*t);
  CHECK(freezer_state(cg) == "FROZEN\n");
  REQUIRE(testing::run_command("echo THAWED > " + node + "/freezer.state") == 0);
  // Frozen itself (a svcmgr killed between its freeze and its thaw): thawed.
  REQUIRE(testing::run_command("echo FROZEN > " + cg.main_dir() + "/freezer.state") == 0);
  REQUIRE(wait_until([&] { return freezer_state(cg) == "FROZEN\n"; }, 2s));
  t = cg.thaw_if_left_frozen();
  REQUIRE(t.ok());
  CHECK(*t);
  CHECK(freezer_state(cg) == "THAWED\n");
  t = cg.thaw_if_left_frozen();
  REQUIRE(t.ok());
  CHECK_FALSE(*t);
  kill(p, SIGKILL);
  CHECK(wait_process_gone(p));
}

TEST_CASE("service runner: a service cgroup left frozen is thawed at the runner's first action (root)") {
  if (!cgroups_usable().ok() || *detect_cgroup_version() != CgroupVersion::v1) return;
  SleeperInCgroup s("alpha/frozen");
  ServiceCgroup& cg = *s.cg;
  const pid_t p = s.pid;
  REQUIRE(testing::run_command("echo FROZEN > " + cg.main_dir() + "/freezer.state") == 0);
  REQUIRE(wait_until([&] { return freezer_state(cg) == "FROZEN\n"; }, 2s));
  ServiceDefinition def;
  def.name = "frozen";
  def.nodes = {"alpha", "beta"};
  def.resources.push_back(shell_resource("r", "true", "true"));
  RunContext ctx;
  ctx.node = "alpha";
  ctx.cgroup_parent = s.parent.name;
  ServiceRunner r(def, ctx);
  r.stop(BootClock().now());  // a stop (after a crash): the left process is killed, the cgroup emptied
  REQUIRE(run_until(r, [&] { return r.idle() && r.state() != ServiceRunner::State::stopping; }));
  CHECK(r.state() == ServiceRunner::State::stopped);  // before: SIGKILL to a frozen task waited for a thaw
  CHECK(wait_process_gone(p));
}

TEST_CASE("agent process: joining a frozen cgroup, spawn returns at once instead of waiting for the exec until the timeout (root)") {
  // The child joins the cgroup before it execs; frozen (a fence's freeze, a kill cut short), it never gets to
  // the exec until thawed. spawn() waited for the exec report up to the action's timeout, in svcmgr's loop.
  if (!cgroups_usable().ok() || *detect_cgroup_version() != CgroupVersion::v1) return;
  TestCgroupParent parent;
  Result<ServiceCgroup> cg = ServiceCgroup::open(parent.name + "/node/svc", {});
  REQUIRE_MESSAGE(cg.ok(), cg.status().to_string());
  REQUIRE(testing::run_command("echo FROZEN > " + cg->main_dir() + "/freezer.state") == 0);
  REQUIRE(wait_until([&] { return read_text(cg->main_dir() + "/freezer.state") == "FROZEN\n"; }, 2s));
  AgentCommand c;
  c.argv = {"/bin/true"};
  c.env = {"PATH=/usr/bin:/bin"};
  c.timeout = 3s;
  c.kill_grace = 100ms;
  c.join_cgroups = cg->procs_files();
  BootClock clock;
  const TimePoint t0 = clock.now();
  Result<std::unique_ptr<AgentProcess>> p = AgentProcess::spawn(c, t0);
  const Duration took = clock.now() - t0;
  REQUIRE_MESSAGE(p.ok(), p.status().to_string());
  CHECK_MESSAGE(took < Duration(1s), "spawn took " << format_duration(took));
  CHECK(took >= AgentProcess::kExecWait);
  // Thawed, the child execs and exits; the outcome comes as usual.
  REQUIRE(testing::run_command("echo THAWED > " + cg->main_dir() + "/freezer.state") == 0);
  std::optional<AgentOutcome> o;
  for (int i = 0; i < 500 && !o; ++i) {
    o = (*p)->poll(clock.now());
    if (!o) usleep(10000);
  }
  REQUIRE(o.has_value());
  CHECK(o->exit_code == 0);
}
