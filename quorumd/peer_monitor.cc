#include "quorumd/peer_monitor.h"

namespace castor {

PeerMonitor::PeerMonitor(Duration dead_time) : dead_time_(dead_time) {}

std::optional<PeerTransition> PeerMonitor::move_to(PeerView to, std::string reason) {
  if (to == view_) return std::nullopt;
  PeerTransition t{view_, to, incarnation(), std::move(reason)};
  view_ = to;
  return t;
}

std::optional<PeerTransition> PeerMonitor::observe(const PeerObservation& obs) {
  if (obs.read_issued > last_read_issued_) last_read_issued_ = obs.read_issued;
  Value v;
  if (obs.record) {
    v.valid = true;
    v.incarnation = obs.record->incarnation;
    v.seq = obs.record->seq;
  } else {
    v.raw_hash = obs.raw_hash;
  }

  if (!value_ || !(*value_ == v)) {
    const bool first = !value_.has_value();
    if (value_ && value_->valid && v.valid && value_->incarnation != v.incarnation)
      retired_incarnation_ = value_->incarnation;
    value_ = v;
    // D counts from the completion of the first read that returned this value (at start too: a peer whose
    // block never changes is declared dead a full D after our first read of it).
    first_seen_ = obs.read_completed;
    if (!first) seen_change_ = true;
    record_ = obs.record;
    if (obs.record && obs.record->state == NodeState::down && obs.record->incarnation != retired_incarnation_)
      return move_to(PeerView::down, "peer wrote DOWN: it left cleanly");
    if (!first && obs.record && obs.record->incarnation != retired_incarnation_)
      return move_to(PeerView::up, obs.record->state == NodeState::leaving ? "heartbeat changing (leaving)"
                                                                           : "heartbeat changing");
    return std::nullopt;
  }

  // Unchanged. Dead once a read issued at least D after we first read this value still returns it.
  if (view_ != PeerView::dead && view_ != PeerView::down && obs.read_issued >= first_seen_ + dead_time_)
    return move_to(PeerView::dead, "heartbeat unchanged for " + format_duration(obs.read_issued - first_seen_) +
                                       " (dead time " + format_duration(dead_time_) + ")");
  return std::nullopt;
}

}  // namespace castor
