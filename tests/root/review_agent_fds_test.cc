// The adversarial review of a33f836 (an agent's child closes the manager's descriptors before it joins the
// service's cgroup): its probes, kept as regression tests -- a manager with 0..2 closed, a failing second
// cgroup write, the close() loop of a kernel without close_range (seccomp) -- and the one defect it found,
// older than that change: an exec that fails after spawn's exec wait killed the child with SIGPIPE (its
// report written into a pipe nobody reads any more) instead of exit 127. v1 cgroups only (freezer, pids).
#include <doctest/doctest.h>

#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <functional>
#include <string>

#include "agent/agent_process.h"
#include "agent/service_cgroup.h"
#include "common/clock.h"
#include "tests/support/cgroup_fixture.h"
#include "tests/support/scratch.h"

using namespace castor;
using namespace std::chrono_literals;

namespace {

// Runs fn in a forked process; returns what it returned (through a pipe at fd 200).
std::string in_child(const std::function<std::string()>& fn) {
  int p[2];
  REQUIRE(pipe(p) == 0);
  REQUIRE(dup2(p[1], 200) == 200);
  close(p[1]);
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    std::string s = fn();
    (void)!write(200, s.data(), s.size());
    _exit(0);
  }
  close(200);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(p[0], buf, sizeof buf)) > 0) out.append(buf, size_t(n));
  close(p[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  return out;
}

AgentCommand cmd(std::vector<std::string> argv) {
  AgentCommand c;
  c.argv = std::move(argv);
  c.env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
  c.timeout = 10s;
  return c;
}

std::string result_text(const Result<AgentOutcome>& r) {
  if (!r.ok()) return "ERR " + r.status().to_string();
  return "exit=" + std::to_string(r->exit_code) + "\n" + r->output_tail;
}

// seccomp: close_range -> ENOSYS (a kernel < 5.9).
bool no_close_range() {
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 436 /* __NR_close_range */, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {sizeof f / sizeof f[0], f};
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}

// The shell's descriptors are listed by an ls that is no pipeline's member: while the shell sets a pipeline up
// it holds the pipe's two ends itself, and an ls reading /proc/$$/fd then (a loaded machine: make check) saw 3
// and 4 there. Not the script's last command either: dash would exec it, and ls would list its own.
const char* kShow = "cat /proc/self/cgroup | grep -E 'freezer|pids' | sed 's/castor-test-[0-9-]*//'; ls /proc/$$/fd; exit 0";

// The shell's descriptors in kShow's output (its lines that are numbers), as " 0 1 2 ".
std::string shell_fds(const std::string& out) {
  std::string fds = " ", line;
  for (size_t i = 0; i <= out.size(); ++i) {
    if (i == out.size() || out[i] == '\n') {
      if (!line.empty() && line.find_first_not_of("0123456789") == std::string::npos) fds += line + " ";
      line.clear();
    } else {
      line += out[i];
    }
  }
  return fds;
}

}  // namespace

TEST_CASE("agent child fds: manager with 0..2 closed, two cgroups to join (root)") {
  if (*detect_cgroup_version() != CgroupVersion::v1) {
    MESSAGE("cgroup v2: these probes use the v1 freezer and pids hierarchies");
    return;
  }
  castor::testing::TestCgroupParent parent;
  CgroupLimits lim;
  lim.tasks_max = 100;
  Result<ServiceCgroup> cg = ServiceCgroup::open(parent.name + "/svc", lim);
  REQUIRE_MESSAGE(cg.ok(), cg.status().to_string());
  REQUIRE(cg->procs_files().size() >= 2);
  std::string out = in_child([&] {
    close(0);
    close(1);
    close(2);
    AgentCommand c = cmd({"/bin/sh", "-c", kShow});
    c.join_cgroups = cg->procs_files();
    return result_text(run_agent(c, BootClock()));
  });
  MESSAGE(out);
  CHECK(out.find("exit=0") == 0);
  CHECK(shell_fds(out) == " 0 1 2 ");
  CHECK(out.find(":pids://svc") != std::string::npos);
  CHECK(out.find(":freezer://svc") != std::string::npos);

  // run_capturing with 0..2 closed: stdout_fd lands in 0..2.
  std::string cap = in_child([&] {
    close(0);
    close(1);
    close(2);
    AgentCommand c = cmd({"/bin/sh", "-c", "echo ERR >&2; " + std::string(kShow)});
    c.join_cgroups = cg->procs_files();
    Result<CapturedRun> r = run_capturing(c, BootClock(), 10000);
    if (!r.ok()) return "ERR " + r.status().to_string();
    return "exit=" + std::to_string(r->outcome.exit_code) + "\nstdout=" + r->stdout_text + "\nstderr=" + r->outcome.output_tail;
  });
  MESSAGE(cap);
  CHECK(cap.find("exit=0") == 0);
  CHECK(cap.find("stderr=ERR") != std::string::npos);
  CHECK(cap.find(":pids://svc") != std::string::npos);
}

