#include <doctest/doctest.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "agent/agent_process.h"
#include "agent/agent_result.h"
#include "agent/process_group_scan.h"
#include "agent/service_cgroup.h"
#include "tests/support/cgroup_fixture.h"
#include "tests/support/scratch.h"

using namespace castor;
using namespace std::chrono_literals;
using castor::testing::ScratchDir;

namespace {

const char* kDummy = "/usr/lib/ocf/resource.d/heartbeat/Dummy";
const std::string kPath = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";

AgentCommand command(std::vector<std::string> argv, Duration timeout = 10s) {
  AgentCommand c;
  c.argv = std::move(argv);
  c.env = {kPath};
  c.timeout = timeout;
  return c;
}

AgentOutcome run(const AgentCommand& c) {
  BootClock clock;
  Result<AgentOutcome> r = run_agent(c, clock);
  REQUIRE_MESSAGE(r.ok(), r.status().to_string());
  return std::move(r).value();
}

// Processes of group `pgid` that are alive (not zombies), from /proc.
int live_members(pid_t pgid) {
  int n = 0;
  DIR* d = opendir("/proc");
  if (!d) return -1;
  while (struct dirent* e = readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    std::ifstream f(std::string("/proc/") + e->d_name + "/stat");
    std::string stat;
    if (!std::getline(f, stat)) continue;
    size_t close_paren = stat.rfind(')');
    if (close_paren == std::string::npos) continue;
    char state = 0;
    int ppid = 0, pgrp = 0;
    if (std::sscanf(stat.c_str() + close_paren + 1, " %c %d %d", &state, &ppid, &pgrp) != 3) continue;
    if (pgrp == pgid && state != 'Z' && state != 'X') ++n;
  }
  closedir(d);
  return n;
}

// True once no process of the group is alive (zombies do not count). A SIGKILLed process may take a
// moment to die, hence the wait.
bool no_live_members(pid_t pgid, Duration wait = 1s) {
  BootClock clock;
  TimePoint until = clock.now() + wait;
  for (;;) {
    if (live_members(pgid) == 0) return true;
    if (clock.now() >= until) return false;
    std::this_thread::sleep_for(5ms);
  }
}

// True once kill(-pgid, 0) says ESRCH. Members killed by us but reparented to init linger as zombies until
// init reaps them (here, PID 1 of a VM takes up to ~1.5 s), hence the long wait.
bool group_gone(pid_t pgid, Duration wait = 5s) {
  BootClock clock;
  TimePoint until = clock.now() + wait;
  for (;;) {
    if (kill(-pgid, 0) == -1 && errno == ESRCH) return true;
    if (clock.now() >= until) return false;
    std::this_thread::sleep_for(5ms);
  }
}

std::string write_script(const ScratchDir& dir, const std::string& name, const std::string& body) {
  std::string path = dir.file(name);
  {
    std::ofstream f(path);
    f << body;
  }
  chmod(path.c_str(), 0755);
  return path;
}

}  // namespace

TEST_CASE("true and false: exit codes, no timeout (root)") {
  AgentOutcome t = run(command({"/bin/true"}));
  CHECK_FALSE(t.timed_out);
  CHECK(t.exit_code == 0);
  CHECK(t.signal == 0);
  CHECK(t.elapsed < 2s);
  CHECK(classify(AgentKind::exec, AgentAction::start, t).severity == Severity::ok);

  AgentOutcome f = run(command({"/bin/false"}));
  CHECK_FALSE(f.timed_out);
  CHECK(f.exit_code == 1);
  CHECK(classify(AgentKind::exec, AgentAction::start, f).severity == Severity::soft);

  AgentOutcome sh = run(command({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}));
  CHECK(sh.exit_code == 3);
  CHECK(sh.output_tail == "out\nerr\n");
  CHECK(classify(AgentKind::exec, AgentAction::stop, sh).text == "exit 3: err");
}

