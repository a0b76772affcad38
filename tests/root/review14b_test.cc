// Second review of issue 14 (after the first review's fixes): root-only failing cases that prove the
// findings (real cgroups, real loop devices). Each case that fails on main is marked doctest::should_fail()
// (so the suite stays green) with a comment; remove the mark to see the failure:
//   ./build/tests/root_tests -tc='review14b*'
// FINDING N is the report's numbering (session 24, most severe first); the others are in tests/unit/review14b_test.cc.
// Every cgroup is created under a parent named for this test run and removed at the end; loop devices and
// files are removed by their destructors; only processes started here are killed.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "agent/service_cgroup.h"
#include "common/clock.h"
#include "config/service_loader.h"
#include "disk/device_probe.h"
#include "svcmgr/service_runner.h"
#include "tests/support/cgroup_fixture.h"
#include "tests/support/runner_driver.h"
#include "tests/support/scratch.h"

using namespace castor;
using namespace castor::testing;
using namespace std::chrono_literals;

namespace {

// How long a runner may take to settle (start, stop, probe) in these cases.
constexpr Duration kSettle = 15s;

// The name of a control file every cgroup directory holds on this host ("tasks" on v1, "cgroup.procs" on
// v2): a service of that name collides with it.
std::string control_file_name() {
  auto v = detect_cgroup_version();
  REQUIRE(v.ok());
  return *v == CgroupVersion::v1 ? "tasks" : "cgroup.procs";
}

// Service `n` (nodes alpha, beta; one exec resource whose start and stop are `true`, plus `extra`), loaded
// from its text as /etc/castor/services.d/`n`.ini.
LoadResult load_true_service(const std::string& n, const std::string& extra = "") {
  return load_service_text("[service]\nname = " + n + "\nnodes = alpha, beta\n\n[resource r]\nagent = exec\nshell = yes\n"
                           "start = true\nstop = true\n" + extra,
                           "/etc/castor/services.d/" + n + ".ini", {"alpha", "beta"});
}

// Runs as node alpha with its services' cgroups below `parent`.
RunContext alpha_below(const TestCgroupParent& parent) {
  RunContext ctx;
  ctx.node = "alpha";
  ctx.cgroup_parent = parent.name;
  return ctx;
}

// Starts (stops) `r` and runs its loop until the start (stop) has ended, whatever its outcome.
void start_until_settled(ServiceRunner& r) {
  REQUIRE(r.start(1, BootClock().now()).ok());
  REQUIRE(run_until(r, [&] { return r.idle() && r.state() != ServiceRunner::State::starting; }, kSettle));
}
void stop_until_settled(ServiceRunner& r) {
  r.stop(BootClock().now());
  REQUIRE(run_until(r, [&] { return r.idle() && r.state() != ServiceRunner::State::stopping; }, kSettle));
}

const char* state_name(ServiceRunner::State s) {
  switch (s) {
    case ServiceRunner::State::stopped: return "stopped";
    case ServiceRunner::State::starting: return "starting";
    case ServiceRunner::State::started: return "started";
    case ServiceRunner::State::failed: return "failed";
    case ServiceRunner::State::stopping: return "stopping";
    case ServiceRunner::State::stop_failed: return "stop_failed";
  }
  return "?";
}

}  // namespace

