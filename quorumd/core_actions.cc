// The daemon's side of the QuorumCore conversation: executes the core's actions (heartbeat writes and
// reads through the HeartbeatIo ledger, stop_services, fence, peer_changed, left) and feeds the core the
// completions of the heartbeat I/O. Every action is logged in one line and pushed to subscribers as an
// event (control/event_codec.h). Must never decide what the core decides (lease, verdicts), never block, and never write DOWN
// while a service may still be up here.
#include <algorithm>
#include <utility>

#include "common/crc32c.h"
#include "common/log.h"
#include "disk/heartbeat_record.h"
#include "quorumd/peer_fingerprint.h"
#include "quorumd/quorum_daemon.h"

namespace castor {
namespace {

int64_t ns(TimePoint t) { return t.time_since_epoch().count(); }
int64_t us(Duration d) { return std::chrono::duration_cast<std::chrono::microseconds>(d).count(); }

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// Heartbeat I/O

void QuorumDaemon::submit_write(const HeartbeatRecord& rec, TimePoint now, std::vector<CoreAction>& out) {
  if (rec.state == NodeState::down && !done_) {
    // DOWN lets the peer take over at once: never while a service may still be up here.
    if (std::string why; !may_write_down(why)) {
      exit_unproven("about to write DOWN, but " + why);
      return;
    }
  }
  HeartbeatRecord r = rec;
  r.wall_time_ns = wall_time_ns();  // display only
  // A stalled path keeps what we submitted: while it holds many timed out, another submission only deepens the queue
  // (and may block in io_submit once the device's queue is full, which would stop the loop and its pets
  // during a stall ridden through on the peer's promise). Report the write failed at once instead.
  Status st = path_holds_too_many(*device_)
                  ? Error(Code::busy, "the quorum disk holds " + std::to_string(device_->held_after_timeout()) +
                                          " of our timed-out I/Os (stalled path): not submitting more")
                  : io_.submit_write(*device_, r, layout_.heartbeat_offset(node_id_), generation_, now,
                               now + superblock_.timing.io_timeout);
  if (!st.ok()) {
    if (auto n = log_allowed(write_error_log_, now))
      log::warning("heartbeat write not submitted", {{"seq", r.seq}, {"error", st.to_string()}, {"suppressed", *n}});
    write_failing_ = true;
    core_->on_write_done(r.seq, now, st, now, out);
  }
}

void QuorumDaemon::fail_read(IoPurpose purpose, const Status& st, TimePoint now, std::vector<CoreAction>& out) {
  io_.back_off(purpose, now + superblock_.timing.renew_interval / 5);
  if (auto n = log_allowed(read_error_log_, now))
    log::warning("heartbeat read failed", {{"block", purpose == IoPurpose::read_own ? "mine" : "peer"},
                                           {"error", st.to_string()},
                                           {"suppressed", *n}});
  Result<HeartbeatRecord> none(st);
  if (purpose == IoPurpose::read_own)
    core_->on_own_read(now, none, st, now, out);
  else
    core_->on_peer_read(now, none, 0, st, now, out);
}

// A read the core asked for while the previous read of its kind had just failed is submitted a little
// later (never in a tight loop against a failing disk).
void QuorumDaemon::submit_read(IoPurpose purpose, TimePoint now, std::vector<CoreAction>& out) {
  if (io_.defer(purpose, now)) return;
  const uint32_t owner = purpose == IoPurpose::read_own ? node_id_ : core_->peer_id();
  Status st = path_holds_too_many(*device_)
                  ? Error(Code::busy, "the quorum disk holds " + std::to_string(device_->held_after_timeout()) +
                                          " of our timed-out I/Os (stalled path): not submitting more")
                  : io_.submit_heartbeat_read(*device_, purpose, layout_.heartbeat_offset(owner), generation_, now,
                                              now + superblock_.timing.io_timeout);
  if (!st.ok()) fail_read(purpose, st, now, out);
}

void QuorumDaemon::handle_completion(const IoCompletion& c, TimePoint now, std::vector<CoreAction>& out) {
  if (table_->on_region_completion(c, *core_, now)) return;
  const std::optional<HeartbeatIo::Pending> taken = io_.take(c.tag);
  if (!taken) {
    log::warning("completion of an I/O quorumd did not submit; ignored", {{"tag", c.tag}});
    return;
  }
  const HeartbeatIo::Pending& p = *taken;
  struct Release {  // the read buffer goes back to the pool whatever happens below
    HeartbeatIo& io;
    int buf;
    ~Release() { io.release(buf); }
  } release{io_, p.buffer};
  if (p.purpose == IoPurpose::table_read) {
    table_->peer_read_done(p, c, *core_);
    return;
  }
  if (p.purpose == IoPurpose::superblock_read) {
    superblock_completion(c);
    return;
  }
  if (p.generation != generation_) return;  // an I/O of a fenced, replaced incarnation

  switch (p.purpose) {
    case IoPurpose::write: on_write_done(p, c, now, out); break;
    case IoPurpose::read_own:
    case IoPurpose::read_peer: {
      if (!c.status.ok()) {
        fail_read(p.purpose, c.status, now, out);
        break;
      }
      const auto block = io_.read_block(p.buffer);
      if (p.purpose == IoPurpose::read_own) {
        core_->on_own_read(p.issued, decode_heartbeat(block, layout_, node_id_, seal_), c.status, now, out);
      } else {
        peer_observed_ = true;
        core_->on_peer_read(p.issued, decode_heartbeat(block, layout_, core_->peer_id(), seal_), crc32c(block), c.status,
                            now, out);
        announce_peer_update(now);
      }
      break;
    }
    case IoPurpose::table_read:
    case IoPurpose::superblock_read:
      break;  // handled above
  }
}

void QuorumDaemon::on_write_done(const HeartbeatIo::Pending& p, const IoCompletion& c, TimePoint now,
                                 std::vector<CoreAction>& out) {
  if (!c.status.ok()) {
    write_failing_ = true;
    if (auto n = log_allowed(write_error_log_, now))
      log::warning("heartbeat write failed",
                   {{"seq", p.heartbeat_seq}, {"error", c.status.to_string()}, {"suppressed", *n}});
  } else if (write_failing_) {
    write_failing_ = false;
    log::notice("heartbeat writes succeed again", {{"seq", p.heartbeat_seq}, {"latency_us", us(now - p.issued)}});
  }
  core_->on_write_done(p.heartbeat_seq, p.issued, c.status, now, out);
  announce_lease(now, p.heartbeat_seq, now - p.issued);
}

void QuorumDaemon::announce_lease(TimePoint now, uint64_t seq, Duration write_latency) {
  auto expiry = core_->lease_expiry();
  // While a stop of services stands, a moved end is no renewal: svcmgr would take it as the risk passed and
  // start its services again (review_stop_wait_test). It hears the end once the risk is over.
  if (expiry && expiry != last_lease_expiry_ && core_->may_act(now) && !core_->stop_requested()) {
    last_lease_expiry_ = expiry;
    if (!lease_acquired_) {
      lease_acquired_ = true;
      log::notice("lease acquired", {{"incarnation", core_->config().incarnation},
                                     {"seq", seq},
                                     {"write_latency_us", us(write_latency)},
                                     {"lease_ms", int64_t(superblock_.timing.lease.count())}});
    }
    // Every renewal — by a heartbeat write, or by the peer's promise during a shared stall: svcmgr times the
    // lease from these events and kills every service when it runs out. Build nothing when nobody listens.
    if (server_->subscriber_count() > 0) {
      QuorumdEvent e = event(QuorumdEventKind::lease_renewed, now);
      e.seq = seq;
      e.lease_expiry_boottime_ns = ns(*expiry);
      emit_event(e);
    }
  }
}

void QuorumDaemon::announce_peer_update(TimePoint now) {
  const PeerMonitor& pm = core_->peer();
  const uint64_t f = peer_fingerprint(pm.view(), pm.incarnation(), pm.record());
  if (f == last_peer_fingerprint_) return;
  last_peer_fingerprint_ = f;
  if (server_->subscriber_count() == 0) return;
  QuorumdEvent e = event(QuorumdEventKind::peer_updated, now);
  e.peer_incarnation = pm.incarnation();
  e.reason = pm.record() && (pm.record()->features & HeartbeatRecord::kPublishesTableGeneration)
                 ? "table generation " + std::to_string(pm.record()->table_generation)
                 : "heartbeat";
  emit_event(e);
}

void QuorumDaemon::update_table_generation() {
  if (device_->held_after_timeout() > 0) ++held_generation_;
  core_->set_table_generation(table_->writer().writes_ended() + held_generation_);
}

// ---------------------------------------------------------------------------------------------------------
// Actions

void QuorumDaemon::execute(std::vector<CoreAction>& actions, TimePoint now) {
  // Handlers may append (a failed submit reports back to the core at once): index, never iterate.
  for (size_t i = 0; i < actions.size(); ++i) {
    const CoreAction a = std::move(actions[i]);
    switch (a.kind) {
      case CoreActionKind::write_heartbeat: submit_write(a.record, now, actions); break;
      case CoreActionKind::read_own: submit_read(IoPurpose::read_own, now, actions); break;
      case CoreActionKind::read_peer: submit_read(IoPurpose::read_peer, now, actions); break;
      case CoreActionKind::stop_services: on_stop_services(a, now, actions); break;
      case CoreActionKind::fence: on_fence(a, now); break;
      case CoreActionKind::peer_changed: {
        const PeerTransition& t = *a.peer;
        log::notice("peer changed", {{"peer", peer_name_},
                                     {"from", peer_view_name(t.from)},
                                     {"to", peer_view_name(t.to)},
                                     {"peer_incarnation", t.incarnation},
                                     {"reason", t.reason}});
        QuorumdEvent e = event(QuorumdEventKind::peer_changed, now);
        e.peer = peer_name_;
        e.from = t.from;
        e.to = t.to;
        e.peer_incarnation = t.incarnation;
        e.reason = t.reason;
        e.power_fenced = t.power_fenced;
        emit_event(e);
        break;
      }
      case CoreActionKind::left: on_left(a, now); break;
    }
  }
  actions.clear();
}

void QuorumDaemon::on_stop_services(const CoreAction& a, TimePoint now, std::vector<CoreAction>& out) {
  if (core_->phase() == CorePhase::leaving_stopping) {
    if (!service_managers_.empty()) {
      // svcmgr stops and releases every service, then says "services-stopped"; only then is DOWN written.
      log::notice("leaving: waiting for the service manager to stop and release every service",
                  {{"reason", a.reason}});
      awaiting_services_stopped_ = true;
      QuorumdEvent e = event(QuorumdEventKind::leaving, now);
      e.reason = a.reason;
      emit_event(e);
      return;
    }
    if (groups_.any_alive()) {
      exit_unproven("leaving with service processes registered but no service manager to stop them");
      return;
    }
    if (std::string why; !may_write_down(why)) {
      exit_unproven("leaving with no service manager connected, and " + why);
      return;
    }
    log::notice("leaving: no service manager is connected and no service process is registered",
                {{"reason", a.reason}});
    core_->services_stopped(now, out);
    return;
  }
  log::warning("lease at risk: services must stop now", {{"reason", a.reason}});
  QuorumdEvent e = event(QuorumdEventKind::lease_at_risk, now);
  e.reason = a.reason;
  if (auto x = core_->lease_expiry()) e.lease_expiry_boottime_ns = ns(*x);
  emit_event(e);
}

void QuorumDaemon::on_fence(const CoreAction& a, TimePoint now) {
  ++fences_;
  last_fence_reason_ = a.reason;
  last_fence_at_ = now;
  log::critical("FENCED: this incarnation may no longer act; killing registered process groups and no longer "
                "petting the watchdog",
                {{"incarnation", core_->config().incarnation}, {"reason", a.reason}});
  for (const auto& k : groups_.kill_all()) {
    if (k.status.ok())
      log::notice("process group killed (SIGKILL)", {{"pgid", int64_t(k.pgid)}});
    else if (k.status.code() == Code::not_found)
      log::info("process group already gone", {{"pgid", int64_t(k.pgid)}});
    else
      log::error("cannot kill process group", {{"pgid", int64_t(k.pgid)}, {"error", k.status.to_string()}});
  }
  QuorumdEvent e = event(QuorumdEventKind::fenced, now);
  e.reason = a.reason;
  e.fences = fences_;
  emit_event(e);

  // Rejoin after a renew interval; an incarnation fenced again soon after joining waits twice as long
  // each time (at most 64 renew intervals), so a persistent conflict does not spin. (Also a life given up
  // because its writes failed on a majority: lives are given up only where reads work and writes fail, and
  // each given-up life shows the peer one landing; the longer the gap, the less often the peer sees it UP.)
  const Duration base = superblock_.timing.renew_interval;
  if (now - core_started_ < Duration(superblock_.timing.dead))
    rejoin_delay_ = std::min<Duration>(std::max<Duration>(base, rejoin_delay_ * 2), base * 64);
  else
    rejoin_delay_ = base;
  rejoin_at_ = now + rejoin_delay_;
  log::notice("will rejoin with a new incarnation", {{"in", format_duration(rejoin_delay_)}});
}

void QuorumDaemon::on_left(const CoreAction& a, TimePoint now) {
  log::notice("left the cluster", {{"incarnation", core_->config().incarnation}, {"reason", a.reason}});
  QuorumdEvent e = event(QuorumdEventKind::left, now);
  e.reason = a.reason;
  emit_event(e);
  const std::string reply = json_text(
      Json{{"ok", true}, {"left", true}, {"incarnation", core_->config().incarnation}, {"message", a.reason}});
  for (auto conn : leave_waiters_) server_->reply(conn, reply);
  leave_waiters_.clear();
  done_ = true;
  exit_code_ = kQuorumdExitLeft;
}

void QuorumDaemon::request_leave(TimePoint now, const std::string& why) {
  leave_requested_ = true;
  const CorePhase ph = core_->phase();
  if (ph == CorePhase::joining || ph == CorePhase::up) {
    log::notice("leaving the cluster: writing LEAVING, then DOWN", {{"why", why}});
    std::vector<CoreAction> acts;
    core_->request_leave(now, acts);
    execute(acts, now);
  } else if (ph == CorePhase::fenced) {
    log::notice("leave requested while fenced: will leave right after rejoining", {{"why", why}});
  }
}

bool QuorumDaemon::may_write_down(std::string& why) const {
  const auto up = table_->store().up_entries();
  if (up.empty()) return true;
  if (bug_down_while_owned_) {
    log::critical("CASTOR_TEST_BUG=down_while_owned: writing DOWN although the service table holds services "
                  "that may be up here",
                  {{"entries", std::to_string(up.size())}});
    return true;
  }
  why = "the service table holds " + std::to_string(up.size()) + " entr" + (up.size() == 1 ? "y" : "ies") +
        " that may be up here: ";
  for (size_t i = 0; i < up.size() && i < 5; ++i) why += (i ? ", " : "") + up[i];
  if (up.size() > 5) why += ", ...";
  return false;
}

}  // namespace castor
