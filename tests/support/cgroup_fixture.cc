#include "tests/support/cgroup_fixture.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace castor::testing {
namespace {

std::string unique_parent_name() {
  static std::atomic<int> counter{0};
  return "castor-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

// In a forked child: join the cgroup (fd open on its cgroup.procs). Only async-signal-safe calls.
void join_or_exit(int fd) {
  if (fd < 0 || ::write(fd, "0", 1) != 1) ::_exit(1);
  ::close(fd);
}

[[noreturn]] void sleep_forever() {
  for (;;) ::pause();
}

}  // namespace

TestCgroupParent::TestCgroupParent(std::string cgroup_root) : root(std::move(cgroup_root)), name(unique_parent_name()) {}

TestCgroupParent::~TestCgroupParent() {
  Result<size_t> killed = kill_cgroup_tree(name, root);
  Status removed = Status::Ok();
  for (int i = 0; i < 200; ++i) {
    removed = remove_cgroup_tree(name, root);
    if (removed.ok()) return;
    ::usleep(10000);
  }
  std::fprintf(stderr, "test cgroup parent %s/%s left behind: %s (kill: %s)\n", root.c_str(), name.c_str(),
               removed.to_string().c_str(), killed.ok() ? "ok" : killed.status().to_string().c_str());
}

ChildProcesses::~ChildProcesses() {
  for (pid_t p : pids_) {
    ::kill(p, SIGKILL);
    ::waitpid(p, nullptr, WNOHANG);  // ours: reaped if it is already gone; grandchildren go to init
  }
  for (pid_t p : pids_) (void)wait_process_gone(p, std::chrono::seconds(2));
  for (pid_t p : pids_) ::waitpid(p, nullptr, WNOHANG);
}

pid_t ChildProcesses::add(pid_t p) {
  if (p > 1) pids_.push_back(p);
  return p;
}

pid_t spawn_setsid_in(const std::string& procs) {
  int fd = ::open(procs.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  pid_t p = ::fork();
  if (p == 0) {
    join_or_exit(fd);
    ::setsid();
    sleep_forever();
  }
  ::close(fd);
  return p;
}

pid_t spawn_double_forked_in(const std::string& procs) {
  int fd = ::open(procs.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    ::close(fd);
    return -1;
  }
  pid_t middle = ::fork();
  if (middle == 0) {
    join_or_exit(fd);
    ::close(pipe_fds[0]);
    pid_t grandchild = ::fork();
    if (grandchild == 0) sleep_forever();
    if (grandchild < 0 || ::write(pipe_fds[1], &grandchild, sizeof grandchild) != ssize_t(sizeof grandchild)) ::_exit(1);
    ::_exit(0);  // the grandchild is orphaned, as a daemon's double fork leaves it
  }
  ::close(fd);
  ::close(pipe_fds[1]);
  pid_t grandchild = -1;
  if (middle > 0) {
    if (::read(pipe_fds[0], &grandchild, sizeof grandchild) != ssize_t(sizeof grandchild)) grandchild = -1;
    ::waitpid(middle, nullptr, 0);
  }
  ::close(pipe_fds[0]);
  return grandchild;
}

std::string escaping_shell_line(const std::string& pids_file) {
  return "( (sleep 1000 >/dev/null 2>&1 & echo $! >>" + pids_file +
         ") & ); setsid sleep 1000 >/dev/null 2>&1 & echo $! >>" + pids_file + "; sleep 0.2";
}

AgentCommand escaping_agent(const std::vector<std::string>& join_cgroups, const std::string& pids_file) {
  AgentCommand c;
  c.argv = {"/bin/sh", "-c", escaping_shell_line(pids_file)};
  c.env = {"PATH=/usr/bin:/bin"};
  c.timeout = std::chrono::seconds(5);
  c.join_cgroups = join_cgroups;
  return c;
}

std::vector<pid_t> read_pid_file(const std::string& path) {
  std::vector<pid_t> out;
  std::ifstream f(path);
  pid_t p;
  while (f >> p) out.push_back(p);
  return out;
}

pid_t spawn_sleeper() {
  pid_t p = ::fork();
  if (p == 0) sleep_forever();
  return p;
}

bool process_alive(pid_t p) {
  if (p <= 0 || ::kill(p, 0) != 0) return false;
  std::ifstream f("/proc/" + std::to_string(p) + "/stat");
  std::stringstream s;
  s << f.rdbuf();
  const std::string st = s.str();
  const size_t paren = st.rfind(')');  // "PID (COMM) STATE ..."
  return paren != std::string::npos && paren + 2 < st.size() && st[paren + 2] != 'Z';
}

bool wait_until(const std::function<bool()>& cond, Duration limit) {
  BootClock clock;
  const TimePoint until = clock.now() + limit;
  while (clock.now() < until) {
    if (cond()) return true;
    ::usleep(10000);
  }
  return cond();
}

bool wait_process_gone(pid_t p, Duration limit) {
  return wait_until([p] { return !process_alive(p); }, limit);
}

}  // namespace castor::testing
