#include "quorumd/quorum_core.h"

#include <algorithm>

namespace castor {

const char* core_phase_name(CorePhase p) {
  switch (p) {
    case CorePhase::joining: return "joining";
    case CorePhase::up: return "up";
    case CorePhase::leaving_stopping: return "leaving";
    case CorePhase::leaving_down: return "leaving";
    case CorePhase::left: return "left";
    case CorePhase::fenced: return "fenced";
  }
  return "?";
}

QuorumCore::QuorumCore(const CoreConfig& config, TimePoint now)
    : config_(config), lease_(config.timing.lease), peer_(config.timing.dead), next_renew_(now), next_read_(now),
      worst_window_start_(now) {
  // A previous life of this node (a fenced core, a quorumd that restarted) may have promised the peer up to
  // P past its last grant, which was before now: the holder's lease ends before now + P. A DEAD verdict needs
  // a read issued D after first_seen (>= now), and D covers a lease F that ended at now; so only what P adds
  // beyond F must be held back (stall_promise.h). With P = F (PromiseTerms::from) that is nothing: a restart
  // with the LAN fails over as fast as one without.
  if (config_.promises) peer_.hold_dead_until(now + restart_hold(*config_.promises, config_.timing));
  if (config_.peer_no_watchdog) peer_.assume_no_watchdog(config_.peer_no_watchdog_only_assumed);
}

NodeState QuorumCore::disk_state() const {
  switch (phase_) {
    case CorePhase::leaving_stopping: return NodeState::leaving;
    case CorePhase::leaving_down:
    case CorePhase::left: return NodeState::down;
    default: return NodeState::up;
  }
}

void QuorumCore::fence(TimePoint, const std::string& reason, std::vector<CoreAction>& out) {
  if (phase_ == CorePhase::fenced || phase_ == CorePhase::left) return;
  lease_.fence();
  phase_ = CorePhase::fenced;
  fence_reason_ = reason;
  out.push_back({CoreActionKind::fence, {}, std::nullopt, reason});
}

void QuorumCore::check_lease(TimePoint now, std::vector<CoreAction>& out) {
  if (phase_ == CorePhase::fenced || phase_ == CorePhase::left) return;
  if (lease_.lapsed(now)) {
    fence(now,
          "lease expired: no heartbeat write succeeded within " + format_duration(config_.timing.lease) +
              (promised_until_ ? " and the peer's last promise ran out" : ""),
          out);
    return;
  }
  stop_wait_until_.reset();
  auto expiry = lease_.expiry();
  if (!expiry) return;
  const TimePoint at_risk = stop_time(*expiry, now);
  if (now < at_risk && now >= *expiry - config_.timing.kill_grace && !stop_requested_) {
    // The stop waits for a likely promise: look again when it is due, or when the peer's report gets too old
    // to wait on (then the stop goes at once). Never a wake-up in the past (a busy loop).
    stop_wait_until_ = std::min(at_risk, *peer_report_at_ + config_.timing.renew_interval + Duration(1));
  }
  if (now >= at_risk && !stop_requested_) {
    stop_requested_ = true;
    out.push_back({CoreActionKind::stop_services, {}, std::nullopt,
                   "lease at risk: no heartbeat write has succeeded for " +
                       format_duration(now - lease_.last_renewal_issue().value_or(now)) + "; lease ends in " +
                       format_duration(*expiry - now)});
  } else if (now < *expiry - config_.timing.kill_grace && stop_requested_ && phase_ == CorePhase::up) {
    stop_requested_ = false;  // renewed in time: the risk is over
  }
}

void QuorumCore::issue_write(TimePoint now, std::vector<CoreAction>& out) {
  HeartbeatRecord r;
  r.cluster_uuid = config_.cluster_uuid;
  r.node_id = config_.node_id;
  r.incarnation = config_.incarnation;
  r.seq = ++seq_;
  r.state = disk_state();
  r.peer_view = peer_.view();
  r.peer_incarnation = peer_.incarnation();
  r.peer_seq = peer_.seq();
  r.last_io_latency_us = uint32_t(std::min<int64_t>(last_latency_.count() / 1000, UINT32_MAX));
  r.max_io_latency_us = uint32_t(std::min<int64_t>(worst_latency_.count() / 1000, UINT32_MAX));
  r.services_digest = config_.services_digest;
  r.flags = uint16_t((config_.standby ? HeartbeatRecord::kStandby : 0) | (config_.no_watchdog ? HeartbeatRecord::kNoWatchdog : 0) |
                     (fence_intent_ ? HeartbeatRecord::kFenceIntent : 0) |
                     (peer_region_damaged_ ? HeartbeatRecord::kPeerRegionDamaged : 0));
  r.set_generation = config_.set_posture.generation;
  r.set_retiring = config_.set_posture.retiring;
  r.set_slot = config_.set_posture.slot;
  // The peer's heartbeat says it handled this life's request: take it down.
  if (const auto& p = peer_.record(); peer_request_ != PeerRequest::none && p &&
                                       p->handled_request_incarnation == config_.incarnation &&
                                       p->handled_request_serial == peer_request_serial_)
    peer_request_ = PeerRequest::none;
  r.features = uint8_t((takes_peer_requests_ ? HeartbeatRecord::kTakesPeerRequests : 0) |
                       HeartbeatRecord::kPublishesStartedMark | HeartbeatRecord::kPublishesTableGeneration);
  r.started_mark = started_mark_;
  r.table_generation = table_generation_;
  r.not_started = not_started_;
  // A node leaving (or down) asks nothing of its peer: the peer must not act on a request of a node going away.
  const bool asking = peer_request_ != PeerRequest::none && r.state == NodeState::up;
  r.peer_request = asking ? peer_request_ : PeerRequest::none;
  r.peer_request_serial = asking ? peer_request_serial_ : 0;
  r.handled_request_incarnation = handled_request_incarnation_;
  r.handled_request_serial = handled_request_serial_;
  if (fence_intent_ && intent_seq_ == 0) intent_seq_ = r.seq;
  if (r.state == NodeState::down) down_seq_ = r.seq;
  write_in_flight_ = true;
  next_renew_ = now + config_.timing.renew_interval;
  out.push_back({CoreActionKind::write_heartbeat, r, std::nullopt, {}});
}

uint64_t QuorumCore::set_peer_request(PeerRequest r) {
  peer_request_ = r;
  peer_request_serial_ = seq_ + 1;  // the next write's sequence number: above every one this life issued
  return peer_request_serial_;
}

void QuorumCore::tick(TimePoint now, std::vector<CoreAction>& out) {
  check_lease(now, out);
  if (phase_ == CorePhase::fenced || phase_ == CorePhase::left) return;
  if (!write_in_flight_ && now >= next_renew_) issue_write(now, out);
  if (now >= next_read_) {
    if (!own_read_in_flight_) {
      own_read_in_flight_ = true;
      out.push_back({CoreActionKind::read_own, {}, std::nullopt, {}});
    }
    if (!peer_read_in_flight_) {
      peer_read_in_flight_ = true;
      out.push_back({CoreActionKind::read_peer, {}, std::nullopt, {}});
    }
    next_read_ = now + config_.timing.renew_interval;
  }
  // The look of a fence intent: a read of the peer issued after the intent is on disk (no timer needed: the
  // write's completion and the read in flight's both end in this tick).
  if (intent_on_disk_ && !fence_look_clear_ && !peer_read_in_flight_) {
    peer_read_in_flight_ = true;
    out.push_back({CoreActionKind::read_peer, {}, std::nullopt, {}});
  }
  // One more read of the peer exactly when it could be declared dead, so detection does not wait for the
  // next periodic read.
  if (auto d = peer_.dead_deadline(); d && now >= *d && !peer_read_in_flight_) {
    peer_read_in_flight_ = true;
    out.push_back({CoreActionKind::read_peer, {}, std::nullopt, {}});
  }
  // And when its silence reaches the suspicion time (power fencing).
  if (auto s = suspicion_deadline(); s && now >= *s && !peer_read_in_flight_) {
    peer_read_in_flight_ = true;
    out.push_back({CoreActionKind::read_peer, {}, std::nullopt, {}});
  }
}

std::optional<Duration> QuorumCore::silence_to_suspect(Duration suspicion, bool for_admin) const {
  if (peer_.value_fenced() || peer_.fence_pending()) return std::nullopt;
  if (peer_.view() == PeerView::up) return suspicion;
  // A peer without a watchdog never seen UP by this core (it started after the peer hung, crashed or was
  // torn: the flag came from an earlier core or quorumd of this node) would never be taken over otherwise --
  // D never declares it dead. Suspected, as Pacemaker's startup fencing fences a node it has not seen, once
  // its value has stood still for D too: a peer that is starting changes it before then.
  // Only when the flag was read, here or by an earlier core or quorumd of this node: a node that merely
  // assumes it (no peer-watchdog file: its first start, or its state directory lost) waits for the peer as
  // corosync's wait_for_all does -- a peer still booting at a staggered first start is not powered off, and
  // one that is off or hung is taken over on the admin's `castor fence NODE --confirm-off`.
  if (peer_.view() == PeerView::unknown && (peer_.no_watchdog_known() || (for_admin && peer_.no_dead_time())))
    return std::max<Duration>(suspicion, config_.timing.dead);
  // Any other peer never seen alive (still booting, or dead since before this core started) is left to D:
  // the first harness run fenced a peer that was still starting.
  return std::nullopt;
}

std::optional<TimePoint> QuorumCore::suspicion_deadline() const {
  if (!suspicion_) return std::nullopt;
  const auto silence = silence_to_suspect(*suspicion_);
  if (!silence) return std::nullopt;
  const TimePoint at = std::max(silence_start(), peer_.dead_floor()) + *silence;  // as peer_silent_for
  if (peer_.last_read_issued() >= at) return std::nullopt;  // read already: the fencer has what it needs
  return at;
}

TimePoint QuorumCore::next_wakeup() const {
  if (phase_ == CorePhase::fenced || phase_ == CorePhase::left) return TimePoint::max();
  TimePoint t = next_read_;
  if (!write_in_flight_) t = std::min(t, next_renew_);
  if (auto e = lease_.expiry()) {
    if (!stop_requested_) t = std::min(t, stop_wait_until_ ? *stop_wait_until_ : *e - config_.timing.kill_grace);
    t = std::min(t, *e);
  }
  if (auto d = peer_.dead_deadline(); d && !peer_read_in_flight_) t = std::min(t, *d);
  if (auto s = suspicion_deadline(); s && !peer_read_in_flight_) t = std::min(t, *s);
  return t;
}

void QuorumCore::on_write_done(uint64_t seq, TimePoint issued, const Status& st, TimePoint now,
                               std::vector<CoreAction>& out) {
  if (seq == seq_) write_in_flight_ = false;
  last_write_failed_ = !st.ok();
  if (st.ok()) last_ok_seq_ = std::max(last_ok_seq_, seq);
  if (st.ok() && fence_intent_ && intent_seq_ != 0 && seq >= intent_seq_ && !intent_on_disk_) intent_on_disk_ = now;
  if (!st.ok()) {
    ok_run_since_.reset();
  } else {
    // The lease's last renewal is the previous ok write (this one renews it below).
    const std::optional<TimePoint> prev_ok = lease_.last_renewal_issue();
    if (!ok_run_since_ || !prev_ok || issued - *prev_ok > disk_terms().failing_after) ok_run_since_ = issued;
  }
  check_lease(now, out);  // a lapsed lease fences before any renewal is considered
  if (phase_ == CorePhase::fenced || phase_ == CorePhase::left) return;
  // A life that never completed a write (joining, or leaving before its first write) whose write failed on a
  // majority outright (io_error: the devices answered, no majority can take it) gives itself up. Not on a
  // timeout or busy: a stalled member holds the write, the next one queues behind it there, and a given-up
  // life could not rejoin before that member answers anyway (review of 4cf5f45, finding 1).
  if (!st.ok() && st.code() == Code::io_error && !first_ok_write_done_ && config_.give_up_failed_join) {
    fence(now, "a heartbeat write of this life, which never completed one, failed on a majority of the quorum "
                   "devices (" + st.to_string() + "): giving this life up, so that its copies on a minority cannot "
                   "keep it alive in the peer's eyes; rejoining with a new life",
          out);
    return;
  }
  if (st.ok()) {
    lease_.renewed(issued, now);
    last_latency_ = now - issued;
    latency_histogram_.observe(last_latency_);
    if (now - worst_window_start_ > std::chrono::seconds(60)) {
      worst_window_start_ = now;
      worst_latency_ = Duration(0);
    }
    worst_latency_ = std::max(worst_latency_, last_latency_);
    if (!first_ok_write_done_) first_ok_write_done_ = now;
    if (phase_ == CorePhase::joining) phase_ = CorePhase::up;
    if (phase_ == CorePhase::leaving_down && seq == down_seq_) {
      phase_ = CorePhase::left;
      out.push_back({CoreActionKind::left, {}, std::nullopt, "DOWN written: left the cluster cleanly"});
      return;
    }
  }
  tick(now, out);
}

void QuorumCore::on_own_read(TimePoint issued, const Result<HeartbeatRecord>& record, const Status& io, TimePoint now,
                             std::vector<CoreAction>& out) {
  own_read_in_flight_ = false;
  check_lease(now, out);
  if (phase_ == CorePhase::fenced || phase_ == CorePhase::left) return;
  if (io.ok() && record.ok()) {
    const HeartbeatRecord& r = *record;
    // Before our first write lands the block may still hold a previous incarnation's record; once one of our
    // writes completed ok before this read was issued, only our own records may be there.
    const bool ours_expected = first_ok_write_done_ && issued > *first_ok_write_done_;
    if (!(r.cluster_uuid == config_.cluster_uuid) && ours_expected) {
      fence(now, "my heartbeat block holds a record of another cluster (UUID " + r.cluster_uuid.to_string() + ")", out);
      return;
    }
    if (r.incarnation != config_.incarnation && ours_expected) {
      fence(now, "another writer on my heartbeat block: incarnation " + std::to_string(r.incarnation) +
                     " (mine is " + std::to_string(config_.incarnation) +
                     "): another node configured with my id, or a stale incarnation",
            out);
      return;
    }
    if (r.incarnation == config_.incarnation && r.seq > seq_) {
      fence(now, "my heartbeat block holds seq " + std::to_string(r.seq) + " of my incarnation, but I wrote only up to " +
                     std::to_string(seq_),
            out);
      return;
    }
  }
  tick(now, out);
}

void QuorumCore::on_peer_read(TimePoint issued, const Result<HeartbeatRecord>& record, uint32_t raw_hash,
                              const Status& io, TimePoint now, std::vector<CoreAction>& out) {
  peer_read_in_flight_ = false;
  check_lease(now, out);
  if (phase_ == CorePhase::fenced || phase_ == CorePhase::left) return;
  if (io.ok() && intent_on_disk_ && !fence_look_clear_ && issued >= *intent_on_disk_) {
    // Not only against this life: the peer's round powers this machine off whatever life it named.
    const bool peer_intends = record.ok() && record->cluster_uuid == config_.cluster_uuid &&
                              (record->flags & HeartbeatRecord::kFenceIntent) != 0;
    fence_look_clear_ = !peer_intends;
  }
  if (io.ok()) {
    PeerObservation obs{issued, now, std::nullopt, raw_hash};
    obs.own_incarnation = config_.incarnation;
    obs.own_seq = seq_;
    if (record.ok() && record->cluster_uuid == config_.cluster_uuid) obs.record = *record;
    if (auto t = peer_.observe(obs)) out.push_back({CoreActionKind::peer_changed, {}, t, t->reason});
    if (obs.record && obs.record->peer_view == PeerView::dead && obs.record->peer_incarnation == config_.incarnation) {
      fence(now, "the peer declared me dead (incarnation " + std::to_string(config_.incarnation) + ")", out);
      return;
    }
  }
  tick(now, out);
}

void QuorumCore::set_fence_intent(bool on, TimePoint now) {
  if (on == fence_intent_) return;
  fence_intent_ = on;
  intent_seq_ = 0;
  intent_on_disk_.reset();
  fence_look_clear_.reset();
  next_renew_ = now;  // published at once (or right after the write in flight)
}

bool QuorumCore::peer_silent_for(Duration suspicion, bool for_admin) const {
  const auto due = suspicion_due(suspicion, for_admin);
  return due && peer_.last_read_issued() >= *due;
}

std::optional<TimePoint> QuorumCore::suspicion_due(Duration suspicion, bool for_admin) const {
  const auto silence = silence_to_suspect(suspicion, for_admin);  // a peer seen UP; or one without a watchdog, after D
  if (!silence) return std::nullopt;
  if (peer_.last_read_issued() == TimePoint{}) return std::nullopt;  // never read
  const TimePoint from = silence_start();
  if (!ok_run_since_ || *ok_run_since_ > from) return std::nullopt;  // my disk did not work throughout
  // Never inside a promise this node gave (stall_promise.h): the peer may hold a lease it extended; after the
  // floor that lease has lapsed, and the silence counts from there.
  return std::max(from, peer_.dead_floor()) + *silence;
}

TimePoint QuorumCore::silence_start() const {
  TimePoint from = peer_.first_seen();
  // The peer's datagram came after its write had completed: that write was on the disk then. It says nothing
  // of a value it does not name (a later write not read yet, a torn block, another life).
  const auto& rec = peer_.record();
  if (rec && peer_lan_write_ && peer_lan_write_->incarnation == rec->incarnation && peer_lan_write_->seq == rec->seq)
    from = std::min(from, peer_lan_write_->first_heard);
  return from;
}

PromiseTerms QuorumCore::disk_terms() const {
  return config_.promises ? *config_.promises : PromiseTerms::from(config_.timing, Duration(0));
}

bool QuorumCore::disk_failing(TimePoint now) const {
  return castor::disk_failing(disk_terms(), lease_.last_renewal_issue(), last_write_failed_, now);
}

bool QuorumCore::wants_promise(TimePoint now) const {
  if (!config_.promises || phase_ != CorePhase::up || !lease_.valid(now)) return false;
  return castor::disk_failing(*config_.promises, lease_.last_renewal_issue(), last_write_failed_, now) &&
         within_storage_stall(*config_.promises, lease_.last_renewal_issue(), now);
}

std::optional<Duration> QuorumCore::grant_promise(uint64_t asker, TimePoint now, const char** why,
                                                  std::optional<TimePoint> arrived) {
  const TimePoint at = arrived ? std::max(now, *arrived) : now;
  const char* refusal = "promises are off (no LAN channel)";
  if (config_.promises) {
    GrantInputs in;
    in.holds_lease = phase_ == CorePhase::up && lease_.valid(now) && lease_.valid(at);
    in.last_ok_issue = lease_.last_renewal_issue();
    in.last_write_failed = last_write_failed_;
    in.asker_incarnation = asker;
    in.followed_incarnation = peer_.incarnation();
    in.view = peer_.view();
    auto r = grant_refusal(*config_.promises, in, now);
    if (!r) {
      // The floor first: the grant must never leave before this node is bound by it.
      peer_.hold_dead_until(at + config_.promises->term);
      ++promises_granted_;
      return config_.promises->term;
    }
    refusal = *r;
  }
  if (why) *why = refusal;
  return std::nullopt;
}

TimePoint QuorumCore::stop_time(TimePoint expiry, TimePoint now) const {
  const bool waits = config_.promises &&
                     stop_waits_for_promise(*config_.promises, config_.timing, wants_promise(now),
                                            lease_.last_renewal_issue(), peer_report_at_, peer_last_ok_issue_,
                                            peer_sees_me_up_, now);
  return expiry - (waits ? config_.timing.kill_grace / 2 : config_.timing.kill_grace);
}

void QuorumCore::on_peer_write_heard(uint64_t peer_incarnation, uint64_t peer_ok_seq, TimePoint heard) {
  if (peer_ok_seq != 0 && (!peer_lan_write_ || peer_lan_write_->incarnation != peer_incarnation ||
                           peer_lan_write_->seq != peer_ok_seq))
    peer_lan_write_ = PeerLanWrite{peer_incarnation, peer_ok_seq, heard};
}

void QuorumCore::on_peer_disk_report(std::optional<Duration> peer_disk_age, bool peer_sees_me_up, TimePoint now) {
  peer_report_at_ = now;
  peer_sees_me_up_ = peer_sees_me_up;
  if (peer_disk_age) peer_last_ok_issue_ = now - *peer_disk_age;
  else peer_last_ok_issue_.reset();
}

bool QuorumCore::on_promise(TimePoint request_sent, Duration granted, TimePoint now, std::vector<CoreAction>& out) {
  check_lease(now, out);  // a lapsed lease fences before any promise is considered
  if (!config_.promises || phase_ != CorePhase::up) return false;
  auto end = promised_lease_end(*config_.promises, request_sent, granted, lease_.last_renewal_issue());
  if (!end || !lease_.extend_to(*end, now)) return false;
  ++promises_received_;
  promised_until_ = promised_until_ ? std::max(*promised_until_, *end) : *end;
  check_lease(now, out);  // clears the risk when the promise moved the end far enough
  if (stop_requested_ && phase_ == CorePhase::up) {
    // The end moved but stays within G: the risk stands. Say so again with the new end (the daemon announces
    // no renewal while the stop stands, so svcmgr never took this for the risk passing).
    out.push_back({CoreActionKind::stop_services, {}, std::nullopt,
                   "lease still at risk after the peer's promise; lease ends in " +
                       format_duration(*lease_.expiry() - now)});
  }
  return true;
}

void QuorumCore::request_leave(TimePoint now, std::vector<CoreAction>& out) {
  if (phase_ != CorePhase::joining && phase_ != CorePhase::up) return;
  phase_ = CorePhase::leaving_stopping;
  out.push_back({CoreActionKind::stop_services, {}, std::nullopt, "leaving the cluster"});
  next_renew_ = now;  // publish LEAVING at once
  tick(now, out);
}

void QuorumCore::services_stopped(TimePoint now, std::vector<CoreAction>& out) {
  if (phase_ != CorePhase::leaving_stopping) return;
  phase_ = CorePhase::leaving_down;
  next_renew_ = now;  // write DOWN at once (or right after the write in flight)
  tick(now, out);
}

}  // namespace castor
