// Root tests of ServiceCgroup on cgroup v2. This host's cgroups are v1 (/sys/fs/cgroup is a tmpfs of v1
// hierarchies), but it also mounts a cgroup2 hierarchy with no controllers at /sys/fs/cgroup/unified,
// which runs ServiceCgroup's v2 code when passed as `root`: membership of a double-forked and a setsid
// process, kill_all() through cgroup.kill, the freeze-kill-thaw fallback (cgroup.freeze), remove(),
// an agent's children joining before exec, the fence's tree kill, and open() with limits where the
// controllers are missing. Limits themselves stay untested on v2 here:
// memory, cpu and pids are bound to the v1 hierarchies, so no v2 cgroup on this host can have them.
// Every cgroup is created under a parent of this test's own and removed at the end, also when a check
// fails; only processes started here are signalled. A host without the cgroup2 mount skips them.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "agent/agent_process.h"
#include "agent/service_cgroup.h"
#include "agent/service_cgroup_internal.h"
#include "tests/support/cgroup_fixture.h"
#include "tests/support/scratch.h"

using namespace castor;
using namespace castor::testing;
using namespace std::chrono_literals;

namespace {

const std::string kUnified = "/sys/fs/cgroup/unified";

std::string read_text(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// The file system type /proc/self/mounts gives for `dir` ("" if nothing is mounted there): the kernel's
// word, independent of the statfs that detect_cgroup_version() does.
std::string mount_type(const std::string& dir) {
  std::ifstream f("/proc/self/mounts");
  std::string dev, where, type, rest;
  std::string found;
  while (f >> dev >> where >> type && std::getline(f, rest))
    if (where == dir) found = type;  // the last mount on it is the one seen
  return found;
}

// Whether this host has the cgroup2 mount these tests run on; says why not when it has not.
bool have_unified() {
  if (mount_type(kUnified) == "cgroup2") return true;
  MESSAGE("no cgroup2 mount at " << kUnified << ": the cgroup v2 tests are skipped on this host");
  return false;
}

std::vector<pid_t> sorted(std::vector<pid_t> v) {
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

TEST_CASE("service cgroup v2: the unified mount is detected as v2, the v1 tmpfs as v1 (root)") {
  if (!have_unified()) return;
  Result<CgroupVersion> v = detect_cgroup_version(kUnified);
  REQUIRE_MESSAGE(v.ok(), v.status().to_string());
  CHECK(*v == CgroupVersion::v2);
  CHECK(cgroups_usable(kUnified).ok());
  if (mount_type("/sys/fs/cgroup") == "tmpfs") {
    Result<CgroupVersion> v1 = detect_cgroup_version("/sys/fs/cgroup");
    REQUIRE(v1.ok());
    CHECK(*v1 == CgroupVersion::v1);
  }
}

TEST_CASE("service cgroup v2: a double-forked and a setsid process are listed; kill_all() (cgroup.kill) "
          "empties it, an outside process lives, remove() works (root)") {
  if (!have_unified()) return;
  TestCgroupParent parent(kUnified);
  ChildProcesses children;
  Result<ServiceCgroup> cg = ServiceCgroup::open(parent.name + "/node/svc", {}, kUnified);
  REQUIRE_MESSAGE(cg.ok(), cg.status().to_string());
  REQUIRE(cg->version() == CgroupVersion::v2);
  CHECK(cg->main_dir() == kUnified + "/" + parent.name + "/node/svc");
  CHECK(cg->procs_files() == std::vector<std::string>{cg->main_dir() + "/cgroup.procs"});
  // Which kill_all() path runs: this kernel has cgroup.kill (Linux 5.14+).
  REQUIRE_MESSAGE(exists(cg->main_dir() + "/cgroup.kill"), "no cgroup.kill: kill_all() would take the freeze path");

  const pid_t outsider = children.add(spawn_sleeper());
  const pid_t forked = children.add(spawn_double_forked_in(cg->procs_files().front()));
  const pid_t session = children.add(spawn_setsid_in(cg->procs_files().front()));
  REQUIRE(outsider > 0);
  REQUIRE(forked > 0);
  REQUIRE(session > 0);
  REQUIRE(wait_until([&] { return ::getsid(session) == session; }));  // joined, then setsid

  Result<std::vector<pid_t>> in = cg->pids();
  REQUIRE_MESSAGE(in.ok(), in.status().to_string());
  CHECK(sorted(*in) == sorted({forked, session}));
  Result<bool> empty = cg->empty();
  REQUIRE(empty.ok());
  CHECK_FALSE(*empty);
  Result<bool> outside = pid_in_cgroup_tree(outsider, parent.name, kUnified);
  REQUIRE(outside.ok());
  CHECK_FALSE(*outside);

  Status busy = cg->remove();
  CHECK(busy.code() == Code::busy);  // it still holds processes: not removed
  CHECK(exists(cg->main_dir()));

  Status st = cg->kill_all();
  REQUIRE_MESSAGE(st.ok(), st.to_string());
  CHECK(wait_process_gone(forked));
  CHECK(wait_process_gone(session));
  CHECK(wait_until([&] { return cg->empty().ok() && *cg->empty(); }));
  CHECK_MESSAGE(process_alive(outsider), "kill_all() killed a process outside the cgroup");

  st = cg->remove();
  CHECK_MESSAGE(st.ok(), st.to_string());
  CHECK_FALSE(exists(cg->main_dir()));
  CHECK(exists(kUnified + "/" + parent.name + "/node"));  // remove() takes the service's cgroup only
}

// kill_all() takes the freeze-kill-thaw path only when cgroup.kill is missing (v2 before Linux 5.14),
// which this kernel never is: the path is run here through cgroup_internal::freeze_kill_thaw(), the very
// function kill_all() and kill_cgroup_tree() fall back to.
TEST_CASE("service cgroup v2: the freeze fallback kills everything in the tree, thaws it, spares the outside (root)") {
  if (!have_unified()) return;
  TestCgroupParent parent(kUnified);
  ChildProcesses children;
  Result<ServiceCgroup> a = ServiceCgroup::open(parent.name + "/node/a", {}, kUnified);
  Result<ServiceCgroup> b = ServiceCgroup::open(parent.name + "/node/b", {}, kUnified);
  REQUIRE_MESSAGE(a.ok(), a.status().to_string());
  REQUIRE_MESSAGE(b.ok(), b.status().to_string());
  const pid_t outsider = children.add(spawn_sleeper());
  const pid_t forked = children.add(spawn_double_forked_in(a->procs_files().front()));
  const pid_t session = children.add(spawn_setsid_in(a->procs_files().front()));
  const pid_t other = children.add(spawn_setsid_in(b->procs_files().front()));
  REQUIRE(outsider > 0);
  REQUIRE(forked > 0);
  REQUIRE(session > 0);
  REQUIRE(other > 0);
  REQUIRE(wait_until([&] { return ::getsid(session) == session && ::getsid(other) == other; }));

  const std::string top = kUnified + "/" + parent.name + "/node";
  BootClock clock;
  const TimePoint began = clock.now();
  Result<size_t> n = cgroup_internal::freeze_kill_thaw(CgroupVersion::v2, top);
  const Duration took = clock.now() - began;
  REQUIRE_MESSAGE(n.ok(), n.status().to_string());
  CHECK(*n == 3);
  // The freeze completed ("frozen 1" seen): a freeze that times out is only logged, and costs kFreezeLimit.
  CHECK_MESSAGE(took < ServiceCgroup::kFreezeLimit, "the freeze took " << format_duration(took));
  for (pid_t p : {forked, session, other}) CHECK_MESSAGE(wait_process_gone(p), "pid " << p << " survived");
  CHECK(wait_until([&] { return a->empty().ok() && *a->empty() && b->empty().ok() && *b->empty(); }));
  CHECK_MESSAGE(process_alive(outsider), "the freeze path killed a process outside the cgroup");
  // Never left frozen: the tree is thawed and the kernel says so.
  CHECK(read_text(top + "/cgroup.freeze") == "0\n");
  CHECK(read_text(top + "/cgroup.events").find("frozen 0") != std::string::npos);
  CHECK(read_text(a->main_dir() + "/cgroup.events").find("frozen 0") != std::string::npos);

  // A tree that is not there: nothing to kill.
  Result<size_t> none = cgroup_internal::freeze_kill_thaw(CgroupVersion::v2, top + "/missing");
  REQUIRE(none.ok());
  CHECK(*none == 0);

  Status removed_a = a->remove(), removed_b = b->remove();
  CHECK_MESSAGE(removed_a.ok(), removed_a.to_string());
  CHECK_MESSAGE(removed_b.ok(), removed_b.to_string());
}

TEST_CASE("service cgroup v2: limits without their controllers fail open() with the controller's name "
          "and create nothing (root)") {
  if (!have_unified()) return;
  const std::string controllers = read_text(kUnified + "/cgroup.controllers");
  TestCgroupParent parent(kUnified);
  struct Case {
    const char* controller;
    CgroupLimits limits;
  };
  CgroupLimits memory, cpu, pids;
  memory.memory_max = 64ull << 20;
  cpu.cpu_weight = 50;
  pids.tasks_max = 40;
  for (const Case& c : {Case{"memory", memory}, Case{"cpu", cpu}, Case{"pids", pids}}) {
    CAPTURE(c.controller);
    if (controllers.find(c.controller) != std::string::npos) {
      MESSAGE("the v2 '" << c.controller << "' controller is available here: this case does not apply");
      continue;
    }
    const std::string before = read_text(kUnified + "/cgroup.subtree_control");
    Result<ServiceCgroup> cg = ServiceCgroup::open(parent.name + "/node/limited", c.limits, kUnified);
    REQUIRE_FALSE(cg.ok());
    const std::string why = cg.status().to_string();
    CHECK_MESSAGE(why.find(std::string("+") + c.controller) != std::string::npos, why);
    CHECK_MESSAGE(why.find(kUnified + "/cgroup.subtree_control") != std::string::npos, why);
    CHECK_FALSE(exists(kUnified + "/" + parent.name));  // refused before any mkdir
    CHECK(read_text(kUnified + "/cgroup.subtree_control") == before);
  }
  // The same path with no limits opens: the refusal was the limits', not the path's.
  Result<ServiceCgroup> plain = ServiceCgroup::open(parent.name + "/node/limited", {}, kUnified);
  REQUIRE_MESSAGE(plain.ok(), plain.status().to_string());
  CHECK(plain->remove().ok());
}

// The path svcmgr and quorumd take on a v2 host, end to end: an agent's children join the service's
// cgroup before exec (double-forked and setsid ones included), the node's tree is busy and holds them,
// and the fence's kill_cgroup_tree (cgroup.kill on the node's cgroup) kills them all.
TEST_CASE("service cgroup v2: an agent's escaping children are in the tree, and the fence's tree kill gets them (root)") {
  if (!have_unified()) return;
  TestCgroupParent parent(kUnified);
  ChildProcesses children;
  ScratchDir dir;
  Result<ServiceCgroup> cg = ServiceCgroup::open(parent.name + "/node/svc", {}, kUnified);
  REQUIRE_MESSAGE(cg.ok(), cg.status().to_string());
  CHECK(cg->version() == CgroupVersion::v2);
  const std::string pids = dir.file("pids");
  Result<AgentOutcome> o = run_agent(escaping_agent(cg->procs_files(), pids), BootClock());
  REQUIRE(o.ok());
  CHECK(o->exit_code == 0);
  std::vector<pid_t> left = read_pid_file(pids);
  for (pid_t p : left) children.add(p);
  REQUIRE(left.size() == 2);
  Result<std::vector<pid_t>> in = cg->pids();
  REQUIRE(in.ok());
  CHECK(sorted(*in) == sorted(left));
  for (pid_t p : left) {
    Result<bool> member = pid_in_cgroup_tree(p, parent.name, kUnified);
    REQUIRE(member.ok());
    CHECK(*member);
  }
  Result<bool> busy = cgroup_tree_busy(parent.name, kUnified);
  REQUIRE(busy.ok());
  CHECK(*busy);
  Result<size_t> n = kill_cgroup_tree(parent.name + "/node", kUnified);
  REQUIRE_MESSAGE(n.ok(), n.status().to_string());
  CHECK(*n == 2);
  for (pid_t p : left) CHECK(wait_process_gone(p));
  CHECK(wait_until([&] { return cg->empty().ok() && *cg->empty(); }));
  Status st = remove_cgroup_tree(parent.name, kUnified);
  CHECK_MESSAGE(st.ok(), st.to_string());
  CHECK_FALSE(exists(kUnified + "/" + parent.name));
}
