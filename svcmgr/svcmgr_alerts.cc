// SvcmgrDaemon, the alerts (issue 20): what svcmgr reports to the [alert NAME] programs, and when. Each
// node reports what it sees or does itself, so that no event is reported twice by the pair:
//   - a service's start, stop and failure by the node whose agents ran them (its runner's state changes),
//     its recovery (a restart in place) and its arrival here from the peer (relocated: a move or a takeover)
//     by the node that now runs it;
//   - the peer's verdicts (up, down, dead; power-fenced) by the node that judged it, from quorumd's events
//     (or, for a view this svcmgr was never told of by an event, as it first learns it);
//   - this node's lease at risk, and the definitions differing from the peer's, by this node.
// A node that fences itself exits at once (its watchdog resets it): its peer reports it dead.
// Must never delay anything it reports: it only queues (AlertDispatcher runs the programs, bounded).
#include <thread>

#include "common/log.h"
#include "svcmgr/svcmgr_daemon.h"

namespace castor {

void SvcmgrDaemon::alert(AlertEvent e) {
  if (!reporting()) return;
  e.wall_ns = wall_time_ns();
  if (e.node.empty()) e.node = node_name_;
  if (e.node_id == 0 && e.node == node_name_) e.node_id = node_id_;
  if (e.node_id == 0 && e.node == peer_name_) e.node_id = peer_id_;
  record(e, alert_kind_name(e.kind));
  if (alerts_ && alerts_->alerts() > 0) alerts_->post(e);
}

void SvcmgrDaemon::record(const AlertEvent& e, const std::string& kind) {
  HistoryRecord r;
  r.wall_ns = e.wall_ns ? e.wall_ns : wall_time_ns();
  r.node = node_name_;
  r.event = e.event;
  r.kind = kind;
  r.service = e.service;
  r.epoch = e.epoch;
  r.subject = e.node == node_name_ ? "" : e.node;
  r.desc = e.desc;
  if (!e.attribute.empty()) r.desc = e.attribute + " " + e.value + (e.desc.empty() ? "" : ": " + e.desc);
  r.reason = e.reason;
  // Bounded: a record is a line of the history, not a copy of whatever a client sent (an operator's
  // request of 64 KiB would otherwise rotate the history away in a few dozen requests).
  for (std::string* t : {&r.desc, &r.reason})
    if (t->size() > kMaxRecordText) *t = t->substr(0, kMaxRecordText) + "...";
  recent_history_.push_back(encode_history_record(r));
  if (recent_history_.size() > kRecentHistory) recent_history_.pop_front();
  if (history_) history_->append(r);
}

void SvcmgrDaemon::alert_peer_changed(PeerView to, bool power_fenced, const std::string& reason) {
  // An event during svcmgr's start-up exchanges (before it knows its peer's name and made its reporters):
  // left to observe_for_alerts(), which reports the view once they exist.
  if (!reporting() || peer_name_.empty()) return;
  if (to == alert_peer_view_ && !power_fenced) return;  // reported already
  alert_peer_view_ = to;
  AlertEvent e;
  e.kind = AlertKind::node;
  e.node = peer_name_;
  e.reason = reason;
  switch (to) {
    case PeerView::up: e.event = "node_up"; e.desc = "member"; break;
    case PeerView::down: e.event = "node_down"; e.desc = "lost"; break;
    case PeerView::dead: e.event = "node_dead"; e.desc = "lost"; break;
    case PeerView::unknown: return;
  }
  alert(e);
  if (power_fenced) {
    AlertEvent f;
    f.kind = AlertKind::fencing;
    f.event = "peer_power_fenced";
    f.node = peer_name_;
    f.task = "off";
    f.rc = 0;
    f.desc = "Operation off of " + peer_name_ + " by " + node_name_ + ": OK";
    f.reason = reason;
    alert(f);
  }
}

void SvcmgrDaemon::observe_for_alerts() {
  if (!reporting()) return;
  // A view quorumd's events did not announce to this svcmgr (the peer was up before it subscribed; a table
  // read's summary): reported once, as the node sees it now.
  if (liveness_.view != alert_peer_view_)
    alert_peer_changed(liveness_.view, false, "as quorumd reports the peer to this svcmgr");
  for (auto it = alert_seen_.begin(); it != alert_seen_.end();)
    it = services_.count(it->first) ? std::next(it) : alert_seen_.erase(it);
  for (auto& [service_name, service] : services_) {
    // Plain references: a lambda may not capture a structured binding (clang, C++20).
    const std::string& name = service_name;
    Service& s = service;
    auto [seen_it, first_look] = alert_seen_.try_emplace(name);
    AlertSeen& seen = seen_it->second;
    // A service seen for the first time (svcmgr started, or a new file): its entry's epoch is no claim of now.
    if (first_look) seen.epoch = s.own->mine().epoch;
    auto resource = [&](const char* event, const char* task, int rc, std::string desc, std::string reason) {
      AlertEvent e;
      e.kind = AlertKind::resource;
      e.event = event;
      e.service = name;
      e.task = task;
      e.rc = rc;
      e.desc = std::move(desc);
      e.reason = std::move(reason);
      e.epoch = s.runner->epoch();
      alert(e);
    };
    // The runner's counts, not its state: a monitor failure and the restart it brings can pass through
    // failed, stopping, stopped and starting within one pass of the loop.
    const ServiceRunner::Counts& c = s.runner->counts();
    if (c.starts < seen.counts.starts || c.stops < seen.counts.stops || c.failures < seen.counts.failures)
      seen.counts = c;  // a new runner (a changed definition applied): counted from its own start
    bool recovering = s.restarting() && !seen.restarting;
    if (c.failures > seen.counts.failures) {
      const auto& f = s.runner->last_failure();
      if (f && f->action != "probe") {
        // Restarted in place within this pass (the flag already down again) is a recovery too.
        recovering = recovering || s.restarting() || c.starts > seen.counts.starts;
        const bool not_running = f->text.find("not running") != std::string::npos;
        const std::string task = f->action == "start" || f->action == "stop" ? f->action : "monitor";
        resource("service_failed", task.c_str(), not_running ? 7 : 1, not_running ? "not running" : "error",
                 f->resource.empty() ? f->text : f->resource + " " + f->action + ": " + f->text);
      }
    }
    if (recovering) resource("service_recovering", "start", 0, "recovering", s.last_failure());
    if (c.stops > seen.counts.stops) resource("service_stopped", "stop", 0, "OK", "");
    if (c.starts > seen.counts.starts) resource("service_started", "start", 0, "OK", "");
    seen.counts = c;
    seen.restarting = s.restarting();
    // A claim: my entry got a new epoch (the fencing token this node's run of the service carries).
    if (s.own->mine().epoch > seen.epoch) {
      if (s.own->mine().state == OwnershipState::owned) {
        AlertEvent e;
        e.event = "service_claimed";
        e.service = name;
        e.epoch = s.own->mine().epoch;
        e.desc = "owned here with a new epoch";
        e.reason = s.last_placement;
        record(e, "resource");
      }
      seen.epoch = s.own->mine().epoch;
    }
    const std::string owner = owner_of(s);
    if (!owner.empty()) {
      if (owner == node_name_ && seen.last_owner == peer_name_) {
        AlertEvent e;
        e.kind = AlertKind::resource;
        e.event = "service_relocated";
        e.service = name;
        e.task = "start";
        e.desc = "relocated from " + peer_name_;  // the sample agents print it: not another "OK"
        e.epoch = s.own->epoch();
        e.reason = "from " + peer_name_ + " (peer " + peer_view_name(liveness_.view) + ")";
        alert(e);
      }
      seen.last_owner = owner;
    }
  }
  const bool match = liveness_.view != PeerView::up || !peer_digest_known_ || peer_digest_ == digest_;
  if (match != alert_definitions_match_) {
    alert_definitions_match_ = match;
    AlertEvent e;
    e.kind = AlertKind::quorum;
    e.event = match ? "definitions_match" : "definitions_differ";
    e.attribute = "castor-definitions";
    e.value = match ? "match" : "differ";
    e.desc = match ? "the service definitions match the peer's again" : "the service definitions differ from the peer's";
    alert(e);
  }
}

void SvcmgrDaemon::finish_alerts(Duration limit) {
  if (!alerts_ || alerts_->idle()) return;
  // Real time (the alert programs are real processes), counted in steps: bounded whatever the daemon's clock.
  const BootClock real;
  constexpr Duration kStep = std::chrono::milliseconds(20);
  for (int64_t i = 0; i < limit / kStep && !alerts_->idle(); ++i) {
    for (int fd : alerts_->fds()) alerts_->on_ready(fd);
    alerts_->poll(real.now());
    if (!alerts_->idle()) std::this_thread::sleep_for(kStep);
  }
  if (!alerts_->idle()) log::warning("svcmgr exits with alerts still running: they are killed", {});
}

}  // namespace castor
