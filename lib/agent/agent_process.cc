#include "agent/agent_process.h"

#include "agent/process_group_scan.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>

#include "common/errno_status.h"
#include "common/log.h"

namespace castor {
namespace {

constexpr size_t kLineScanBytes = 4096;         // of each output line, for the exit-reason prefix
constexpr size_t kReadBudget = 256 * 1024;      // per on_output_ready() call, so one chatty agent cannot
                                                // starve the event loop
constexpr size_t kFinalReadBudget = 1024 * 1024;  // when the child is gone: what is left in the pipe
constexpr Duration kNoPidfdPoll = std::chrono::milliseconds(20);   // waitpid polling without a pidfd
constexpr Duration kGroupPoll = std::chrono::milliseconds(20);     // group-empty polling: kill(-pgid, 0)
// The /proc scan (zombies only left?) backs off from kGroupPoll to this, however often poll() is called:
// before, every poll() while terminating scanned /proc, at every pass of the caller's event loop.
constexpr Duration kGroupScanMax = std::chrono::milliseconds(250);

// What the child reports through the error pipe when it cannot get to execve (or execve fails).
enum ChildStage : int { kStageCgroup = 1, kStageSetpgid, kStageFds, kStageSigmask, kStageChdir, kStageExec };
struct ChildReport {
  int stage;
  int err;
  int index;  // kStageCgroup: which of join_cgroups
};

// Everything the child needs, prepared before fork: after fork the child only makes async-signal-safe
// calls on this data (no allocation, no locks).
struct ChildSetup {
  char* const* argv;
  char* const* envp;
  const char* cwd;
  int devnull;
  int out_w;
  int stdout_fd;  // -1: stdout into out_w too
  int err_w;
  int max_fd;  // for the close() loop where close_range is unavailable
  const int* cgroup_fds;  // opened cgroup.procs files to write "0" to
  size_t n_cgroup_fds;
  unsigned alarm_s;       // AgentCommand::hard_limit in whole seconds (0: none)
};

[[noreturn]] void child_fail(int err_w, int stage, int index = 0) {
  ChildReport r{stage, errno, index};
  // Late (the parent gave up waiting for the exec and closed its end), the write would raise SIGPIPE, by
  // then unblocked and at its default: the child would die of it instead of exiting 127.
  sigset_t pipe_only;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  sigprocmask(SIG_BLOCK, &pipe_only, nullptr);
  ssize_t n = write(err_w, &r, sizeof r);  // 8 bytes into an empty pipe: atomic; nothing to do if it fails
  (void)n;
  _exit(127);
}

// Moves fd above 2 (keeping it close-on-exec) so that dup2 onto 0..2 cannot clobber it.
int above_stdio(int fd) {
  if (fd > 2) return fd;
  return fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

// Closes every descriptor from 3 up but those in keep[0..n) (each > 2). Async-signal-safe: no allocation.
// Where close_range is unavailable (kernel < 5.9) a close() loop up to max_fd does it.
void close_all_but(const int* keep, size_t n, int max_fd) {
  unsigned lo = 3;
  bool ranges_ok = true;
  for (;;) {
    int next = -1;  // the lowest kept descriptor >= lo
    for (size_t i = 0; i < n; ++i)
      if (keep[i] >= int(lo) && (next < 0 || keep[i] < next)) next = keep[i];
    if (next < 0) break;
    if (unsigned(next) > lo && close_range(lo, unsigned(next) - 1, 0) != 0) ranges_ok = false;
    lo = unsigned(next) + 1;
  }
  if (ranges_ok && close_range(lo, ~0U, 0) == 0) return;
  for (int fd = 3; fd < max_fd; ++fd) {  // kernel < 5.9
    bool kept = false;
    for (size_t i = 0; i < n; ++i) kept = kept || keep[i] == fd;
    if (!kept) close(fd);
  }
}

[[noreturn]] void child_exec(const ChildSetup& s) {
  int err_w = above_stdio(s.err_w);
  if (err_w < 0) _exit(127);  // cannot even report; the parent sees exit 127
  if (setpgid(0, 0) != 0) child_fail(err_w, kStageSetpgid);

  // Default dispositions: ignored signals would otherwise survive execve (an agent with SIGPIPE or
  // SIGTERM ignored misbehaves). Every signal is still blocked (the parent blocked all before fork), so
  // no handler inherited from the parent can run in the child meanwhile.
  struct sigaction dfl;
  std::memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    if (sigaction(sig, &dfl, nullptr) != 0) {
      // glibc refuses the signals it reserves (32, 33), but an ignored disposition for them inherited
      // from our own parent would still reach the agent: reset those with the raw system call.
      struct {
        void* handler;
        unsigned long flags;
        void* restorer;
        uint64_t mask;
      } kdfl{nullptr, 0, nullptr, 0};  // the kernel's struct sigaction; handler nullptr == SIG_DFL
      syscall(SYS_rt_sigaction, sig, &kdfl, nullptr, sizeof(uint64_t));
    }
  }

  // Keep: the error pipe and the cgroup files, moved above 0..2 before stdio is set up over those.
  int keep[kMaxJoinCgroups + 1];
  size_t n_keep = 0;
  keep[n_keep++] = err_w;
  for (size_t i = 0; i < s.n_cgroup_fds; ++i) {
    const int fd = above_stdio(s.cgroup_fds[i]);
    if (fd < 0) child_fail(err_w, kStageCgroup, int(i));
    keep[n_keep++] = fd;
  }
  int in = above_stdio(s.devnull);
  int out = above_stdio(s.out_w);
  int out1 = s.stdout_fd >= 0 ? above_stdio(s.stdout_fd) : out;
  if (in < 0 || out < 0 || out1 < 0) child_fail(err_w, kStageFds);
  if (dup2(in, 0) < 0 || dup2(out1, 1) < 0 || dup2(out, 2) < 0) child_fail(err_w, kStageFds);
  // Close everything else before the cgroup write, which can block (a frozen cgroup): a child that waits
  // there must hold none of the manager's descriptors, or one the manager closes meanwhile would stay
  // open, and stay in its epoll set, until the child gets to exec. The error pipe and the cgroup files are
  // close-on-exec: execve closes them, which tells the parent the exec happened.
  close_all_but(keep, n_keep, s.max_fd);

  // Into the service's cgroup: from here on nothing this process forks can be outside it.
  for (size_t i = 0; i < s.n_cgroup_fds; ++i) {
    ssize_t w;
    do {
      w = write(keep[i + 1], "0", 1);
    } while (w < 0 && errno == EINTR);
    if (w != 1) child_fail(err_w, kStageCgroup, int(i));
    close(keep[i + 1]);
  }

  sigset_t none;
  sigemptyset(&none);
  if (sigprocmask(SIG_SETMASK, &none, nullptr) != 0) child_fail(err_w, kStageSigmask);
  if (chdir(s.cwd) != 0) child_fail(err_w, kStageChdir);
  if (s.alarm_s > 0) alarm(s.alarm_s);  // survives execve: the hard limit (AgentCommand::hard_limit)
  execve(s.argv[0], s.argv, s.envp);
  child_fail(err_w, kStageExec);
}

Status child_report_status(const ChildReport& r, const AgentCommand& c) {
  const std::string& argv0 = c.argv[0];
  const std::string& cwd = c.cwd;
  switch (r.stage) {
    case kStageCgroup:
      return errno_status("write 0 (join the service's cgroup) to",
                          r.index >= 0 && size_t(r.index) < c.join_cgroups.size() ? c.join_cgroups[size_t(r.index)] : "?",
                          r.err)
          .with_context("starting " + argv0);
    case kStageSetpgid: return errno_status("setpgid in the child of", argv0, r.err);
    case kStageFds: return errno_status("setting up stdin/stdout/stderr for", argv0, r.err);
    case kStageSigmask: return errno_status("resetting the signal mask for", argv0, r.err);
    case kStageChdir: return errno_status("chdir", cwd, r.err).with_context("starting " + argv0);
    case kStageExec: return errno_status("exec", argv0, r.err);
    default: return Error(Code::internal, "starting " + argv0 + ": bad report from the child");
  }
}

Status check_command(const AgentCommand& c) {
  if (c.argv.empty()) return Error(Code::invalid_argument, "agent command: empty argv");
  const std::string& p = c.argv[0];
  if (p.empty() || p[0] != '/')
    return Error(Code::invalid_argument, "agent command '" + p + "': not an absolute path");
  for (const auto& a : c.argv)
    if (a.find('\0') != std::string::npos)
      return Error(Code::invalid_argument, "agent command " + p + ": argument with a NUL byte");
  for (const auto& e : c.env)
    if (e.find('\0') != std::string::npos || e.find('=') == std::string::npos || e[0] == '=')
      return Error(Code::invalid_argument, "agent command " + p + ": environment entry is not K=V");
  if (c.timeout <= Duration::zero())
    return Error(Code::invalid_argument, "agent command " + p + ": timeout must be > 0");
  if (c.kill_grace < Duration::zero())
    return Error(Code::invalid_argument, "agent command " + p + ": kill_grace must be >= 0");
  if (c.join_cgroups.size() > kMaxJoinCgroups)
    return Error(Code::invalid_argument, "agent command " + p + ": more than " + std::to_string(kMaxJoinCgroups) + " cgroups to join");
  if (c.stdin_data.size() > kMaxStdinBytes)
    return Error(Code::invalid_argument, "agent command " + p + ": more than " + std::to_string(kMaxStdinBytes) +
                                             " bytes for its stdin");
  if (c.stdout_fd < -1) return Error(Code::invalid_argument, "agent command " + p + ": bad stdout descriptor");
  if (c.cwd.empty() || c.cwd[0] != '/' || c.cwd.find('\0') != std::string::npos)
    return Error(Code::invalid_argument, "agent command " + p + ": cwd '" + c.cwd + "' is not absolute");
  return Status::Ok();
}

std::vector<char*> c_strings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

int ms_ceil(Duration d) {
  if (d <= Duration::zero()) return 0;
  auto ms = std::chrono::ceil<Millis>(d).count();
  return ms > INT_MAX ? INT_MAX : int(ms);
}

// Waits (bounded) for the child's exec report. Ok if the exec happened (EOF) or was not over within
// `limit`; the error the child reported otherwise.
Status await_exec(int err_r, Duration limit, const AgentCommand& c) {
  const std::string& argv0 = c.argv[0];
  struct pollfd p = {err_r, POLLIN, 0};
  for (;;) {
    int r = ::poll(&p, 1, ms_ceil(limit));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return errno_status("poll (exec report of)", argv0);
    if (r == 0) {
      log::event(log::Level::warning, "agent exec not done at once; not waiting for it: it runs, or times out",
                 {{"agent", argv0}});
      return Status::Ok();
    }
    break;
  }
  ChildReport rep;
  ssize_t n;
  do {
    n = read(err_r, &rep, sizeof rep);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return errno_status("read (exec report of)", argv0);
  if (n == 0) return Status::Ok();
  if (size_t(n) != sizeof rep) return Error(Code::internal, "starting " + argv0 + ": short report from the child");
  return child_report_status(rep, c);
}


}  // namespace

Result<std::unique_ptr<AgentProcess>> AgentProcess::spawn(const AgentCommand& command, TimePoint now) {
  RETURN_IF_ERROR(check_command(command));
  const std::string& argv0 = command.argv[0];

  std::vector<char*> argv = c_strings(command.argv);
  std::vector<char*> envp = c_strings(command.env);

  UniqueFd devnull;
  int fds[2];
  if (command.stdin_data.empty()) {
    devnull.reset(open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!devnull.valid()) return errno_status("open", "/dev/null");
  } else {
    // The child's stdin: a pipe holding the whole text, its write end closed (the reader sees EOF after it).
    if (pipe2(fds, O_CLOEXEC) != 0) return errno_status("pipe2 (stdin of)", argv0);
    UniqueFd in_w(fds[1]);
    devnull.reset(fds[0]);
    const std::string& d = command.stdin_data;
    ssize_t n;
    do {
      n = write(in_w.get(), d.data(), d.size());
    } while (n < 0 && errno == EINTR);
    if (n < 0) return errno_status("write (stdin of)", argv0);
    if (size_t(n) != d.size()) return Error(Code::internal, "writing the stdin of " + argv0 + ": short write");
  }
  if (pipe2(fds, O_CLOEXEC) != 0) return errno_status("pipe2 (output of)", argv0);
  UniqueFd out_r(fds[0]), out_w(fds[1]);
  int fl = fcntl(out_r.get(), F_GETFL);
  if (fl < 0 || fcntl(out_r.get(), F_SETFL, fl | O_NONBLOCK) != 0)
    return errno_status("fcntl O_NONBLOCK (output of)", argv0);
  if (pipe2(fds, O_CLOEXEC) != 0) return errno_status("pipe2 (exec report of)", argv0);
  UniqueFd err_r(fds[0]), err_w(fds[1]);
  std::vector<UniqueFd> cgroup_files;
  int cgroup_fds[kMaxJoinCgroups];
  for (const std::string& f : command.join_cgroups) {
    cgroup_files.emplace_back(open(f.c_str(), O_WRONLY | O_CLOEXEC));
    if (!cgroup_files.back().valid()) return errno_status("open", f).with_context("starting " + argv0);
    cgroup_fds[cgroup_files.size() - 1] = cgroup_files.back().get();
  }

  long open_max = sysconf(_SC_OPEN_MAX);
  ChildSetup setup{argv.data(), envp.data(), command.cwd.c_str(), devnull.get(), out_w.get(), command.stdout_fd, err_w.get(),
                   int(std::clamp(open_max, 1024L, 1L << 20)), cgroup_fds, cgroup_files.size(),
                   unsigned(std::chrono::ceil<std::chrono::seconds>(command.hard_limit).count())};

  // All signals blocked across fork: the child must not run the parent's handlers before it has reset
  // them to default.
  sigset_t all, old;
  sigfillset(&all);
  int rc = pthread_sigmask(SIG_SETMASK, &all, &old);
  if (rc != 0) return errno_status("pthread_sigmask", "", rc);
  pid_t pid = fork();
  if (pid == 0) child_exec(setup);
  int fork_errno = errno;
  rc = pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) return errno_status("fork for", argv0, fork_errno);
  // Also set here, so that the group exists before anyone signals it. Fails harmlessly when the child
  // already exec'd (EACCES) or is gone (ESRCH); the child's own setpgid reports real failures.
  setpgid(pid, pid);
  if (rc != 0) log::event(log::Level::error, "pthread_sigmask restore failed", {{"error", std::strerror(rc)}});

