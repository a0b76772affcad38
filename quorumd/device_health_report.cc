#include "quorumd/device_health_report.h"

namespace castor {

std::optional<bool> DeviceHealthReport::observe(size_t i, std::optional<TimePoint> failing_since, TimePoint now) {
  if (members_.size() <= i) members_.resize(i + 1);
  Member& m = members_[i];
  if (failing_since) {
    m.ok_since.reset();
    if (!m.reported_lost && now - *failing_since >= lost_after_) {
      m.reported_lost = true;
      return true;
    }
    return std::nullopt;
  }
  if (!m.reported_lost) return std::nullopt;
  if (!m.ok_since) m.ok_since = now;
  if (now - *m.ok_since >= back_after_) {
    m.reported_lost = false;
    m.ok_since.reset();
    return false;
  }
  return std::nullopt;
}

}  // namespace castor
