#include "disk/timing.h"

namespace castor {

Result<Timing> Timing::from_io_timeout(Millis t) {
  if (t < kMinIoTimeout || t > kMaxIoTimeout)
    return Error(Code::invalid_argument, "io_timeout " + std::to_string(t.count()) + "ms is outside [" +
                                             std::to_string(kMinIoTimeout.count()) + ", " +
                                             std::to_string(kMaxIoTimeout.count()) + "] ms");
  if (t.count() % 2 != 0)
    return Error(Code::invalid_argument,
                 "io_timeout " + std::to_string(t.count()) + "ms must be even (renew interval = io_timeout/2)");
  Timing x;
  x.io_timeout = t;
  x.renew_interval = t / 2;
  x.lease = 3 * t;
  x.kill_grace = t;
  x.watchdog = t;
  x.dead = x.lease + 2 * x.watchdog + t;
  if (Status m = x.check_margin(); !m.ok()) return Error(Code::internal, "timing formula: " + m.message());
  return x;
}

Status Timing::check_formula() const {
  auto expected = from_io_timeout(io_timeout);
  if (!expected.ok()) return expected.status();
  if (!(*expected == *this))
    return Error(Code::corrupt, "timing " + describe() + " does not follow the formula for io_timeout " +
                                    std::to_string(io_timeout.count()) + "ms (" + expected->describe() + ")");
  return Status::Ok();
}

Status Timing::check_margin() const {
  const Millis rate_slack((dead.count() * kClockRatePpm + 999999) / 1000000);
  const Millis needed = lease + latest_reset_after_lease_end() + rate_slack;
  if (dead < needed)
    return Error(Code::invalid_argument,
                 "dead time " + std::to_string(dead.count()) + "ms < lease " + std::to_string(lease.count()) +
                     "ms + latest watchdog reset after it " + std::to_string(latest_reset_after_lease_end().count()) +
                     "ms + clock-rate slack " + std::to_string(rate_slack.count()) + "ms");
  return Status::Ok();
}

std::string Timing::describe() const {
  auto ms = [](Millis m) { return std::to_string(m.count()) + "ms"; };
  return "io_timeout=" + ms(io_timeout) + " renew=" + ms(renew_interval) + " lease=" + ms(lease) +
         " kill_grace=" + ms(kill_grace) + " watchdog=" + ms(watchdog) + " dead=" + ms(dead);
}

}  // namespace castor
