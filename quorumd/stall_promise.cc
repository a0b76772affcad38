#include "quorumd/stall_promise.h"

#include <algorithm>

namespace castor {

PromiseTerms PromiseTerms::from(const Timing& timing, Duration max_storage_stall) {
  PromiseTerms t;
  t.term = timing.lease;
  t.max_storage_stall = max_storage_stall;
  t.failing_after = 2 * timing.io_timeout;
  return t;
}

bool disk_failing(const PromiseTerms& terms, std::optional<TimePoint> last_ok_issue, bool last_write_failed,
                  TimePoint now) {
  return !last_ok_issue || last_write_failed || now - *last_ok_issue > terms.failing_after;
}

Duration restart_hold(const PromiseTerms& terms, const Timing& timing) {
  const Duration lease = timing.lease;
  return terms.term > lease ? terms.term - lease : Duration(0);
}

bool within_storage_stall(const PromiseTerms& terms, std::optional<TimePoint> last_ok_issue, TimePoint now) {
  return last_ok_issue && now - *last_ok_issue < terms.max_storage_stall;
}

std::optional<TimePoint> promised_lease_end(const PromiseTerms& terms, TimePoint request_sent, Duration granted,
                                            std::optional<TimePoint> last_ok_issue) {
  if (!last_ok_issue || granted <= Duration(0)) return std::nullopt;
  const TimePoint end = request_sent + std::min(granted, terms.term);
  // Never past the stall bound: the disk lease of the last ok write plus max_storage_stall.
  const TimePoint bound = *last_ok_issue + terms.term + terms.max_storage_stall;
  return std::min(end, bound);
}

bool stop_waits_for_promise(const Timing& timing, bool asking, std::optional<TimePoint> last_ok_issue,
                            std::optional<TimePoint> peer_report_at, std::optional<TimePoint> peer_last_ok_issue,
                            TimePoint now) {
  if (!asking || !last_ok_issue || !peer_report_at || now - *peer_report_at > timing.renew_interval) return false;
  // A peer that never wrote ok (no age) has no later write either.
  return !peer_last_ok_issue || *peer_last_ok_issue < *last_ok_issue + timing.renew_interval + timing.renew_interval / 4;
}

std::optional<const char*> grant_refusal(const PromiseTerms& terms, const GrantInputs& in, TimePoint now) {
  if (terms.term <= Duration(0)) return "promises are off (no LAN channel)";
  if (!in.holds_lease) return "I hold no lease";
  if (!disk_failing(terms, in.last_ok_issue, in.last_write_failed, now)) return "my own disk works (only the peer's path failed)";
  if (!within_storage_stall(terms, in.last_ok_issue, now)) return "the storage stall outlasted max_storage_stall";
  if (in.asker_incarnation == 0 || in.asker_incarnation != in.followed_incarnation)
    return "the asker is not the incarnation I follow on the disk";
  if (in.view != PeerView::up) return "the asker is not UP on the disk";
  return std::nullopt;
}

}  // namespace castor