TEST_CASE("event-loop use: epoll on the output pipe and the pidfd, each closed when it turns -1 (root)") {
  // Output ends (EOF) long before the process does: only the pidfd can tell when it exits.
  AgentCommand c = command({"/bin/sh", "-c", "echo a; exec >/dev/null 2>&1; sleep 0.3; exit 4"}, 10s);
  BootClock clock;
  TimePoint start = clock.now();
  auto spawned = AgentProcess::spawn(c, start);
  REQUIRE(spawned.ok());
  std::unique_ptr<AgentProcess> p = std::move(spawned).value();
  REQUIRE(p->output_fd() >= 0);
  REQUIRE_MESSAGE(p->pid_fd() >= 0, "pidfd_open unsupported on this kernel");
  CHECK(p->next_deadline() == start + 10s);

  int ep = epoll_create1(EPOLL_CLOEXEC);
  REQUIRE(ep >= 0);
  int out_fd = p->output_fd(), pid_fd = p->pid_fd();
  struct epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = out_fd;
  REQUIRE(epoll_ctl(ep, EPOLL_CTL_ADD, out_fd, &ev) == 0);
  ev.data.fd = pid_fd;
  REQUIRE(epoll_ctl(ep, EPOLL_CTL_ADD, pid_fd, &ev) == 0);

  std::optional<AgentOutcome> o;
  bool saw_eof_before_exit = false;
  int wakeups = 0;
  while (!(o = p->poll(clock.now()))) {
    Duration wait = p->next_deadline() - clock.now();
    int ms = int(std::clamp<int64_t>(std::chrono::duration_cast<Millis>(wait).count() + 1, 0, 60000));
    struct epoll_event got[2];
    int n = epoll_wait(ep, got, 2, ms);
    REQUIRE(n >= 0);
    ++wakeups;
    for (int i = 0; i < n; ++i) {
      if (got[i].data.fd != out_fd) continue;
      p->on_output_ready();
      if (p->output_fd() == -1) {  // EOF: closed at once, so it left the epoll set (no spin below)
        errno = 0;
        CHECK(fcntl(out_fd, F_GETFD) == -1);
        CHECK(errno == EBADF);
        saw_eof_before_exit = p->pid_fd() >= 0;
      }
    }
  }
  // Reaped: the pidfd is closed too, before the AgentProcess goes (svcmgr's history-log thread may open
  // a file under that number at once; a caller's late EPOLL_CTL_DEL of it would touch that file).
  errno = 0;
  CHECK(fcntl(pid_fd, F_GETFD) == -1);
  CHECK(errno == EBADF);
  struct epoll_event none[2];
  CHECK(epoll_wait(ep, none, 2, 0) == 0);  // nothing left registered
  close(ep);
  CHECK(saw_eof_before_exit);
  CHECK(wakeups < 10);  // woken by events, not by polling
  CHECK(o->exit_code == 4);
  CHECK(o->output_tail == "a\n");
  CHECK(o->elapsed >= 300ms);
  CHECK(o->elapsed < 500ms);
  CHECK(p->output_fd() == -1);
  CHECK(p->pid_fd() == -1);
}

