#include "quorumd/peer_monitor.h"

#include <algorithm>

namespace castor {

PeerMonitor::PeerMonitor(Duration dead_time) : dead_time_(dead_time) {}

std::optional<PeerTransition> PeerMonitor::move_to(PeerView to, std::string reason) {
  if (to == view_) return std::nullopt;
  PeerTransition t{view_, to, incarnation(), std::move(reason)};
  view_ = to;
  return t;
}

bool PeerMonitor::retired(uint64_t incarnation) const {
  // The lives retired when a fence started count too: an adopted snapshot (adopt_fence_subject) is not copied
  // into retired_, where it would push this monitor's own newest entries out at kMaxRetired.
  return std::find(retired_.begin(), retired_.end(), incarnation) != retired_.end() ||
         std::find(fence_retired_.begin(), fence_retired_.end(), incarnation) != fence_retired_.end();
}

void PeerMonitor::retire(uint64_t incarnation) {
  if (retired(incarnation)) return;
  if (retired_.size() >= kMaxRetired) retired_.pop_front();
  retired_.push_back(incarnation);
}

void PeerMonitor::confirm(TimePoint issued) {
  value_confirmed_ = true;
  if (issued > confirmed_read_issued_) confirmed_read_issued_ = issued;
}

void PeerMonitor::fence_started() {
  fence_value_ = value_;
  fence_inc_ = followed_;
  fence_retired_ = retired_;
  fence_seq_cap_.reset();
}

void PeerMonitor::adopt_fence_subject(const FenceSubject& f) {
  fence_value_ = f.value;
  fence_inc_ = f.incarnation;
  fence_retired_ = f.retired;  // retired() counts them
  fence_seq_cap_ = f.seq_cap;
  if (!f.incarnation) return;
  if (f.seq_cap && !f.superseded && (!followed_ || *followed_ == *f.incarnation)) {
    // An admin's confirmation: above the cap that life's records are life (as in the core that took it), below
    // it stale. Followed here from the cap on, not retired.
    if (followed_ != f.incarnation) followed_seq_ = 0;
    followed_ = f.incarnation;
    followed_seq_ = std::max(followed_seq_, *f.seq_cap);
    return;
  }
  retire(*f.incarnation);
}

void PeerMonitor::declare_fenced(TimePoint settle_end, std::string by) {
  fence_from_ = settle_end;
  fence_by_ = std::move(by);
}

std::optional<PeerTransition> PeerMonitor::observe(const PeerObservation& obs) {
  if (obs.read_issued > last_read_issued_) last_read_issued_ = obs.read_issued;
  Value v;
  if (obs.record) {
    v.record = true;
    v.incarnation = obs.record->incarnation;
    v.seq = obs.record->seq;
    // A record of a retired incarnation, or of the followed one with a seq below one already seen (a late
    // write landing after a later one), is stale: it changes the value but proves nothing.
    v.valid = !retired(v.incarnation) && !(followed_ && *followed_ == v.incarnation && v.seq < followed_seq_);
  } else {
    v.raw_hash = obs.raw_hash;
  }

  if (fence_from_ && obs.read_issued >= *fence_from_) {
    // The first read after a confirmed power-off and its settle: the fenced life, or a late write of it, is
    // dead now. A record of a life not seen before the fence may be the node powered on again: no verdict.
    fence_from_.reset();
    const bool retired_before_fence =
        std::find(fence_retired_.begin(), fence_retired_.end(), v.incarnation) != fence_retired_.end();
    // The same bytes (what each monitor made of them, valid or stale, does not matter here).
    const bool same_as_subject = fence_value_ && fence_value_->record == v.record &&
                                 fence_value_->incarnation == v.incarnation && fence_value_->seq == v.seq &&
                                 fence_value_->raw_hash == v.raw_hash;
    const bool fenced_life = same_as_subject ||
                             (v.record && ((fence_inc_ && *fence_inc_ == v.incarnation &&
                                            (!fence_seq_cap_ || v.seq <= *fence_seq_cap_)) ||
                                           // After an admin's word (no device's off) a retired life's record
                                           // may have been written after it: the live life may be one this
                                           // monitor retired on an older life's late write. Only the capped
                                           // life, or the very value seen, counts then.
                                           (retired_before_fence && !fence_seq_cap_)));
    if (fenced_life) {
      if (v.record) retire(v.incarnation);
      if (fence_inc_) retire(*fence_inc_);
      v.valid = false;
      if (!value_ || !(*value_ == v)) {
        if (value_) seen_change_ = true;
        first_seen_ = obs.read_completed;
      }
      value_ = v;
      record_.reset();
      value_is_down_ = false;
      value_fenced_ = true;
      confirm(obs.read_issued);
      auto t = move_to(PeerView::dead, "powered off by a confirmed fence (" + fence_by_ + ")");
      if (t) t->power_fenced = true;
      return t;
    }
  }

  if (!value_ || !(*value_ == v)) {
    const bool first = !value_.has_value();
    // A live incarnation other than the one we follow replaced it: the old one is retired for good, and its
    // late writes will never count again. (A retired one's record replaces nothing: v.valid is false.)
    // A DOWN is taken at once only from the incarnation we already follow (or at our very first read: the
    // peer left before we started). Incarnations are random, not ordered: a record of an incarnation this
    // monitor never saw may be a newer life, or a late write of a life older than this monitor, landing over
    // the live one's records. Its DOWN waits for D like a crash; its other records count as life.
    const bool newly_followed = v.valid && followed_ && *followed_ != v.incarnation;
    if (v.valid) {
      // A later record of the life already followed: that life is seen running.
      const bool running = followed_ && *followed_ == v.incarnation && v.seq > followed_seq_;
      if (followed_ && *followed_ != v.incarnation) {
        retire(*followed_);
        followed_seq_ = 0;
      }
      followed_ = v.incarnation;
      followed_seq_ = std::max(followed_seq_, v.seq);
      // A life seen running says it has a watchdog -- only if it provably ran after the last flagged record
      // read here: it read a write of this core issued after that read completed (its record names this
      // core's incarnation and a later seq). Two records in a row may both be late writes of an older life.
      const bool after_flag = obs.own_incarnation != 0 && obs.record->peer_incarnation == obs.own_incarnation &&
                              obs.record->peer_seq > nowd_own_seq_;
      if (obs.record->flags & HeartbeatRecord::kNoWatchdog) {
        no_watchdog_ = true;
        nowd_only_assumed_ = false;
        nowd_own_seq_ = obs.own_seq;
      } else if (running && after_flag) {
        no_watchdog_ = false;
      }
    }
    value_ = v;
    value_confirmed_ = false;
    value_fenced_ = false;
    // D counts from the completion of the first read that returned this value (at start too: a peer whose
    // block never changes is declared dead a full D after our first read of it).
    first_seen_ = obs.read_completed;
    if (!first) seen_change_ = true;
    record_ = v.valid ? obs.record : std::nullopt;
    value_is_down_ = v.valid && obs.record->state == NodeState::down && !newly_followed;
    if (value_is_down_) {
      confirm(obs.read_issued);  // the read that returned the DOWN record
      return move_to(PeerView::down, "peer wrote DOWN: it left cleanly");
    }
    if (!first && v.valid)
      return move_to(PeerView::up, obs.record->state == NodeState::leaving ? "heartbeat changing (leaving)"
                                   : obs.record->state == NodeState::down  ? "heartbeat changing (DOWN of an incarnation "
                                                                             "not seen before: not taken at once)"
                                                                           : "heartbeat changing");
    // Undecodable, or a stale record (a late write): a change (D starts again, nothing is
    // confirmed), but no sign of life and no DOWN.
    return std::nullopt;
  }

  // Unchanged.
  if (value_fenced_) {
    confirm(obs.read_issued);  // the fenced life's value, read again: its power is still off
    return std::nullopt;
  }
  if (value_is_down_) {
    confirm(obs.read_issued);  // the same DOWN record, read again (the view is DOWN: it moved there with it)
    return std::nullopt;
  }
  // Dead once a read issued at least D after we first read this value still returns it (also from DOWN,
  // once the DOWN record was replaced by a value that then stood still for D) -- unless the life followed has
  // no watchdog: nothing resets it when it hangs, so its silence proves nothing at any age.
  if (!no_dead_time() && obs.read_issued >= std::max(first_seen_, floor_) + dead_time_) {
    confirm(obs.read_issued);
    return move_to(PeerView::dead, "heartbeat unchanged for " + format_duration(obs.read_issued - first_seen_) +
                                       " (dead time " + format_duration(dead_time_) + ")" +
                                       (floor_ > first_seen_ ? ", past the last promise given" : ""));
  }
  return std::nullopt;
}

}  // namespace castor
