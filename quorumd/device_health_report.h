// DeviceHealthReport: when quorumd tells its subscribers that a member of a set of quorum devices is lost or
// back (device_changed: svcmgr's alerts and history), with hysteresis. A member's `failing_since` comes and
// goes with single I/Os (one timeout sets it, one good I/O clears it): a member whose latency sits near
// io_timeout, or a flaky path, would otherwise be reported at its I/O rate, flooding the alerts and
// rotating the history's real records away. Lost: failing for kLostAfter (2 T) without a break. Back: not
// failing for kBackAfter (10 T) without a break, once reported lost. At most one report per member per
// kLostAfter + kBackAfter. What `status` shows is unchanged (it names a failing member at once).
// Pure: no I/O, no clock; the caller gives each member's failing_since and now.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "common/clock.h"

namespace castor {

class DeviceHealthReport {
 public:
  explicit DeviceHealthReport(Duration io_timeout) : lost_after_(2 * io_timeout), back_after_(10 * io_timeout) {}
  // Member i's state at `now`: true (report lost) or false (report back) when the report changes, else nullopt.
  std::optional<bool> observe(size_t i, std::optional<TimePoint> failing_since, TimePoint now);

 private:
  struct Member {
    bool reported_lost = false;
    std::optional<TimePoint> ok_since;  // not failing since (while reported lost)
  };
  Duration lost_after_, back_after_;
  std::vector<Member> members_;
};

}  // namespace castor