TEST_CASE("a command past its timeout is SIGTERMed, one ignoring SIGTERM is SIGKILLed (root)") {
  SUBCASE("dies of SIGTERM") {
    AgentCommand c = command({"/bin/sleep", "30"}, 200ms);
    c.kill_grace = 300ms;
    AgentOutcome o = run(c);
    CHECK(o.timed_out);
    CHECK(o.exit_code == -1);
    CHECK(o.signal == SIGTERM);
    CHECK(o.elapsed >= 200ms);
    CHECK(o.elapsed < 200ms + 100ms);
    Classified cl = classify(AgentKind::ocf, AgentAction::start, o);
    CHECK(cl.severity == Severity::soft);
    CHECK(cl.text == "timed out after 200ms (terminated by SIGTERM)");
    std::printf("[castor] agent timeout: SIGTERM at the 200ms deadline, outcome after %s\n",
                format_duration(o.elapsed).c_str());
  }
  SUBCASE("ignores SIGTERM, with a child that ignores it too") {
    AgentCommand c = command({"/bin/sh", "-c", "trap '' TERM; sleep 30 & echo started; wait"}, 200ms);
    c.kill_grace = 300ms;
    BootClock clock;
    auto spawned = AgentProcess::spawn(c, clock.now());
    REQUIRE_MESSAGE(spawned.ok(), spawned.status().to_string());
    std::unique_ptr<AgentProcess> p = std::move(spawned).value();
    pid_t pgid = p->pgid();
    CHECK(pgid == p->pid());
    CHECK(getpgid(p->pid()) == pgid);
    std::optional<AgentOutcome> o;
    while (!(o = p->poll(clock.now()))) {
      if (p->output_fd() >= 0) p->on_output_ready();
      std::this_thread::sleep_for(2ms);  // a crude loop: the fds are exercised by run_agent elsewhere
    }
    CHECK(o->timed_out);
    CHECK(o->signal == SIGKILL);
    CHECK(o->elapsed >= 500ms);
    CHECK(o->elapsed < 200ms + 300ms + 100ms);
    CHECK(o->output_tail == "started\n");
    CHECK(classify(AgentKind::ocf, AgentAction::stop, *o).text ==
          "timed out after 200ms (killed by SIGKILL: it outlived SIGTERM): started");
    CHECK(no_live_members(pgid));
    CHECK(group_gone(pgid));
    CHECK_FALSE(p->poll(clock.now()).has_value());  // delivered once
    CHECK(p->next_deadline() == TimePoint::max());
    std::printf("[castor] agent timeout: SIGTERM ignored, SIGKILL after 300ms grace, outcome after %s "
                "(deadline + grace = 500ms)\n",
                format_duration(o->elapsed).c_str());
  }
}

TEST_CASE("the hard limit ends an agent whose caller's loop does not run (root)") {
  // A fence agent of a quorumd that froze: nobody polls it, so the timeout's SIGTERM never comes. The alarm
  // armed before execve ends it anyway (the stale bound of a fence intent counts on it).
  AgentCommand c = command({"/bin/sleep", "30"}, std::chrono::seconds(20));
  c.hard_limit = 700ms;  // rounded up: 1 s
  BootClock clock;
  const TimePoint start = clock.now();
  auto spawned = AgentProcess::spawn(c, start);
  REQUIRE_MESSAGE(spawned.ok(), spawned.status().to_string());
  std::unique_ptr<AgentProcess> p = std::move(spawned).value();
  std::this_thread::sleep_for(1500ms);
  std::optional<AgentOutcome> o;
  for (int i = 0; i < 100 && !(o = p->poll(start)); ++i) {  // "now" frozen at the start: no timeout of ours
    if (p->output_fd() >= 0) p->on_output_ready();
    std::this_thread::sleep_for(10ms);
  }
  REQUIRE(o);
  CHECK(!o->timed_out);
  CHECK(o->signal == SIGALRM);
}

