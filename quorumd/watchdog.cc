#include "quorumd/watchdog.h"

#include <fcntl.h>
#include <linux/watchdog.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/errno_status.h"
#include "common/test_hooks.h"

namespace castor {
namespace {

Status write_byte(int fd, char c, const std::string& path) {
  for (;;) {
    ssize_t n = ::write(fd, &c, 1);
    if (n == 1) return Status::Ok();
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return Error(Code::busy, "write " + path + ": full (nobody is reading the watchdog stand-in)");
    if (n < 0) return errno_status("write", path);
    return Error(Code::io_error, "write " + path + ": wrote nothing");
  }
}

std::string identity_of(const watchdog_info& info) {
  size_t len = strnlen(reinterpret_cast<const char*>(info.identity), sizeof info.identity);
  return std::string(reinterpret_cast<const char*>(info.identity), len);
}

}  // namespace

bool watchdog_standin_allowed_by_env() {
  const char* v = test_hook_env(kWatchdogStandinEnv);
  return v && std::string(v) == "1";
}

Result<std::unique_ptr<Watchdog>> Watchdog::open(const std::string& path, Millis max_timeout, bool allow_test_standin) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    Status s = errno_status("watchdog device", path);
    if (errno == ENOENT)
      return Error(s.code(), s.message() + " (load a watchdog driver, e.g. `modprobe softdog`, or set "
                                           "watchdog_device)");
    return s;
  }
  const std::string not_a_watchdog =
      " is not a watchdog device. quorumd needs a hardware watchdog (a character device answering the Linux "
      "watchdog ioctls, e.g. /dev/watchdog0) so that a hung node is reset before its peer declares it dead; "
      "set watchdog_device to one, or run without any (tests only) with watchdog_device = none and "
      "allow_unsafe_no_watchdog = yes";
  if (S_ISFIFO(st.st_mode)) {
    if (!allow_test_standin)
      return Error(Code::refused, "watchdog " + path + " is a FIFO: only the test stand-in uses one, and only with " +
                                      kWatchdogStandinEnv + "=1 in quorumd's environment. A FIFO" + not_a_watchdog);
    // A FIFO is opened read-write so that opening never fails for want of a reader and a write never
    // raises SIGPIPE; writes are non-blocking, so a stalled stand-in cannot stall quorumd.
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NONBLOCK));
    if (!fd.valid()) return errno_status("open watchdog stand-in", path);
    // Not petted here: a stand-in arms at its first pet, which quorumd sends once it holds a lease.
    return std::unique_ptr<Watchdog>(
        new Watchdog(path, std::move(fd), true, max_timeout, std::nullopt, "test stand-in"));
  }
  if (!S_ISCHR(st.st_mode))
    return Error(Code::refused, "watchdog " + path + " is not a character device: it" + not_a_watchdog);

  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NONBLOCK));
  if (!fd.valid()) return errno_status("open watchdog", path);
  watchdog_info info{};
  if (::ioctl(fd.get(), WDIOC_GETSUPPORT, &info) != 0) {
    // ENOTTY, EINVAL...: not a watchdog driver (/dev/null, a tty...). Nothing was armed: no magic close.
    const int e = errno;
    return Error(Code::refused, "watchdog " + path + " does not answer WDIOC_GETSUPPORT (" + std::strerror(e) +
                                    "): it" + not_a_watchdog);
  }

  // The API counts whole seconds. Ask for W rounded up, then trust only what the driver says it set.
  const int64_t want_s = (max_timeout.count() + 999) / 1000;
  int secs = int(want_s);
  std::string how;
  if (info.options & WDIOF_SETTIMEOUT) {
    if (::ioctl(fd.get(), WDIOC_SETTIMEOUT, &secs) != 0) {
      Status s = errno_status("ioctl WDIOC_SETTIMEOUT " + std::to_string(want_s) + "s", path);
      (void)write_byte(fd.get(), 'V', path);  // magic close: do not leave it counting down on a refusal
      return s;
    }
    how = "set";
  } else {
    if (::ioctl(fd.get(), WDIOC_GETTIMEOUT, &secs) != 0) {
      Status s = errno_status("ioctl WDIOC_GETTIMEOUT (the driver cannot set its timeout)", path);
      (void)write_byte(fd.get(), 'V', path);
      return s;
    }
    how = "fixed by the driver at";
  }
  const std::string ident = identity_of(info);
  if (secs <= 0 || int64_t(secs) * 1000 > max_timeout.count()) {
    (void)write_byte(fd.get(), 'V', path);
    std::string why = "watchdog " + path + " (" + ident + "): timeout " + how + " " + std::to_string(secs) +
                      "s, but the quorum disk's watchdog time W is " + std::to_string(max_timeout.count()) +
                      "ms: a fenced or hung node would be reset later than its peer assumes when it declares it "
                      "dead. The watchdog API counts whole seconds";
    if (max_timeout.count() % 1000 != 0)
      why += ", so W must be a whole number of seconds: re-initialise the disk with an io_timeout that is a "
             "multiple of 1000ms (W = io_timeout)";
    else
      why += "; this device cannot run with " + std::to_string(want_s) + "s or less";
    return Error(Code::refused, why);
  }
  // A hardware watchdog runs from the moment it is opened; the countdown just restarted with the new timeout.
  std::unique_ptr<Watchdog> wd(new Watchdog(path, std::move(fd), false, max_timeout, Millis(int64_t(secs) * 1000), ident));
  // Until the first pet (which needs a lease: a first heartbeat write completed, up to io_timeout after the
  // start) the node holds no lease and runs nothing, so the device may wait longer: 2W, as the first pet
  // then sets W again. Refused by the driver: it runs with W from the start.
  if (info.options & WDIOF_SETTIMEOUT) {
    int start = 2 * secs;
    if (::ioctl(wd->fd_.get(), WDIOC_SETTIMEOUT, &start) == 0 && start > secs) {
      wd->set_on_first_pet_ = secs;
      wd->first_guard_ = Millis(int64_t(start) * 1000);
    }
  }
  return wd;
}

