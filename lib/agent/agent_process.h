// AgentProcess: one running agent action (an OCF agent, an init script, a command line) in its own
// process group, with a deadline, driven without blocking from an event loop; run_agent() is the blocking
// form for tools and tests. It reports how the action ended (AgentOutcome, agent_result.h); what that means
// for the resource is classify()'s business.
// Must never block the event loop (spawn waits only for the exec itself, bounded by kExecWait), never run
// a shell or search PATH on its own, never leave a zombie of its own child, and never signal a process it
// did not start: it signals only its child and the child's process group, whose id stays reserved while
// the (unreaped) child or any member of the group exists.
//
// Lifetime of the process group:
//  * Timeout: at the deadline SIGTERM goes to the group (and to the child, in case it left the group);
//    if the child is not reaped or the group is not empty kill_grace later, SIGKILL. The outcome comes once
//    the child is reaped and the group is empty or was SIGKILLed. Processes that left the group (setsid,
//    setpgid) are out of reach here: the service's cgroup (AgentCommand::join_cgroups, ServiceCgroup) is what
//    holds them.
//  * Normal exit (any exit code, any action): the group is NOT touched. A start legitimately leaves its
//    daemons behind in the group (pgid() tells which): they belong to the service, and the caller that
//    tracks the service's process groups stops or kills them (after a failed start: run stop). The
//    output pipe is closed once the child is reaped, so anything left behind that still writes to its
//    inherited stdout/stderr gets EPIPE/SIGPIPE: agents (and exec start commands) must redirect the
//    output of what they leave running (start-stop-daemon does; `exec >/dev/null 2>&1` in a command line).
//  * Destroyed before the outcome was delivered: if the child is still running the group is SIGKILLed
//    and the child reaped (blocking, only as long as the kernel takes to kill it).
// The child is reaped with waitpid(pid): the process must not set SIGCHLD to SIG_IGN nor reap with
// waitpid(-1) elsewhere (if it does, the exit status is lost and reported as unknown).
// A child stuck in uninterruptible sleep (D state, e.g. on a dead NFS server) survives SIGKILL: then no
// outcome comes until the kernel lets it die. That is a fact of Linux, not something a runner can fix.
// Not thread-safe: one event loop owns an AgentProcess.
#pragma once

#include <sys/types.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "common/unique_fd.h"
#include "agent/agent_result.h"

namespace castor {

struct AgentCommand {
  // argv[0] is an absolute path, executed as is: no PATH search, no shell (a caller that wants a shell
  // passes {"/bin/sh", "-c", LINE}).
  std::vector<std::string> argv;
  // The complete environment, "K=V" each; nothing is inherited. The caller builds it: PATH, OCF_ROOT
  // (without it an OCF agent cannot source ocf-shellfuncs and exits 2), OCF_RESKEY_*,
  // OCF_RESOURCE_INSTANCE, OCF_RESKEY_CRM_meta_timeout / _interval (ms), CASTOR_*.
  std::vector<std::string> env;
  Duration timeout{0};  // > 0; agents do not enforce their own timeouts, this is the only one
  Duration kill_grace = std::chrono::seconds(5);  // between SIGTERM (at the timeout) and SIGKILL
  // > 0: a bound that holds even when the caller's loop does not run (a quorumd frozen while its fence agent
  // powers the peer off): the child arms alarm(2) for this long, rounded up to whole seconds, before execve
  // (an alarm survives it; SIGALRM's default action ends the agent). Its own children are not covered.
  Duration hard_limit{0};
  std::string cwd = "/";                          // absolute
  // cgroup.procs files (ServiceCgroup::procs_files()) the child joins before it execs, by writing "0" to
  // each once it has closed every descriptor of the manager (the write can block: a frozen cgroup) and
  // before anything of it forks: what the agent forks, setsid or not, stays in the service's cgroup. A
  // file that cannot be opened or written fails the spawn. At most kMaxJoinCgroups.
  std::vector<std::string> join_cgroups;
  // What the child reads on stdin (fence agents take their options there, one key=value a line, so that a
  // password never shows in the process list); empty: stdin is /dev/null. Written into the pipe before
  // the fork, so it is at most kMaxStdinBytes (less than a pipe holds: the write never blocks).
  std::string stdin_data;
  // How much of the output's end AgentOutcome::output_tail keeps (a metadata document needs all of it).
  size_t keep_output_bytes = 4096;
  // >= 0: the child's stdout is this descriptor (the caller's, e.g. the write end of a pipe it reads; it
  // stays the caller's to close), and only its stderr goes into the output pipe (output_tail). -1: both
  // into the output pipe (agents). run_capturing() sets it.
  int stdout_fd = -1;
};
inline constexpr size_t kMaxKeepOutputBytes = 1 << 20;
inline constexpr size_t kMaxJoinCgroups = 8;
inline constexpr size_t kMaxStdinBytes = 16384;

class AgentProcess {
 public:
  static constexpr size_t kTailBytes = 4096;  // AgentOutcome::output_tail keeps this much by default
  // The longest spawn() waits for the exec (it takes microseconds; a hung file system, or a cgroup frozen
  // by a fence, can hold it for as long as they last: the caller's event loop must not wait with it).
  static constexpr Duration kExecWait = std::chrono::milliseconds(250);