TEST_CASE("background children: killed with the group on a timeout, left alone on a normal exit (root)") {
  SUBCASE("timeout: the backgrounded grandchild dies with the agent") {
    // The grandchild ignores SIGTERM: the agent dies at once, the runner waits for the group, then SIGKILLs.
    AgentCommand c = command({"/bin/sh", "-c", "(trap '' TERM; exec sleep 60) & sleep 30"}, 200ms);
    c.kill_grace = 300ms;
    AgentOutcome o = run(c);
    CHECK(o.timed_out);
    CHECK(o.signal == SIGTERM);  // the shell itself died of SIGTERM ...
    CHECK(o.elapsed >= 500ms);   // ... but the outcome waited for the SIGKILL of the straggler
    CHECK(o.elapsed < 600ms);
  }
  SUBCASE("timeout: a grandchild that obeys SIGTERM ends the wait early") {
    AgentCommand c = command({"/bin/sh", "-c", "sleep 60 & sleep 30"}, 200ms);
    c.kill_grace = 2s;
    BootClock clock;
    auto spawned = AgentProcess::spawn(c, clock.now());
    REQUIRE(spawned.ok());
    std::unique_ptr<AgentProcess> p = std::move(spawned).value();
    pid_t pgid = p->pgid();
    std::optional<AgentOutcome> o;
    while (!(o = p->poll(clock.now()))) std::this_thread::sleep_for(2ms);
    CHECK(o->timed_out);
    CHECK(o->elapsed < 500ms);
    CHECK(no_live_members(pgid));
    CHECK(group_gone(pgid));
  }
  SUBCASE("normal exit: what the agent leaves running stays (it is the service's)") {
    AgentCommand c = command({"/bin/sh", "-c", "sleep 60 >/dev/null 2>&1 & echo spawned; exit 0"}, 5s);
    BootClock clock;
    auto spawned = AgentProcess::spawn(c, clock.now());
    REQUIRE(spawned.ok());
    std::unique_ptr<AgentProcess> p = std::move(spawned).value();
    pid_t pgid = p->pgid();
    std::optional<AgentOutcome> o;
    while (!(o = p->poll(clock.now()))) std::this_thread::sleep_for(2ms);
    CHECK_FALSE(o->timed_out);
    CHECK(o->exit_code == 0);
    CHECK(o->output_tail == "spawned\n");
    p.reset();  // destroying a finished AgentProcess leaves the group alone too
    CHECK(live_members(pgid) == 1);
    // The test started it: the test ends it.
    CHECK(kill(-pgid, SIGKILL) == 0);
    CHECK(group_gone(pgid));
  }
  SUBCASE("normal exit: a background child holding the output pipe does not delay the outcome") {
    BootClock clock;
    auto spawned = AgentProcess::spawn(command({"/bin/sh", "-c", "sleep 60 & exit 0"}), clock.now());
    REQUIRE(spawned.ok());
    std::unique_ptr<AgentProcess> p = std::move(spawned).value();
    pid_t pgid = p->pgid();
    std::optional<AgentOutcome> r;
    TimePoint start = clock.now();
    while (!(r = p->poll(clock.now()))) std::this_thread::sleep_for(2ms);
    CHECK(r->exit_code == 0);
    CHECK(clock.now() - start < 2s);
    CHECK(p->output_fd() == -1);
    CHECK(kill(-pgid, SIGKILL) == 0);
    CHECK(group_gone(pgid));
  }
}

TEST_CASE("destroying an unfinished AgentProcess kills its group and reaps the child (root)") {
  BootClock clock;
  auto spawned = AgentProcess::spawn(command({"/bin/sh", "-c", "sleep 60 & sleep 60"}), clock.now());
  REQUIRE(spawned.ok());
  pid_t pid = (*spawned)->pid();
  std::this_thread::sleep_for(50ms);  // let the shell start its children
  CHECK(live_members(pid) >= 2);
  spawned->reset();
  CHECK(group_gone(pid));
  // Reaped: no zombie of ours left (waitpid has nothing to collect).
  CHECK(waitpid(pid, nullptr, WNOHANG) == -1);
  CHECK(errno == ECHILD);
}

TEST_CASE("commands that cannot start are a Status from spawn, not an exit code (root)") {
  BootClock clock;
  auto missing = AgentProcess::spawn(command({"/nonexistent/agent", "start"}), clock.now());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == Code::not_found);
  CHECK(missing.status().message() == "exec /nonexistent/agent: No such file or directory");

  ScratchDir dir;
  std::string noexec = dir.file("noexec");
  { std::ofstream(noexec) << "#!/bin/sh\nexit 0\n"; }
  chmod(noexec.c_str(), 0644);
  auto denied = AgentProcess::spawn(command({noexec}), clock.now());
  REQUIRE_FALSE(denied.ok());
  CHECK(denied.status().code() == Code::permission_denied);
  CHECK(denied.status().message() == "exec " + noexec + ": Permission denied");

  AgentCommand bad_cwd = command({"/bin/true"});
  bad_cwd.cwd = "/nonexistent-dir";
  auto cwd = AgentProcess::spawn(bad_cwd, clock.now());
  REQUIRE_FALSE(cwd.ok());
  CHECK(cwd.status().message() == "starting /bin/true: chdir /nonexistent-dir: No such file or directory");

  CHECK(AgentProcess::spawn(command({"true"}), clock.now()).status().code() == Code::invalid_argument);
  CHECK(AgentProcess::spawn(command({}), clock.now()).status().code() == Code::invalid_argument);
  CHECK(AgentProcess::spawn(command({"/bin/true"}, 0s), clock.now()).status().code() == Code::invalid_argument);
  AgentCommand bad_env = command({"/bin/true"});
  bad_env.env.push_back("NOEQUALS");
  CHECK(AgentProcess::spawn(bad_env, clock.now()).status().code() == Code::invalid_argument);
}