Result<bool> Watchdog::pet_within_lease(TimePoint now, std::optional<TimePoint> lease_expiry) {
  // The guard is the timeout in force since the previous ping: W, or the start-up timeout before the first
  // pet. A pet delayed after this check still lands before the watchdog fires, so before the lease end.
  const Millis guard = set_on_first_pet_ ? first_guard_ : guard_;
  if (!lease_expiry || *lease_expiry - now < guard) return false;
  RETURN_IF_ERROR(pet());
  return true;
}

Status Watchdog::pet() {
  if (!fd_.valid()) return Error(Code::internal, "watchdog " + path_ + " already disarmed");
  if (standin_) return write_byte(fd_.get(), 'p', path_);
  if (set_on_first_pet_) {
    // The first pet sets the timeout back to W (the ioctl pings too).
    int secs = *set_on_first_pet_;
    if (::ioctl(fd_.get(), WDIOC_SETTIMEOUT, &secs) != 0) return errno_status("ioctl WDIOC_SETTIMEOUT (first pet)", path_);
    if (secs <= 0 || int64_t(secs) * 1000 > guard_.count())
      return Error(Code::io_error, "watchdog " + path_ + ": the driver set " + std::to_string(secs) +
                                       "s at the first pet, more than W");
    set_on_first_pet_.reset();
    return Status::Ok();
  }
  int dummy = 0;
  if (::ioctl(fd_.get(), WDIOC_KEEPALIVE, &dummy) == 0) return Status::Ok();
  if (errno != ENOTTY && errno != EOPNOTSUPP) return errno_status("ioctl WDIOC_KEEPALIVE", path_);
  return write_byte(fd_.get(), 'p', path_);  // drivers without the ioctl take any write as a pet
}

Status Watchdog::disarm() {
  if (!fd_.valid()) return Status::Ok();
  Status st = write_byte(fd_.get(), 'V', path_);
  if (::close(fd_.release()) != 0 && st.ok()) st = errno_status("close watchdog", path_);
  return st;
}

std::string Watchdog::describe() const {
  if (standin_) return path_ + " (TEST STAND-IN, " + kWatchdogStandinEnv + "=1: not a watchdog; one byte per pet)";
  return path_ + " (" + identity_ + ", timeout " + std::to_string(timeout_ ? timeout_->count() / 1000 : 0) + "s)";
}

}  // namespace castor
