// NodeLease: may this node still act? Its lease runs from the ISSUE time of its last heartbeat write that
// completed ok, for the lease term F. Issue time, not completion time: the peer may have read the new
// value as soon as it landed, and it times its dead time from then, so our term must start no later.
// Once fenced (the lease lapsed, or something proved another writer or a peer verdict), this incarnation
// never holds a lease again: a write that completes after the lapse renews nothing.
// A promise of the peer (quorumd/stall_promise.h) may extend a lease that is still valid to a later end;
// it never revives a lapsed one, and never creates one where no disk write ever completed.
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
  // The peer promised, over the LAN, not to declare us dead before `until` + D: the lease may run to `until`.
  // Ignored once fenced, once lapsed at `now`, or before the first renewal. True if it moved the end.
  bool extend_to(TimePoint until, TimePoint now);
  // Issue time of the last renewal (ok heartbeat write), if any: the disk's own part of the lease.
  std::optional<TimePoint> last_renewal_issue() const { return last_issue_; }
  // The end the disk alone gives (last renewal's issue + term).
  std::optional<TimePoint> disk_expiry() const {
    return last_issue_ ? std::optional<TimePoint>(*last_issue_ + term_) : std::nullopt;
  }
  bool valid(TimePoint now) const { return !fenced_ && expiry_ && now < *expiry_; }
  bool lapsed(TimePoint now) const { return !fenced_ && expiry_ && now >= *expiry_; }
  std::optional<TimePoint> expiry() const { return expiry_; }
  bool fenced() const { return fenced_; }
  void fence() { fenced_ = true; }

 private:
  Duration term_;
  std::optional<TimePoint> expiry_;
  std::optional<TimePoint> last_issue_;
  bool fenced_ = false;
};

}  // namespace castor