// FINDING 5 (availability: a valid service name makes the node fence). A service's cgroup is
// <parent>/<node>/<service name>, and a service name may be any 1-63 of [A-Za-z0-9._-]. On cgroup v1 every
// cgroup directory already holds the FILES "tasks", "notify_on_release", "cgroup.procs", "freezer.state",
// ... (v2: "cgroup.procs", "cgroup.kill", "memory.max", ...). ServiceCgroup::open's mkdir_p takes EEXIST as
// "the cgroup exists" (lib/agent/service_cgroup.cc:106, and :276 on v2) without checking it is a
// directory, so a service named "tasks" gets <...>/tasks, a control file, as its cgroup: every agent spawn
// fails (open <...>/tasks/cgroup.procs: ENOTDIR), the start fails, and the stop that follows cannot run
// either, nor can the cgroup be read (opendir ENOTDIR) -> stop_failed, which makes svcmgr fence the node;
// the peer then fails the same way. The loader accepts the name (load_service_text below).
// Expected: the name is refused at load time, or the service gets a real cgroup (start -> started, stop ->
// stopped). On main: start -> failed, stop -> stop_failed.
TEST_CASE("review14b: a service named like a cgroup control file ('tasks') can start and stop (root)") {
  REQUIRE(running_as_root());
  TestCgroupParent parent;
  const std::string name = control_file_name();
  LoadResult loaded = load_true_service(name);
  const bool refused = !loaded.ok();
  ServiceDefinition def;
  if (refused) {
    // A refusal at load time is the fix for service files (castor check reports the same). A runner can still
    // meet the name without the loader (an up entry adopted from the disk as an orphan): then the start must
    // fail (reported, recoverable) and the stop must end stopped, not stop_failed (which fences the node).
    MESSAGE("the loader refuses the name: " << loaded.error_text());
    CHECK(loaded.error_text().find("reserved") != std::string::npos);
    LoadResult other = load_true_service("r14b-other");
    REQUIRE_MESSAGE(other.ok(), other.error_text());
    def = other.services[0];
    def.name = name;
  } else {
    REQUIRE(loaded.services.size() == 1);
    def = loaded.services[0];
  }
  ServiceRunner r(def, alpha_below(parent));

  start_until_settled(r);
  CHECK_MESSAGE(r.state() == (refused ? ServiceRunner::State::failed : ServiceRunner::State::started),
                "start of '" << name << "' ended " << std::string(state_name(r.state())));
  stop_until_settled(r);
  CHECK_MESSAGE(r.state() == ServiceRunner::State::stopped,
                "stop of '" << name << "' ended " << std::string(state_name(r.state())) << " (svcmgr fences the node on stop_failed)");
}

// The start-up probe svcmgr runs for every service it loads (add_service(..., probe=true)) fails the same
// way: a probe error makes svcmgr stop the service, the stop ends stop_failed, and svcmgr asks quorumd to fence
// the node -- on every node in the service's `nodes`, as soon as the file is loaded, even if it never starts.
TEST_CASE("review14b: the start-up probe of a service named 'tasks' can tell it is stopped (root)") {
  REQUIRE(running_as_root());
  TestCgroupParent parent;
  const std::string name = control_file_name();
  // The loader refuses the name now (see above); svcmgr still probes an up entry of that name adopted from
  // the disk, so the probe is run with the name given to a definition loaded under another.
  LoadResult loaded = load_true_service(name, "monitor = exit 7\n");
  if (!loaded.ok()) loaded = load_true_service("r14b-other", "monitor = exit 7\n");
  REQUIRE_MESSAGE(loaded.ok(), loaded.error_text());
  ServiceDefinition def = loaded.services[0];
  def.name = name;
  ServiceRunner r(def, alpha_below(parent));
  REQUIRE(r.probe(BootClock().now()).ok());
  REQUIRE(run_until(r, [&] { return r.idle(); }, kSettle));
  CHECK_MESSAGE(r.probe_result() == ServiceRunner::ProbeResult::all_stopped,
                "probe of '" << name << "' did not say all_stopped (svcmgr then stops it, stop_failed, fence)");
}

// The same collision at the ServiceCgroup level: open() says ok, but what it opened is a file.
TEST_CASE("review14b: ServiceCgroup::open on a name that is a cgroup control file gives a cgroup that works (root)") {
  REQUIRE(running_as_root());
  TestCgroupParent parent;
  auto v = detect_cgroup_version();
  REQUIRE(v.ok());
  const std::string rel = parent.name + "/alpha/" + (*v == CgroupVersion::v1 ? "tasks" : "cgroup.procs");
  auto cg = ServiceCgroup::open(rel, {});
  if (!cg.ok()) {  // refusing is a fix: with an error that names the control file
    CHECK_MESSAGE(cg.status().code() == Code::already_exists, cg.status().to_string());
    CHECK_MESSAGE(cg.status().message().find("control file") != std::string::npos, cg.status().to_string());
    return;
  }
  struct stat st;
  CHECK_MESSAGE((::stat(cg->main_dir().c_str(), &st) == 0 && S_ISDIR(st.st_mode)), cg->main_dir() << " is not a directory");
  auto empty = cg->empty();
  CHECK_MESSAGE(empty.ok(), (empty.ok() ? "" : empty.status().to_string()));
  Status killed = cg->kill_all();
  CHECK_MESSAGE(killed.ok(), killed.to_string());
}

