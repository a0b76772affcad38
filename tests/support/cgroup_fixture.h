// Test support for root tests that put real processes in cgroups: a cgroup parent of the test's own
// (a unique name, killed and removed when the test ends, failed or not), processes that join a cgroup
// the way service daemons leave their agent (double fork, setsid), and polls for a process's end.
// Only processes in that parent, or started through these helpers, are ever signalled. Never used by
// production code.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "agent/agent_process.h"
#include "agent/service_cgroup.h"
#include "common/clock.h"

namespace castor::testing {

// "castor-test-<pid>-<n>" below `root` (every hierarchy of it on v1). The destructor kills whatever is
// still in it (kill_cgroup_tree) and removes the tree, retrying while the kernel reaps; it says on
// stderr if it could not.
struct TestCgroupParent {
  explicit TestCgroupParent(std::string cgroup_root = kCgroupRoot);
  ~TestCgroupParent();
  TestCgroupParent(const TestCgroupParent&) = delete;
  TestCgroupParent& operator=(const TestCgroupParent&) = delete;

  const std::string root;
  const std::string name;
};

// Processes started by a test, SIGKILLed (and reaped when they are our children) at destruction: what a
// failed check leaves behind does not outlive the test.
class ChildProcesses {
 public:
  ChildProcesses() = default;
  ~ChildProcesses();
  ChildProcesses(const ChildProcesses&) = delete;
  ChildProcesses& operator=(const ChildProcesses&) = delete;
  pid_t add(pid_t p);  // returns p; p <= 1 is not kept
 private:
  std::vector<pid_t> pids_;
};

// A child that joins the cgroup whose cgroup.procs is `procs`, then calls setsid and sleeps until
// killed (a daemon that left its agent's session). -1 if the fork failed; the child exits 1 if it
// could not join, before it sleeps.
pid_t spawn_setsid_in(const std::string& procs);
// A child that joins `procs` and double-forks: the middle process exits (reaped here), the grandchild,
// orphaned, sleeps until killed. Returns the grandchild's pid, -1 on failure.
pid_t spawn_double_forked_in(const std::string& procs);
// A /bin/sh line that leaves two sleeps behind the way daemons escape whoever started them: one
// double-forked (orphaned), one in a session of its own (setsid). It appends both pids to `pids_file`
// and exits 0 after 0.2 s.
std::string escaping_shell_line(const std::string& pids_file);
// An agent that runs escaping_shell_line() after joining the cgroups `join_cgroups` (5 s timeout).
AgentCommand escaping_agent(const std::vector<std::string>& join_cgroups, const std::string& pids_file);
// The pids in a file of numbers (what escaping_shell_line wrote); none if it cannot be read.
std::vector<pid_t> read_pid_file(const std::string& path);

// A child outside every Castor cgroup (it stays where the test runs) that sleeps until killed.
pid_t spawn_sleeper();

// Whether `p` exists and is not a zombie.
bool process_alive(pid_t p);
// Polls `cond` every 10 ms until it holds or `limit` has passed; returns its last value.
bool wait_until(const std::function<bool()>& cond, Duration limit = std::chrono::seconds(10));
// Polls until `p` is gone or a zombie.
bool wait_process_gone(pid_t p, Duration limit = std::chrono::seconds(5));

}  // namespace castor::testing
