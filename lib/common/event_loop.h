// EventLoop: the one place a daemon waits. An epoll set over the caller's descriptors, plus a timerfd
// (CLOCK_BOOTTIME, armed with an absolute deadline: time spent suspended counts, as for every decision)
// and a signalfd for the signals the caller blocked. Shared by quorumd and svcmgr.
// It never owns the caller's descriptors (add_fd/remove_fd only register them), never installs signal
// handlers or changes the signal mask (the caller blocks the signals before create()), and reports every
// failed syscall as a Status naming the call; it never logs and never decides what an event means.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "common/unique_fd.h"

namespace castor {

class EventLoop {
 public:
  // Keys that wait() reports for the loop's own descriptors; add_fd refuses them.
  static constexpr uint64_t kTimerKey = UINT64_MAX;
  static constexpr uint64_t kSignalKey = UINT64_MAX - 1;

  struct Ready {
    uint64_t key = 0;     // the key given to add_fd, kTimerKey or kSignalKey
    uint32_t events = 0;  // EPOLLIN, EPOLLOUT, EPOLLHUP...
  };
  struct SignalInfo {
    int signo = 0;
    pid_t pid = 0;  // the sender (0 for a signal from the kernel)
    uid_t uid = 0;
  };

  // `signals` must already be blocked in every thread (pthread_sigmask) so that they reach the signalfd;
  // an empty set makes a loop with no signal source (the signalfd exists but never turns readable).
  static Result<EventLoop> create(const sigset_t& signals);
  EventLoop(EventLoop&&) noexcept = default;
  EventLoop& operator=(EventLoop&&) noexcept = default;

  // Registers `fd` for `events` (EPOLLIN...); wait() reports it under `key`.
  Status add_fd(int fd, uint32_t events, uint64_t key);
  Status modify_fd(int fd, uint32_t events, uint64_t key);
  Status remove_fd(int fd);

  // The timer turns the loop ready once CLOCK_BOOTTIME reaches `when` (at once if it already has).
  // Re-arming replaces the previous deadline.
  Status arm_timer(TimePoint when);
  Status disarm_timer();

  // Waits until a descriptor is ready, the timer fires or a signal arrives, at most `max_wait` (nullopt:
  // no limit; zero: poll). An expired timer is drained here and reported once as kTimerKey. Signals are
  // reported as kSignalKey and stay queued until read_signals(). EINTR returns an empty list.
  // The list is the loop's own buffer, reused every turn (a daemon's loop allocates nothing to wait): it
  // is valid until the next wait() on this loop, or its move or destruction.
  Result<std::span<const Ready>> wait(std::optional<Duration> max_wait);

  // Every signal queued on the signalfd (empty if none).
  Result<std::vector<SignalInfo>> read_signals();

  int epoll_fd() const { return epoll_.get(); }
  int timer_fd() const { return timer_.get(); }
  int signal_fd() const { return signal_.get(); }

 private:
  EventLoop() = default;
  UniqueFd epoll_, timer_, signal_;
  std::vector<Ready> ready_;  // what wait() reports; capacity for one epoll_wait, reserved by create()
};

}  // namespace castor