// FINDING 6 (availability: a service at its own tasks_max limit fences the node). Every agent, the stop and
// the monitor included, joins every hierarchy of the service's cgroup, limits included (ServiceRunner::launch:
// join_cgroups = procs_files(); AgentProcess child_exec writes "0" to each). Joining is allowed past pids.max,
// but the agent then cannot fork: once the service's daemons use tasks_max - 1 (a runaway, the case the limit
// exists for, uses all of it; here 2 sleeps of tasks_max 3, the stop agent's shell is the 3rd task), the stop
// agent's first fork fails (dash: "Cannot fork"), the stop counts as failed and the state is
// stop_failed even though the drain then empties the cgroup -> svcmgr fences the node, and the peer, which
// starts the same service, hits the same wall. Same for a monitor (failed -> recovery stop -> stop_failed),
// and for memory_max (the agent is charged to the full memory cgroup and can be OOM-killed).
// Expected: a service whose daemons use all of tasks_max still stops cleanly (stopped, its stop command ran).
// On main: stop_failed and the stop command never ran.
TEST_CASE("review14b: a service whose daemons reach its tasks_max can still be stopped (root)") {
  // Fixed (v1): only the start agent joins the limit hierarchies; the stop agent joins the freezer one.
  REQUIRE(running_as_root());
  TestCgroupParent parent;
  ScratchDir dir;
  const std::string mark = dir.file("running");
  const ServiceDefinition def = load_capped_service(mark);
  REQUIRE(def.tasks_max == 3u);
  ServiceRunner r(def, alpha_below(parent));
  start_until_settled(r);
  REQUIRE_MESSAGE(r.state() == ServiceRunner::State::started, std::string(state_name(r.state())));
  REQUIRE(r.cgroup() != nullptr);
  auto pids = r.cgroup()->pids();
  REQUIRE(pids.ok());
  MESSAGE("the service holds " << pids->size() << " processes (tasks_max 3)");

  stop_until_settled(r);
  CHECK_MESSAGE(r.state() == ServiceRunner::State::stopped,
                "stop ended " << std::string(state_name(r.state())) << " (svcmgr fences the node on stop_failed)");
  struct stat st;
  CHECK_MESSAGE(::stat(mark.c_str(), &st) != 0, "the stop command never ran (it could not fork)");
}

// FINDING 2 (safety: two owners, with a cloned or snapshot LUN presented to a node). issue 14: "a device tag
// that matches more than one device is refused, so a cloned or snapshot LUN is never taken for the quorum
// disk". resolve_device checks that only for the LABEL=/UUID=/PARTUUID=/PARTLABEL= spelling
// (lib/disk/device_probe.cc:386: anything starting with '/' is returned unchanged). The same tags spelled as
// udev's links, /dev/disk/by-label/X, /dev/disk/by-uuid/X, /dev/disk/by-partuuid/X, by-partlabel/X (the
// usual way to name a disk in a config file), go through unchecked, and udev points such a link at whichever
// copy it probed last. A clone carries the same superblock, so the cluster_uuid pin does not tell them
// apart: one node heartbeats on the original, the other on the copy, each sees the other's heartbeat stop,
// and both take the services over.
// Expected: a path that is a udev tag link (or, generally, a device whose quorum superblock another device
// also carries) is refused like LABEL=. On main it resolves to the link.
TEST_CASE("review14b: a /dev/disk/by-label style link to one of two clones is refused like LABEL= (root)") {
  REQUIRE(running_as_root());
  ScratchDir dir;
  LoopDevice a(dir.file("a.img"), 8);
  REQUIRE_MESSAGE(a.ok(), a.error());
  const std::string label = "r14b" + std::to_string(getpid() % 100000);
  std::string out;
  REQUIRE_MESSAGE(run_command("mkfs.ext4 -q -L " + label + " " + a.device(), &out) == 0, out);
  REQUIRE_MESSAGE(run_command("cp --sparse=always " + dir.file("a.img") + " " + dir.file("b.img"), &out) == 0, out);
  LoopDevice b(dir.file("b.img"), 8, 512, true, /*create_file=*/false);
  REQUIRE_MESSAGE(b.ok(), b.error());
  // The spelling that is checked: refused (this part passes on main).
  auto tag = resolve_device("LABEL=" + label);
  REQUIRE_FALSE(tag.ok());
  REQUIRE(tag.status().code() == Code::refused);
  // The link udev would make for the same label (no udev here: made by hand, pointing at the copy).
  REQUIRE(run_command("mkdir -p " + dir.file("disk/by-label"), &out) == 0);
  const std::string link = dir.file("disk/by-label/" + label);
  REQUIRE(::symlink(b.device().c_str(), link.c_str()) == 0);
  auto via_link = resolve_device(link);
  CHECK_MESSAGE(!via_link.ok(), "the link to a clone resolved to " << (via_link.ok() ? *via_link : "") << " unchecked");
}