TEST_CASE("the child gets exactly the environment, /dev/null stdin, default signals, no leaked fds (root)") {
  AgentCommand env_only = command({"/usr/bin/env"});
  env_only.env = {"A=1", "B=two words"};
  CHECK(run(env_only).output_tail == "A=1\nB=two words\n");

  // stdin is /dev/null: cat ends at once.
  AgentOutcome cat = run(command({"/bin/cat"}, 2s));
  CHECK_FALSE(cat.timed_out);
  CHECK(cat.exit_code == 0);

  // Ignored and blocked signals of the manager do not reach the agent.
  struct sigaction ign{}, old_action{};
  ign.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ign, &old_action);
  sigset_t usr1, old_mask;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &usr1, &old_mask);
  AgentOutcome sig = run(command({"/bin/grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"}));
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  sigaction(SIGPIPE, &old_action, nullptr);
  CHECK(sig.output_tail == "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");

  // A descriptor the manager holds without O_CLOEXEC is not inherited; the working directory is cwd.
  int leaked = dup(STDERR_FILENO);
  REQUIRE(leaked >= 3);
  AgentCommand fds = command({"/bin/sh", "-c", "ls /proc/$$/fd; pwd"});
  fds.cwd = "/tmp";
  AgentOutcome o = run(fds);
  close(leaked);
  CHECK(o.exit_code == 0);
  CHECK(o.output_tail.find("\n" + std::to_string(leaked) + "\n") == std::string::npos);
  CHECK(o.output_tail.rfind("0\n1\n2\n", 0) == 0);
  CHECK(o.output_tail.find("/tmp\n") != std::string::npos);

  // The agent leads its own process group.
  AgentOutcome pg = run(command({"/bin/sh", "-c", "ps -o pid=,pgid= -p $$"}));
  int pid = 0, pgid = 0;
  CHECK(std::sscanf(pg.output_tail.c_str(), "%d %d", &pid, &pgid) == 2);
  CHECK(pid == pgid);
  CHECK(pgid != getpgrp());
}

TEST_CASE("output: the tail keeps the last 4 KiB, the exit reason is found anywhere (root)") {
  AgentOutcome o = run(command(
      {"/bin/sh", "-c", "echo ocf-exit-reason:early >&2; i=0; while [ $i -lt 2000 ]; do echo line $i; i=$((i+1)); done; "
                        "printf 'no newline at the end'; exit 1"}));
  CHECK(o.exit_code == 1);
  CHECK(o.exit_reason == "early");
  CHECK(o.output_tail.size() == AgentProcess::kTailBytes);
  CHECK(o.output_tail.find("line 1999\nno newline at the end") != std::string::npos);
  CHECK(classify(AgentKind::ocf, AgentAction::start, o).text == "OCF_ERR_GENERIC (1): early");
}

