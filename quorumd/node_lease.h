// NodeLease: may this node still act? Its lease runs from the ISSUE time of its last heartbeat write that
// completed ok, for the lease term F. Issue time, not completion time: the peer may have read the new
// value as soon as it landed, and it times its dead time from then, so our term must start no later.
// Once fenced (the lease lapsed, or something proved another writer or a peer verdict), this incarnation
// never holds a lease again: a write that completes after the lapse renews nothing.
// Pure: no I/O, no clock reads.
#pragma once

#include <optional>

#include "common/clock.h"

namespace castor {

class NodeLease {
 public:
  explicit NodeLease(Duration term) : term_(term) {}

  // A heartbeat write issued at `issued` completed ok; `now` is when we learned it. Ignored once fenced or
  // once the lease has lapsed at `now` (the caller fences first).
  void renewed(TimePoint issued, TimePoint now);
  bool valid(TimePoint now) const { return !fenced_ && expiry_ && now < *expiry_; }
  bool lapsed(TimePoint now) const { return !fenced_ && expiry_ && now >= *expiry_; }
  std::optional<TimePoint> expiry() const { return expiry_; }
  bool fenced() const { return fenced_; }
  void fence() { fenced_ = true; }

 private:
  Duration term_;
  std::optional<TimePoint> expiry_;
  bool fenced_ = false;
};

}  // namespace castor