// WEAKNESS (not fixed in this session: freeze_kill_thaw is being rewritten by another change). kill_all()
// reads the pids of every cgroup directory below the service's first and signals nobody if one read fails
// (lib/agent/service_cgroup.cc freeze_kill_thaw: `if (pids.ok())` around the whole kill loop): one
// unreadable cgroup.procs in a sub-cgroup (a daemon may make its own) leaves every process of the service
// alive. root reads cgroup.procs regardless of its mode, so the file is made unreadable by a bind mount of
// a dead process's /proc/PID/mem over it (every read: ESRCH); undone at the end.
// Expected: the processes that can be listed are killed (the error may still be reported). On main: none is.
TEST_CASE("review14b: one unreadable cgroup.procs below a service's cgroup does not save every process from the kill (root)") {
  REQUIRE(running_as_root());
  TestCgroupParent parent;
  auto cg = ServiceCgroup::open(parent.name + "/alpha/svc", {});
  REQUIRE_MESSAGE(cg.ok(), cg.status().to_string());
  const std::string sub = cg->main_dir() + "/sub";
  REQUIRE(::mkdir(sub.c_str(), 0755) == 0);
  const std::vector<std::string> procs = cg->procs_files();
  pid_t victim = ::fork();
  REQUIRE(victim >= 0);
  if (victim == 0) {
    for (const std::string& f : procs) {
      int fd = ::open(f.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0 || ::write(fd, "0", 1) != 1) _exit(127);
      ::close(fd);
    }
    ::execl("/bin/sleep", "sleep", "60", static_cast<char*>(nullptr));
    _exit(127);
  }
  struct Undo {
    pid_t pid;
    std::string mount_point;
    ~Undo() {
      if (!mount_point.empty()) (void)run_command("umount -l " + mount_point);
      if (pid > 0) {  // only the process started here
        ::kill(pid, SIGKILL);
        (void)::waitpid(pid, nullptr, 0);
      }
    }
  } undo{victim, ""};
  bool joined = false;
  for (int i = 0; i < 200 && !joined; ++i) {
    auto pids = cg->pids();
    joined = pids.ok() && std::find(pids->begin(), pids->end(), victim) != pids->end();
    if (!joined) usleep(10000);
  }
  REQUIRE_MESSAGE(joined, "the victim did not join the service's cgroup");
  std::string out;
  REQUIRE_MESSAGE(run_command("mount --bind /proc/self/mem " + sub + "/cgroup.procs", &out) == 0, out);
  undo.mount_point = sub + "/cgroup.procs";
  REQUIRE_FALSE(cg->pids().ok());  // the set-up works: one directory cannot be read

  Status st = cg->kill_all();
  MESSAGE("kill_all: " << st.to_string());
  bool dead = false;
  for (int i = 0; i < 200 && !dead; ++i) {
    int status = 0;
    dead = ::waitpid(victim, &status, WNOHANG) == victim;
    if (!dead) usleep(10000);
  }
  if (dead) undo.pid = 0;  // reaped: not to be signalled again
  CHECK_MESSAGE(dead, "the service's process survived kill_all because another directory's cgroup.procs was unreadable");
}
