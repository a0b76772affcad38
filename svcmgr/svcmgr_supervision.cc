// SvcmgrDaemon, supervision: applies placement and Ownership to each ServiceSupervisor — what the cluster's
// latest word and this node's state say (evaluate), the steps Ownership asks for (drive: write my entry,
// start, stop), what a runner's new state means (after_runner: report a stop, restart in place, recover,
// fence on a failed stop), and stopping everything (lease at risk, leaving).
// Must never start a service Ownership did not allow, never leave a failed stop unfenced, never block.
#include <utility>

#include "common/log.h"
#include "svcmgr/admin_state.h"
#include "policy/placement_policy.h"
#include "svcmgr/svcmgr_daemon.h"

namespace castor {

void SvcmgrDaemon::stop_everything(const std::string& why, TimePoint now) {
  if (!stopping_all_) log::warning("stopping every service", {{"reason", why}});
  stopping_all_ = true;
  for (auto& [name, s] : services_) {
    if (s.orphaned()) continue;  // nothing trusted to stop it with; its entry stays up (leaving handles it)
    if (s.adopt_pending) continue;  // its definition is not known to be the one it runs under (yet)
    if (s.runner->state() != ServiceRunner::State::stopped && s.runner->state() != ServiceRunner::State::stopping)
      s.stop(now);  // (the supervisor's stop: this stop is reported to Ownership, which then releases)
    s.own->set_intent(Intent::release, 0);
  }
}


void SvcmgrDaemon::evaluate(Service& s, TimePoint now) {
  if (!settled_ || stopping_all_) return;
  if (s.metadata_pending) return;  // not placed before its timings are known (on_metadata_read)
  // A local relocation request is done once we let go: our entry now says "released to the target",
  // and the disk carries the request from here on.
  if (s.relocate_to && !s.own->holding()) s.relocate_to.reset();
  // Likewise a local disable, once my entry says so on the disk: from then on the disk carries it (and a
  // later enable from either node undoes it).
  if (s.disable_requested && s.own->phase() == OwnershipPhase::idle && s.own->mine().state == OwnershipState::disabled &&
      s.own->write_token() == 0)
    s.disable_requested = false;
  if (removed_.count(s.def.name)) {  // its file is gone: release it here (after its stop), never claim it
    s.own->set_intent(Intent::release, 0);
    drive(s, now);
    return;
  }
  const AdminState admin = admin_state(s.own->mine(), s.peer_entry, node_id_, s.def.autostart);
  // Admin words that travel in the entries' flags: frozen (latest entry wins) and restart requests.
  const bool token_idle = s.own->write_token() == 0;
  if (s.freeze_request && token_idle && admin.latest_writer == node_id_ &&
      ((s.own->mine().flags & ServiceEntry::kFrozen) != 0) == *s.freeze_request)
    s.freeze_request.reset();  // on the disk now
  if (s.restart_request && token_idle && (s.own->mine().flags & ServiceEntry::kRestartRequest) != 0)
    s.restart_request = false;  // written: later writes drop the bit
  const bool frozen = s.freeze_request ? *s.freeze_request : admin.frozen;
  s.own->set_flags(uint16_t((frozen ? ServiceEntry::kFrozen : 0) | (s.restart_request ? ServiceEntry::kRestartRequest : 0)));
  if (admin.restart_request && admin.latest_writer == peer_id_ && admin.restart_request > s.last_restart_handled &&
      s.own->may_run() && s.runner->state() == ServiceRunner::State::started && !s.restarting()) {
    s.last_restart_handled = admin.restart_request;
    log::notice("restart requested by the peer (through the disk)", {{"service", s.def.name}});
    s.restart_in_place(now);
    s.own->refresh();  // answer with a newer entry, which consumes the request
  }
  PlacementFacts f;
  f.def = &s.def;
  f.me = node_name_;
  f.peer = peer_name_;
  f.me_id = node_id_;
  f.peer_id = peer_id_;
  f.peer_view = liveness_.view;
  f.me_standby = me_standby_;
  f.peer_standby = peer_standby_;
  f.running_here = s.own->holding();
  f.running_on_peer = s.own->peer_up();
  f.enabled = admin.enabled && !s.disable_requested;
  f.frozen = frozen;
  f.failed_here = s.failed_here(now);
  // Moves need both nodes to hold the same definitions (a peer that is gone cannot disagree).
  f.definitions_match = liveness_.view != PeerView::up || !peer_digest_known_ || peer_digest_ == digest_;
  if (s.relocate_to) f.relocate_to = *s.relocate_to == node_id_ ? node_name_ : peer_name_;
  else if (admin.requested_node) f.relocate_to = admin.requested_node == node_id_ ? node_name_ : peer_name_;
  PlacementDecision d = decide_placement(f);
  if (d.reason != s.last_placement) {
    s.last_placement = d.reason;
    log::info("placement: " + d.reason, {{"service", s.def.name}, {"target", std::to_string(d.target)}});
  }
  s.own->set_intent(d.intent, d.target);
  drive(s, now);
}

void SvcmgrDaemon::drive(Service& s, TimePoint now) {
  for (int guard = 0; guard < 8; ++guard) {
    OwnershipStep step = s.own->step(now);
    if (step.write) {
      ServiceEntry e = *step.write;
      e.definition_digest = definition_digest(s.def);
      log::info("service entry: " + std::string(ownership_state_name(e.state)),
                {{"service", s.def.name}, {"epoch", std::to_string(e.epoch)}, {"reason", step.why}});
      submit_entry(s, e, s.own->write_token());
      return;  // the reply continues the drive
    }
    if (step.start) {
      log::notice("starting service", {{"service", s.def.name}, {"epoch", std::to_string(step.epoch)}, {"reason", step.why}});
      s.start_or_defer(step.epoch, now);  // a runner still stopping starts after its stop
      continue;
    }
    if (step.stop) {
      log::notice("stopping service", {{"service", s.def.name}, {"epoch", std::to_string(step.epoch)}, {"reason", step.why}});
      s.stop(now);
      continue;
    }
    return;
  }
}

void SvcmgrDaemon::after_runner(Service& s, TimePoint now) {
  using St = ServiceRunner::State;
  // Register/unregister the process groups agents left running, so a fence kills them.
  const ServiceSupervisor::GroupChanges groups = s.track_groups(s.runner->live_process_groups());
  for (pid_t g : groups.added) link_->request("register-pgid " + std::to_string(g), [](const Result<std::string>&) {});
  for (pid_t g : groups.removed) link_->request("unregister-pgid " + std::to_string(g), [](const Result<std::string>&) {});

  switch (s.runner->state()) {
    case St::stopped:
      if (s.probing() || !s.runner->idle()) break;  // a start-up probe in flight: not known stopped yet
      // Its timings (and, adopting, whether it runs here under this definition) are not known yet: nothing
      // is reported to Ownership, which would write my entry (released) with a digest that lacks them.
      if (s.metadata_pending) break;
      if (s.replace_with) break;  // stopped under the saved copy: run() applies the file's definition first
      switch (const auto v = s.on_runner_stopped(s.own->may_run() && !stopping_all_, s.own->epoch()); v.what) {
        case ServiceSupervisor::AfterStop::nothing:
          break;
        case ServiceSupervisor::AfterStop::restart_in_place:
          log::notice("restarting service in place", {{"service", s.def.name}, {"epoch", std::to_string(v.start_epoch)}});
          if (Status st = s.runner->start(v.start_epoch, now); !st.ok())
            log::error("cannot restart", {{"service", s.def.name}, {"reason", st.to_string()}});
          return;
        case ServiceSupervisor::AfterStop::start_pending:
          if (Status st = s.runner->start(v.start_epoch, now); !st.ok())
            log::error("cannot start", {{"service", s.def.name}, {"reason", st.to_string()}});
          return;
        case ServiceSupervisor::AfterStop::report_stopped:
          s.own->on_stopped();
          drive(s, now);
          break;
      }
      break;
    case St::failed: {
      if (s.restarting()) break;
      if (admin_state(s.own->mine(), s.peer_entry, node_id_, s.def.autostart).frozen || (s.freeze_request && *s.freeze_request)) {
        if (s.last_failure().empty() || now - s.last_failure_at() > std::chrono::seconds(10))
          log::warning("service failed while frozen: no recovery", {{"service", s.def.name}});
        s.note_failure_while_frozen(now);
        break;
      }
      const auto& f = s.runner->last_failure();
      s.record_failure(f ? f->resource + " " + f->action + ": " + f->text : "failed",
                       f && (f->severity == Severity::hard || f->severity == Severity::fatal), now);
      log::error("service failed", {{"service", s.def.name}, {"epoch", std::to_string(s.own->epoch())}, {"reason", s.last_failure()}});
      if (s.def.recovery == ServiceDefinition::Recovery::disable) {
        s.disable_requested = true;
        evaluate(s, now);
      } else if (s.def.recovery == ServiceDefinition::Recovery::restart && !s.failed_here(now)) {
        s.restart_in_place(now);
      } else {
        evaluate(s, now);  // failed here: placement moves it (or stops it)
        if (s.own->phase() == OwnershipPhase::running && s.runner->state() == St::failed) {
          s.stop(now);  // nowhere else to go: do not leave it half-started
        }
      }
      break;
    }
    case St::stop_failed:
      log::critical("a stop failed: fencing this node", {{"service", s.def.name}});
      link_->request("fence stop of " + s.def.name + " failed", [](const Result<std::string>&) {});
      break;
    default:
      break;
  }
}

}  // namespace castor
