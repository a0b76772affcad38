#include "common/event_loop.h"

#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <tuple>
#include <chrono>
#include <string>

#include "common/errno_status.h"

namespace castor {
namespace {

constexpr int kMaxEvents = 16;

std::string fd_text(int fd) { return "fd " + std::to_string(fd); }

}  // namespace

Result<EventLoop> EventLoop::create(const sigset_t& signals) {
  EventLoop loop;
  loop.ready_.reserve(kMaxEvents);
  loop.epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!loop.epoll_.valid()) return errno_status("epoll_create1", "");
  loop.timer_.reset(::timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK | TFD_CLOEXEC));
  if (!loop.timer_.valid()) return errno_status("timerfd_create", "CLOCK_BOOTTIME");
  loop.signal_.reset(::signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!loop.signal_.valid()) return errno_status("signalfd", "the daemon's signals");
  for (auto [fd, key, what] : {std::tuple{loop.timer_.get(), kTimerKey, "timerfd"},
                               std::tuple{loop.signal_.get(), kSignalKey, "signalfd"}}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = key;
    if (::epoll_ctl(loop.epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) return errno_status("epoll_ctl ADD", what);
  }
  return loop;
}

Status EventLoop::add_fd(int fd, uint32_t events, uint64_t key) {
  if (key == kTimerKey || key == kSignalKey)
    return Error(Code::invalid_argument, "epoll key " + std::to_string(key) + " is reserved for the loop's own fds");
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = key;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) return errno_status("epoll_ctl ADD", fd_text(fd));
  return Status::Ok();
}

Status EventLoop::modify_fd(int fd, uint32_t events, uint64_t key) {
  if (key == kTimerKey || key == kSignalKey)
    return Error(Code::invalid_argument, "epoll key " + std::to_string(key) + " is reserved for the loop's own fds");
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = key;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev) != 0) return errno_status("epoll_ctl MOD", fd_text(fd));
  return Status::Ok();
}

Status EventLoop::remove_fd(int fd) {
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr) != 0) return errno_status("epoll_ctl DEL", fd_text(fd));
  return Status::Ok();
}

Status EventLoop::arm_timer(TimePoint when) {
  // An all-zero it_value would disarm the timer: a deadline at or before the epoch fires at the first ns.
  const int64_t t = std::max<int64_t>(when.time_since_epoch().count(), 1);
  itimerspec its{};
  its.it_value.tv_sec = time_t(t / 1000000000);
  its.it_value.tv_nsec = long(t % 1000000000);
  if (::timerfd_settime(timer_.get(), TFD_TIMER_ABSTIME, &its, nullptr) != 0)
    return errno_status("timerfd_settime", "CLOCK_BOOTTIME");
  return Status::Ok();
}

Status EventLoop::disarm_timer() {
  itimerspec its{};
  if (::timerfd_settime(timer_.get(), TFD_TIMER_ABSTIME, &its, nullptr) != 0)
    return errno_status("timerfd_settime (disarm)", "CLOCK_BOOTTIME");
  return Status::Ok();
}

Result<std::span<const EventLoop::Ready>> EventLoop::wait(std::optional<Duration> max_wait) {
  int timeout_ms = -1;
  if (max_wait) {
    // Rounded up, so that a wait of 0.3 ms does not become a busy poll.
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(std::max(*max_wait, Duration(0))).count();
    timeout_ms = ms > INT32_MAX ? INT32_MAX : int(ms);
  }
  epoll_event events[kMaxEvents];
  const int n = ::epoll_wait(epoll_.get(), events, kMaxEvents, timeout_ms);
  ready_.clear();  // keeps the capacity: no allocation (n <= kMaxEvents, reserved by create())
  if (n < 0) {
    if (errno == EINTR) return std::span<const Ready>(ready_);
    return errno_status("epoll_wait", "");
  }
  for (int i = 0; i < n; ++i) {
    if (events[i].data.u64 == kTimerKey) {
      uint64_t expirations = 0;
      const ssize_t r = ::read(timer_.get(), &expirations, sizeof expirations);
      if (r < 0 && errno != EAGAIN && errno != EINTR) return errno_status("read", "timerfd");
      if (r < 0) continue;  // re-armed or already drained: not expired after all
    }
    ready_.push_back({events[i].data.u64, events[i].events});
  }
  return std::span<const Ready>(ready_);
}

Result<std::vector<EventLoop::SignalInfo>> EventLoop::read_signals() {
  std::vector<SignalInfo> out;
  for (;;) {
    signalfd_siginfo si;
    const ssize_t n = ::read(signal_.get(), &si, sizeof si);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return out;
    if (n < 0) return errno_status("read", "signalfd");
    if (n != ssize_t(sizeof si))
      return Error(Code::io_error, "read signalfd: short read of " + std::to_string(n) + " bytes");
    out.push_back({int(si.ssi_signo), pid_t(si.ssi_pid), uid_t(si.ssi_uid)});
  }
}

}  // namespace castor