  // Starts the command: joins command.join_cgroups, own process group, signal mask and dispositions reset to default, stdin from
  // /dev/null (or command.stdin_data), stdout and stderr into one pipe, every other descriptor closed, chdir(cwd), execve.
  // A command that cannot start (bad argv, missing or non-executable program, bad cwd) is an error
  // Status here ("exec /usr/lib/x: No such file or directory"), never an exit code. `now` starts the
  // timeout. Waits for the exec to happen (microseconds) but never longer than kExecWait (nor the
  // timeout); if the exec is not done by then (a hung filesystem, a frozen cgroup), the process is
  // returned anyway and simply times out (an exec that fails that late is its exit code 127, not a Status).
  static Result<std::unique_ptr<AgentProcess>> spawn(const AgentCommand& command, TimePoint now);

  ~AgentProcess();
  AgentProcess(const AgentProcess&) = delete;
  AgentProcess& operator=(const AgentProcess&) = delete;

  // Descriptors to wait on (poll/epoll, level-triggered, for readability). Either may turn -1: the output
  // at EOF (or once the outcome is out), the pidfd once the child is reaped. A descriptor that turns -1 is
  // closed at that moment, which takes it out of an epoll set by itself (both are O_CLOEXEC: no child keeps
  // them past its exec). The caller must never pass the old number to epoll_ctl or anything else: another
  // thread may already have it for a file of its own. pid_fd() is -1 from the start where pidfd_open is
  // unavailable (Linux < 5.3): next_deadline() then asks for frequent polls instead.
  int output_fd() const;
  int pid_fd() const;

  // Reads what the pipe holds (non-blocking, bounded per call) into the tail buffer and the exit-reason
  // scanner.
  void on_output_ready();

  // Advances the state machine at `now`: reaps the child if it exited; at the deadline SIGTERMs the group;
  // kill_grace after that SIGKILLs it. Returns the outcome exactly once, when the child is reaped and
  // (it exited before the deadline, or the group is empty, or it was SIGKILLed); std::nullopt otherwise
  // and on every later call. An exit first seen at a poll after the deadline counts as a normal exit
  // (the work got done; only the event loop was late).
  std::optional<AgentOutcome> poll(TimePoint now);

  // When poll() must be called next even if no descriptor becomes readable; TimePoint::max() once done.
  TimePoint next_deadline() const;

  // Ends the command now as if its timeout had passed (SIGTERM to the group, SIGKILL kill_grace later):
  // the next poll() acts on it. For a caller that stops wanting it (run_capturing: output past its bound).
  void expire(TimePoint now) {
    if (phase_ == Phase::running) deadline_ = std::min(deadline_, now);
  }

  pid_t pid() const { return pid_; }
  pid_t pgid() const { return pid_; }  // the child leads its own group
  bool done() const { return phase_ == Phase::done; }

 private:
  enum class Phase { running, terminating, killing, done };

  AgentProcess(const AgentCommand& command, pid_t pid, UniqueFd output, UniqueFd pidfd, TimePoint now);

  void try_reap();
  bool group_empty() const;
  bool group_gone(TimePoint now);  // group_empty(), its /proc scan rate-limited (backing off)
  void signal_all(int sig);
  void feed(const char* data, size_t n);
  void end_line();
  AgentOutcome finish(TimePoint now);

  std::string name_;  // argv[0], for messages
  pid_t pid_;
  UniqueFd output_;
  UniqueFd pidfd_;
  bool output_eof_ = false;
  bool reaped_ = false;
  Phase phase_ = Phase::running;
  TimePoint start_;
  TimePoint deadline_;
  TimePoint kill_at_;
  TimePoint last_poll_;
  TimePoint next_scan_{};      // terminating: the next /proc scan of the group, not before
  Duration scan_every_{0};
  Duration timeout_;
  Duration kill_grace_;
  size_t keep_bytes_;
  bool timed_out_ = false;
  int exit_code_ = -1;
  int signal_ = 0;
  std::string tail_;
  std::string line_;  // the line being received (its first 4 KiB), for the exit-reason scan
  bool line_truncated_ = false;
  std::string exit_reason_;
};

// Blocking convenience for tools (castor check/validate) and tests: spawns, then ppoll()s the descriptors
// and calls poll() until the outcome is there. `clock` must be a real clock (BootClock): it is read, not
// advanced. An error Status only if the command could not start or ppoll failed (the child is then
// killed).
Result<AgentOutcome> run_agent(const AgentCommand& command, const Clock& clock);

// run_agent for a command whose stdout is its answer (castor history --peer: the peer's records over ssh):
// stdout kept whole apart from stderr (outcome.output_tail is the end of stderr alone), at most
// `max_stdout` bytes; a command that writes more is ended at once (expire: SIGTERM, then SIGKILL) and
// `overflow` set, its stdout then cut at the bound. command.stdout_fd must be -1 (this sets it).
struct CapturedRun {
  AgentOutcome outcome;
  std::string stdout_text;
  bool overflow = false;
};
Result<CapturedRun> run_capturing(AgentCommand command, const Clock& clock, size_t max_stdout);

}  // namespace castor