TEST_CASE("agent child fds: a failing second cgroup write is reported with its file and errno (root)") {
  if (*detect_cgroup_version() != CgroupVersion::v1) {
    MESSAGE("cgroup v2: these probes use the v1 freezer and pids hierarchies");
    return;
  }
  castor::testing::TestCgroupParent parent;
  Result<ServiceCgroup> cg = ServiceCgroup::open(parent.name + "/svc", {});
  REQUIRE(cg.ok());
  for (bool closed_stdio : {false, true}) {
    std::string out = in_child([&] {
      if (closed_stdio) {
        close(0);
        close(1);
        close(2);
      }
      AgentCommand c = cmd({"/bin/true"});
      c.join_cgroups = {cg->membership_procs_file(), "/dev/full"};
      Result<std::unique_ptr<AgentProcess>> p = AgentProcess::spawn(c, BootClock().now());
      return p.ok() ? std::string("spawned") : p.status().to_string();
    });
    MESSAGE(out);
    CHECK(out.find("/dev/full") != std::string::npos);
    CHECK(out.find("No space left") != std::string::npos);
  }
}

TEST_CASE("agent child fds: close_range unavailable (seccomp ENOSYS): the close() loop keeps the pipe and cgroup files (root)") {
  if (*detect_cgroup_version() != CgroupVersion::v1) {
    MESSAGE("cgroup v2: these probes use the v1 freezer and pids hierarchies");
    return;
  }
  castor::testing::TestCgroupParent parent;
  CgroupLimits lim;
  lim.tasks_max = 100;
  Result<ServiceCgroup> cg = ServiceCgroup::open(parent.name + "/svc", lim);
  REQUIRE(cg.ok());
  std::string out = in_child([&] {
    if (!no_close_range()) return std::string("no seccomp");
    if (syscall(436, 3u, 3u, 0u) == 0 || errno != ENOSYS) return std::string("filter not effective");
    // descriptors the manager holds without O_CLOEXEC, around where the kept ones land
    for (int fd : {5, 9, 17, 300, 1000}) dup2(2, fd);
    AgentCommand c = cmd({"/bin/sh", "-c", kShow});
    c.join_cgroups = cg->procs_files();
    std::string a = result_text(run_agent(c, BootClock()));
    AgentCommand bad = cmd({"/nonexistent"});
    bad.join_cgroups = cg->procs_files();
    Result<std::unique_ptr<AgentProcess>> p = AgentProcess::spawn(bad, BootClock().now());
    return a + "\nbad: " + (p.ok() ? std::string("spawned") : p.status().to_string());
  });
  MESSAGE(out);
  CHECK(out.find("exit=0") == 0);
  CHECK(out.find(":pids://svc") != std::string::npos);
  CHECK(out.find(":freezer://svc") != std::string::npos);
  CHECK(shell_fds(out).find(" 5 ") == std::string::npos);
  CHECK(shell_fds(out).find(" 9 ") == std::string::npos);
  CHECK(shell_fds(out).find(" 17 ") == std::string::npos);
  CHECK(shell_fds(out).find(" 300 ") == std::string::npos);
  CHECK(shell_fds(out).find(" 1000 ") == std::string::npos);
  CHECK(out.find("exec /nonexistent") != std::string::npos);
}

TEST_CASE("agent child fds: an exec failing after spawn's exec wait is exit 127, as the header says (root)") {
  if (*detect_cgroup_version() != CgroupVersion::v1) {
    MESSAGE("cgroup v2: these probes use the v1 freezer and pids hierarchies");
    return;
  }
  castor::testing::TestCgroupParent parent;
  Result<ServiceCgroup> cg = ServiceCgroup::open(parent.name + "/svc", {});
  REQUIRE(cg.ok());
  const std::string state = cg->main_dir() + "/freezer.state";
  REQUIRE(castor::testing::run_command("echo FROZEN > " + state) == 0);
  AgentCommand c = cmd({"/nonexistent-agent"});
  c.join_cgroups = cg->procs_files();
  BootClock clock;
  Result<std::unique_ptr<AgentProcess>> p = AgentProcess::spawn(c, clock.now());
  REQUIRE(castor::testing::run_command("echo THAWED > " + state) == 0);
  REQUIRE_MESSAGE(p.ok(), p.status().to_string());
  std::optional<AgentOutcome> o;
  for (int i = 0; i < 500 && !o; ++i) {
    o = (*p)->poll(clock.now());
    if (!o) usleep(10000);
  }
  REQUIRE(o.has_value());
  CHECK_MESSAGE(o->exit_code == 127, "exit_code " << o->exit_code << " signal " << o->signal);
}