  // The pid cannot be reused before we reap it, so the pidfd surely refers to our child.
  UniqueFd pidfd(int(syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd.valid() && errno != ENOSYS)
    log::event(log::Level::warning, "pidfd_open failed; polling for the agent's exit instead",
               {{"agent", argv0}, {"error", std::strerror(errno)}});

  out_w.reset();
  err_w.reset();
  devnull.reset();
  cgroup_files.clear();
  Status exec_status = await_exec(err_r.get(), std::min(command.timeout, kExecWait), command);
  if (!exec_status.ok()) {
    // A child that reported a failure _exit()s right after; if the report could not be read, the command
    // may be running: either way it is unreaped, so its pid and group id are still ours to kill.
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    return exec_status;
  }
  return std::unique_ptr<AgentProcess>(new AgentProcess(command, pid, std::move(out_r), std::move(pidfd), now));
}

AgentProcess::AgentProcess(const AgentCommand& command, pid_t pid, UniqueFd output, UniqueFd pidfd,
                           TimePoint now)
    : name_(command.argv[0]),
      pid_(pid),
      output_(std::move(output)),
      pidfd_(std::move(pidfd)),
      start_(now),
      deadline_(now + command.timeout),
      kill_at_(TimePoint::max()),
      last_poll_(now),
      timeout_(command.timeout),
      kill_grace_(command.kill_grace),
      keep_bytes_(std::clamp(command.keep_output_bytes, size_t(1), kMaxKeepOutputBytes)) {}

AgentProcess::~AgentProcess() {
  if (phase_ == Phase::done) return;
  if (!reaped_) try_reap();
  if (!reaped_) {
    // Unreaped child: the group id is still ours.
    signal_all(SIGKILL);
    int st;
    pid_t r;
    do {
      r = waitpid(pid_, &st, 0);
    } while (r < 0 && errno == EINTR);
    if (r < 0)
      log::event(log::Level::error, "waitpid on a killed agent failed",
                 {{"agent", name_}, {"pid", pid_}, {"error", std::strerror(errno)}});
  } else if (phase_ != Phase::running && !group_empty()) {
    // Timed out, child gone, stragglers left in the group.
    if (kill(-pid_, SIGKILL) != 0 && errno != ESRCH)
      log::event(log::Level::error, "kill of an agent's process group failed",
                 {{"agent", name_}, {"pgid", pid_}, {"error", std::strerror(errno)}});
  }
  // Exited normally (phase running): its group is the caller's (see the header).
}

int AgentProcess::output_fd() const { return output_eof_ || phase_ == Phase::done ? -1 : output_.get(); }

int AgentProcess::pid_fd() const { return reaped_ ? -1 : pidfd_.get(); }

void AgentProcess::on_output_ready() {
  if (output_eof_) return;
  char buf[16384];
  size_t budget = phase_ == Phase::done || reaped_ ? kFinalReadBudget : kReadBudget;
  while (budget > 0) {
    ssize_t n = read(output_.get(), buf, std::min(sizeof buf, budget));
    if (n > 0) {
      feed(buf, size_t(n));
      budget -= size_t(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n < 0) {
      std::string note = std::string("\n[castor: reading the agent's output failed: ") + std::strerror(errno) + "]\n";
      feed(note.data(), note.size());
    }
    output_eof_ = true;  // EOF, or an error we cannot read past
    output_.reset();     // closed now: it leaves the caller's epoll set by itself (see output_fd())
    end_line();
    return;
  }
}

void AgentProcess::feed(const char* data, size_t n) {
  tail_.append(data, n);
  if (tail_.size() > 2 * keep_bytes_) tail_.erase(0, tail_.size() - keep_bytes_);
  while (n > 0) {
    const char* nl = static_cast<const char*>(std::memchr(data, '\n', n));
    size_t len = nl ? size_t(nl - data) : n;
    if (!line_truncated_) {
      size_t take = std::min(len, kLineScanBytes - line_.size());
      line_.append(data, take);
      if (take < len) line_truncated_ = true;
    }
    if (!nl) return;
    end_line();
    data = nl + 1;
    n -= len + 1;
  }
}

void AgentProcess::end_line() {
  if (!line_.empty()) {
    std::string reason = parse_exit_reason(line_);
    if (!reason.empty()) exit_reason_ = std::move(reason);
  }
  line_.clear();
  line_truncated_ = false;
}

void AgentProcess::try_reap() {
  int st = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &st, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return;
  reaped_ = true;
  pidfd_.reset();  // closed now: it leaves the caller's epoll set by itself (see pid_fd())
  if (r < 0) {
    // ECHILD: someone else reaped it (SIGCHLD ignored, or waitpid(-1) elsewhere); the status is lost.
    log::event(log::Level::error, "agent exit status lost", {{"agent", name_}, {"pid", pid_}, {"error", std::strerror(errno)}});
    exit_code_ = -1;
    signal_ = 0;
  } else if (WIFEXITED(st)) {
    exit_code_ = WEXITSTATUS(st);
    signal_ = 0;
  } else if (WIFSIGNALED(st)) {
    exit_code_ = -1;
    signal_ = WTERMSIG(st);
  }
}

bool AgentProcess::group_empty() const {
  if (kill(-pid_, 0) != 0) {
    if (errno == ESRCH) return true;
    // EPERM: members exist that we may not signal (setuid to another user); look at /proc as below.
  }
  // Zombies count as gone: killed grandchildren were reparented to init and linger until it reaps them
  // (on some inits for a second or more).
  return !group_has_live_member(pid_);
}

bool AgentProcess::group_gone(TimePoint now) {
  if (kill(-pid_, 0) != 0 && errno == ESRCH) return true;  // cheap: no member at all
  if (now < next_scan_) return false;
  const bool gone = group_empty();
  scan_every_ = std::min(kGroupScanMax, scan_every_ == Duration::zero() ? kGroupPoll : scan_every_ * 2);
  next_scan_ = now + scan_every_;
  return gone;
}

void AgentProcess::signal_all(int sig) {
  if (kill(-pid_, sig) != 0 && errno != ESRCH)
    log::event(log::Level::error, "signalling an agent's process group failed",
               {{"agent", name_}, {"pgid", pid_}, {"signal", sig}, {"error", std::strerror(errno)}});
  // The child itself, in case it moved to another group; safe while it is unreaped.
  if (!reaped_ && kill(pid_, sig) != 0 && errno != ESRCH)
    log::event(log::Level::error, "signalling an agent failed",
               {{"agent", name_}, {"pid", pid_}, {"signal", sig}, {"error", std::strerror(errno)}});
}

AgentOutcome AgentProcess::finish(TimePoint now) {
  on_output_ready();  // what the child wrote before it died is in the pipe
  end_line();
  phase_ = Phase::done;
  output_.reset();  // a writer left behind gets EPIPE; the descriptor leaves the caller's epoll set
  AgentOutcome o;
  o.timed_out = timed_out_;
  o.exit_code = exit_code_;
  o.signal = signal_;
  o.timeout = timeout_;
  o.elapsed = now - start_;
  if (tail_.size() > keep_bytes_) tail_.erase(0, tail_.size() - keep_bytes_);
  o.output_tail = std::move(tail_);
  o.exit_reason = std::move(exit_reason_);
  tail_.clear();
  exit_reason_.clear();
  return o;
}

std::optional<AgentOutcome> AgentProcess::poll(TimePoint now) {
  if (phase_ == Phase::done) return std::nullopt;
  last_poll_ = now;
  if (!reaped_) try_reap();

  if (phase_ == Phase::running) {
    if (reaped_) return finish(now);
    if (now < deadline_) return std::nullopt;
    timed_out_ = true;
    signal_all(SIGTERM);
    phase_ = Phase::terminating;
    kill_at_ = now + kill_grace_;
    log::event(log::Level::warning, "agent timed out; sent SIGTERM to its process group",
               {{"agent", name_}, {"pgid", pid_}, {"timeout", format_duration(timeout_)}});
    if (kill_grace_ > Duration::zero()) return std::nullopt;
  }
  if (phase_ == Phase::terminating) {
    if (reaped_ && group_gone(now)) return finish(now);
    if (now < kill_at_) return std::nullopt;
    signal_all(SIGKILL);
    phase_ = Phase::killing;
    log::event(log::Level::warning, "agent outlived SIGTERM; sent SIGKILL to its process group",
               {{"agent", name_}, {"pgid", pid_}});
    if (!reaped_) try_reap();  // usually too early, the pidfd will tell
  }
  // killing: SIGKILL is final for the group; only our child's status is awaited.
  if (reaped_) return finish(now);
  return std::nullopt;
}

TimePoint AgentProcess::next_deadline() const {
  TimePoint next = TimePoint::max();
  switch (phase_) {
    case Phase::done: return next;
    case Phase::running: next = deadline_; break;
    case Phase::terminating:
      next = kill_at_;
      if (reaped_) next = std::min(next, last_poll_ + kGroupPoll);  // nothing wakes us when the group empties
      break;
    case Phase::killing: break;
  }
  if (!reaped_ && !pidfd_.valid()) next = std::min(next, last_poll_ + kNoPidfdPoll);
  return next;
}

Result<AgentOutcome> run_agent(const AgentCommand& command, const Clock& clock) {
  ASSIGN_OR_RETURN(std::unique_ptr<AgentProcess> p, AgentProcess::spawn(command, clock.now()));
  for (;;) {
    if (auto outcome = p->poll(clock.now())) return std::move(*outcome);
    struct pollfd fds[2];
    nfds_t n = 0;
    int out_idx = -1;
    if (p->output_fd() >= 0) {
      out_idx = int(n);
      fds[n++] = {p->output_fd(), POLLIN, 0};
    }
    if (p->pid_fd() >= 0) fds[n++] = {p->pid_fd(), POLLIN, 0};
    Duration wait = p->next_deadline() - clock.now();
    wait = std::clamp(wait, Duration::zero(), Duration(std::chrono::seconds(1)));
    struct timespec ts;
    ts.tv_sec = time_t(wait.count() / 1000000000);
    ts.tv_nsec = long(wait.count() % 1000000000);
    int r = ppoll(fds, n, &ts, nullptr);
    if (r < 0 && errno != EINTR) return errno_status("ppoll (waiting for)", command.argv[0]);
    if (r > 0 && out_idx >= 0 && fds[out_idx].revents != 0) p->on_output_ready();
  }
}

namespace {

// Reads what `fd` (non-blocking) holds into `out`, up to `max` bytes in all. False at EOF or on an error
// (the descriptor is done with); true while more may come. Sets *over when more than `max` was there.
bool read_bounded(int fd, std::string& out, size_t max, bool* over, Status* error) {
  char buf[65536];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      const size_t room = max - std::min(max, out.size());
      out.append(buf, std::min(room, size_t(n)));
      if (size_t(n) > room) {
        *over = true;
        return false;
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    if (n < 0) *error = errno_status("read (stdout of a command)", "");
    return false;
  }
}

}  // namespace

Result<CapturedRun> run_capturing(AgentCommand command, const Clock& clock, size_t max_stdout) {
  if (command.stdout_fd != -1) return Error(Code::invalid_argument, "run_capturing: stdout_fd is set already");
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return errno_status("pipe2 (stdout of)", command.argv.empty() ? "" : command.argv[0]);
  UniqueFd out_r(fds[0]), out_w(fds[1]);
  // Non-blocking on our end only (the child's end is another file description: its writes still block).
  const int fl = fcntl(out_r.get(), F_GETFL);
  if (fl < 0 || fcntl(out_r.get(), F_SETFL, fl | O_NONBLOCK) != 0)
    return errno_status("fcntl O_NONBLOCK (stdout of)", command.argv.empty() ? "" : command.argv[0]);
  command.stdout_fd = out_w.get();
  ASSIGN_OR_RETURN(std::unique_ptr<AgentProcess> p, AgentProcess::spawn(command, clock.now()));
  out_w.reset();  // the child holds its copy: EOF comes when it (and whatever it left) closes it
  CapturedRun run;
  bool reading = true;
  Status read_error;
  for (;;) {
    if (auto outcome = p->poll(clock.now())) {
      // The child is gone: what it wrote is in the pipe (a process it left behind may still hold the write
      // end: no waiting for EOF, only what is there now).
      if (reading) read_bounded(out_r.get(), run.stdout_text, max_stdout, &run.overflow, &read_error);
      run.outcome = std::move(*outcome);
      if (!read_error.ok()) return read_error.with_context(command.argv[0]);
      return run;
    }
    struct pollfd pfds[3];
    nfds_t n = 0;
    int out_idx = -1, stdout_idx = -1;
    if (p->output_fd() >= 0) {
      out_idx = int(n);
      pfds[n++] = {p->output_fd(), POLLIN, 0};
    }
    if (p->pid_fd() >= 0) pfds[n++] = {p->pid_fd(), POLLIN, 0};
    if (reading) {
      stdout_idx = int(n);
      pfds[n++] = {out_r.get(), POLLIN, 0};
    }
    Duration wait = p->next_deadline() - clock.now();
    wait = std::clamp(wait, Duration::zero(), Duration(std::chrono::seconds(1)));
    struct timespec ts;
    ts.tv_sec = time_t(wait.count() / 1000000000);
    ts.tv_nsec = long(wait.count() % 1000000000);
    const int r = ppoll(pfds, n, &ts, nullptr);
    if (r < 0 && errno != EINTR) return errno_status("ppoll (waiting for)", command.argv[0]);
    if (r <= 0) continue;
    if (out_idx >= 0 && pfds[out_idx].revents != 0) p->on_output_ready();
    if (stdout_idx >= 0 && pfds[stdout_idx].revents != 0) {
      reading = read_bounded(out_r.get(), run.stdout_text, max_stdout, &run.overflow, &read_error);
      if (run.overflow || !read_error.ok()) p->expire(clock.now());  // stop it: no more of its output is wanted
      if (!reading) out_r.reset();  // a writer still at it gets EPIPE
    }
  }
}

}  // namespace castor