TEST_CASE("ocf-exit-reason from a script on stderr (root)") {
  ScratchDir dir;
  std::string agent = write_script(dir, "agent", "#!/bin/sh\necho 'doing things'\necho 'ocf-exit-reason:disk full' >&2\nexit 1\n");
  AgentOutcome o = run(command({agent, "start"}));
  CHECK(o.exit_code == 1);
  CHECK(o.exit_reason == "disk full");
  Classified c = classify(AgentKind::ocf, AgentAction::start, o);
  CHECK(c.severity == Severity::soft);
  CHECK(c.text == "OCF_ERR_GENERIC (1): disk full");

  // The same through ocf_exit_reason from ocf-shellfuncs, when resource-agents is there.
  if (access("/usr/lib/ocf/lib/heartbeat/ocf-shellfuncs", R_OK) == 0) {
    std::string real = write_script(dir, "real",
                                    "#!/bin/sh\n. ${OCF_ROOT}/lib/heartbeat/ocf-shellfuncs\n"
                                    "ocf_exit_reason \"volume %s is missing\" vg0\nexit $OCF_ERR_CONFIGURED\n");
    AgentCommand rc = command({real, "start"});
    rc.env.push_back("OCF_ROOT=/usr/lib/ocf");
    AgentOutcome r = run(rc);
    CHECK(r.exit_code == 6);
    CHECK(r.exit_reason == "volume vg0 is missing");
    CHECK(classify(AgentKind::ocf, AgentAction::start, r).severity == Severity::fatal);
    CHECK(classify(AgentKind::ocf, AgentAction::start, r).text == "OCF_ERR_CONFIGURED (6): volume vg0 is missing");
  }
}

TEST_CASE("the real OCF Dummy agent: meta-data, validate, monitor, start, stop (root)") {
  REQUIRE_MESSAGE(access(kDummy, X_OK) == 0, "resource-agents is not installed (apt-get install resource-agents)");
  ScratchDir dir;
  auto dummy = [&](const std::string& action, bool with_ocf_root = true) {
    AgentCommand c = command({kDummy, action}, 20s);
    if (with_ocf_root) c.env.push_back("OCF_ROOT=/usr/lib/ocf");
    c.env.push_back("OCF_RESKEY_state=" + dir.file("d1.state"));
    c.env.push_back("OCF_RESOURCE_INSTANCE=d1");
    c.env.push_back("OCF_RESKEY_CRM_meta_timeout=20000");
    c.env.push_back("OCF_RESKEY_CRM_meta_interval=0");
    return run(c);
  };
  AgentOutcome md = dummy("meta-data");
  CHECK(md.exit_code == 0);
  CHECK(md.output_tail.find("</resource-agent>") != std::string::npos);
  CHECK(classify(AgentKind::ocf, AgentAction::meta_data, md).text == "OCF_SUCCESS (0)");
  CHECK(dummy("validate-all").exit_code == 0);

  AgentOutcome probe = dummy("monitor");
  CHECK(probe.exit_code == 7);
  CHECK(classify(AgentKind::ocf, AgentAction::probe, probe).severity == Severity::not_running);
  CHECK(dummy("start").exit_code == 0);
  CHECK(dummy("start").exit_code == 0);  // idempotent
  AgentOutcome mon = dummy("monitor");
  CHECK(mon.exit_code == 0);
  CHECK(classify(AgentKind::ocf, AgentAction::monitor, mon).severity == Severity::ok);
  CHECK(dummy("stop").exit_code == 0);
  CHECK(dummy("stop").exit_code == 0);  // idempotent
  CHECK(dummy("monitor").exit_code == 7);

  // Without OCF_ROOT the agent cannot source ocf-shellfuncs: dash's `.` fails and the shell exits 2, which
  // reads as OCF_ERR_ARGS (hard). The caller must always set OCF_ROOT.
  AgentOutcome no_root = dummy("monitor", false);
  CHECK(no_root.exit_code == 2);
  CHECK(no_root.output_tail.find("ocf-shellfuncs") != std::string::npos);
  CHECK(classify(AgentKind::ocf, AgentAction::monitor, no_root).severity == Severity::hard);
}

