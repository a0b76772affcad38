// Watchdog: this node's hardware watchdog (the Linux watchdog API, /dev/watchdog), petted by quorumd only
// while its lease has at least W (the superblock's watchdog time) left, so that a node whose quorumd hangs,
// dies or is fenced is reset by its lease end + 2W + the device's tolerance, whatever happens between the
// lease check and the pet (docs/design.md, "The watchdog margin").
//
// What open() accepts, and nothing else:
//   - a watchdog device: a character device that answers WDIOC_GETSUPPORT and WDIOC_SETTIMEOUT (or, for a
//     driver that cannot change it, WDIOC_GETTIMEOUT) with a timeout of whole seconds <= W. It asks for W
//     (the API counts whole seconds) and trusts only what the driver says it set;
//   - the test stand-in (tests/watchdog_standin_main.cc): a FIFO, accepted only when the caller allows it
//     (quorumd: environment CASTOR_TEST_WATCHDOG_STANDIN=1). One byte per pet, 'V' on disarm.
// /dev/null, a regular file, a tty, a FIFO without the switch: refused with the reason. Running with no
// watchdog at all is quorumd's decision (allow_unsafe_no_watchdog), never this unit's.
// Must never block the event loop (writes are non-blocking) and must never disarm the device except in
// disarm(), which quorumd calls only after a clean leave: closing without it leaves the watchdog armed
// (the kernel pings once on such a close; the margin counts that ping). Until its first pet a hardware
// watchdog runs with 2W (no lease yet: the first heartbeat write may take up to io_timeout); the first pet,
// under the lease like every pet, sets W.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "common/unique_fd.h"

namespace castor {

// The environment switch that lets quorumd accept the test stand-in: CASTOR_TEST_WATCHDOG_STANDIN=1.
inline constexpr const char* kWatchdogStandinEnv = "CASTOR_TEST_WATCHDOG_STANDIN";
bool watchdog_standin_allowed_by_env();

class Watchdog {
 public:
  // Opens and arms `path`, checking that it fires within `max_timeout` (W) of the last pet. A FIFO (the
  // test stand-in) is accepted only with `allow_test_standin`; anything that is not a watchdog is refused.
  static Result<std::unique_ptr<Watchdog>> open(const std::string& path, Millis max_timeout, bool allow_test_standin);
  // Same, with allow_test_standin = watchdog_standin_allowed_by_env().
  static Result<std::unique_ptr<Watchdog>> open(const std::string& path, Millis max_timeout) {
    return open(path, max_timeout, watchdog_standin_allowed_by_env());
  }
  // Closes WITHOUT the magic close: a hardware watchdog keeps running and resets the node.
  ~Watchdog() = default;
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // The pet quorumd uses: restarts the countdown only if the lease (expiry `lease_expiry`, read together
  // with `now` from one clock read) has at least pet_guard() = W left at `now` (before the first pet of a
  // hardware device: the start-up timeout, 2W). Returns true if it petted,
  // false if it withheld the pet (no lease, or less than W left: normal as a lease runs out). A freeze
  // between the clock read and the pet can then delay the pet, but the pet lands before the lease end
  // (it lands at most W after the previous pet, else the watchdog has already fired). Errors (a full FIFO,
  // a driver error) are reported, never retried here.
  Result<bool> pet_within_lease(TimePoint now, std::optional<TimePoint> lease_expiry);
  // Restarts the countdown unconditionally. Only for callers that have checked the lease against
  // pet_guard() themselves; prefer pet_within_lease().
  Status pet();
  // Magic close: writes 'V' and closes, disarming a watchdog that allows it. Only after a clean leave.
  Status disarm();

  const std::string& path() const { return path_; }
  bool is_standin() const { return standin_; }
  // The lease that must be left for a pet: W.
  Millis pet_guard() const { return guard_; }
  // The timeout the driver runs with (hardware only).
  std::optional<Millis> timeout() const { return timeout_; }
  // For status: "hardware" or "test-standin".
  const char* kind() const { return standin_ ? "test-standin" : "hardware"; }
  std::string describe() const;  // "/dev/watchdog (softdog, timeout 2s)" or "/tmp/wd.fifo (TEST STAND-IN ...)"

 private:
  Watchdog(std::string path, UniqueFd fd, bool standin, Millis guard, std::optional<Millis> timeout, std::string identity)
      : path_(std::move(path)), fd_(std::move(fd)), standin_(standin), guard_(guard), timeout_(timeout),
        identity_(std::move(identity)) {}

  std::string path_;
  UniqueFd fd_;
  bool standin_ = false;
  Millis guard_{0};
  std::optional<Millis> timeout_;
  std::string identity_;
  std::optional<int> set_on_first_pet_;  // hardware opened with 2W until the first pet sets W (seconds)
  Millis first_guard_{0};                 // the start-up timeout: the lease the first pet needs
};

}  // namespace castor
