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