TEST_CASE("while a timed-out agent's group drains, /proc is scanned at a backing-off rate, not at every poll (root)") {
  // The shell dies of SIGTERM; a member of its group ignores it: the outcome waits for the SIGKILL after
  // kill_grace. An event loop calls poll() at every pass (here every millisecond): before, each call
  // scanned /proc (about 1500 scans in this test); now kill(-pgid, 0) answers at each call and /proc is
  // scanned from every 20 ms backing off to every 250 ms.
  AgentCommand c = command({"/bin/sh", "-c", "(trap '' TERM; sleep 30) & sleep 30"}, 100ms);
  c.kill_grace = 1500ms;
  BootClock clock;
  auto spawned = AgentProcess::spawn(c, clock.now());
  REQUIRE_MESSAGE(spawned.ok(), spawned.status().to_string());
  std::unique_ptr<AgentProcess> p = std::move(spawned).value();
  const pid_t pgid = p->pgid();
  const uint64_t before = group_scans();
  std::optional<AgentOutcome> o;
  int polls = 0;
  while (!(o = p->poll(clock.now()))) {
    if (p->output_fd() >= 0) p->on_output_ready();
    ++polls;
    std::this_thread::sleep_for(1ms);
  }
  const uint64_t scans = group_scans() - before;
  CHECK(o->timed_out);
  CHECK(o->signal == SIGTERM);  // the shell; the straggler got the SIGKILL
  CHECK(o->elapsed >= 1600ms);
  CHECK(polls > 500);
  CHECK_MESSAGE(scans < 30, scans << " /proc scans in " << polls << " polls");
  CHECK(group_gone(pgid));
}

// The review's finding: a child forked for an agent held copies of every descriptor of the manager until
// it closed them, after its cgroup write; if that write stalls (a frozen cgroup) past spawn's exec wait,
// a descriptor the manager closes meanwhile stays open in the child -- and, for an epoll set, registered
// and readable: the manager's loop spins. The child now closes them before the write.
TEST_CASE("a child held in its cgroup write (frozen cgroup) holds none of the manager's descriptors (root)") {
  auto v = detect_cgroup_version();
  REQUIRE(v.ok());
  castor::testing::TestCgroupParent parent;
  const std::string dir = *v == CgroupVersion::v1 ? parent.root + "/freezer/" + parent.name : parent.root + "/" + parent.name;
  REQUIRE(mkdir(dir.c_str(), 0755) == 0);
  auto put = [](const std::string& file, const std::string& text) {
    std::ofstream f(file);
    f << text;
    f.flush();
    return bool(f);
  };
  const std::string freeze_file = dir + (*v == CgroupVersion::v1 ? "/freezer.state" : "/cgroup.freeze");
  const std::string frozen = *v == CgroupVersion::v1 ? "FROZEN" : "1", thawed = *v == CgroupVersion::v1 ? "THAWED" : "0";
  REQUIRE(put(freeze_file, frozen));

  int manager_pipe[2];
  REQUIRE(pipe2(manager_pipe, O_CLOEXEC) == 0);
  char link[64] = {};
  REQUIRE(readlink(("/proc/self/fd/" + std::to_string(manager_pipe[0])).c_str(), link, sizeof link - 1) > 0);
  const std::string pipe_name = link;  // "pipe:[inode]"

  AgentCommand c = command({"/bin/true"}, 10s);
  c.join_cgroups = {dir + "/cgroup.procs"};
  BootClock clock;
  auto spawned = AgentProcess::spawn(c, clock.now());  // returns after its exec wait: the child is frozen
  REQUIRE_MESSAGE(spawned.ok(), spawned.status().to_string());
  std::unique_ptr<AgentProcess> p = std::move(spawned).value();

  std::vector<std::string> child_fds;
  const std::string fd_dir = "/proc/" + std::to_string(p->pid()) + "/fd";
  if (DIR* d = opendir(fd_dir.c_str())) {
    while (struct dirent* e = readdir(d)) {
      if (e->d_name[0] == '.') continue;
      char target[256] = {};
      if (readlink((fd_dir + "/" + e->d_name).c_str(), target, sizeof target - 1) > 0) child_fds.push_back(target);
    }
    closedir(d);
  }
  close(manager_pipe[0]);
  close(manager_pipe[1]);
  CHECK(child_fds.size() >= 3);  // the child is there, stopped before its exec (stdio set up)
  CHECK(std::count(child_fds.begin(), child_fds.end(), pipe_name) == 0);

  REQUIRE(put(freeze_file, thawed));
  std::optional<AgentOutcome> o;
  const TimePoint until = clock.now() + 10s;
  while (!(o = p->poll(clock.now())) && clock.now() < until) std::this_thread::sleep_for(10ms);
  REQUIRE(o.has_value());
  CHECK(o->exit_code == 0);
}
