#include "svcmgr/service_supervisor.h"

#include <algorithm>

namespace castor {

bool entry_up(OwnershipState s) {
  return s == OwnershipState::claiming || s == OwnershipState::owned || s == OwnershipState::releasing;
}

std::string ServiceSupervisor::orphan_text() const {
  const std::string& name = def.name;
  if (definition_unknown())
    return "orphaned: the definition it runs under is unknown (its file changed while svcmgr was down, no saved "
           "copy); stop it by hand, then `castor reset " + name + "`";
  return "orphaned: definition removed; stop it by hand, then `castor reset " + name + "`";
}

void ServiceSupervisor::mark_orphaned(bool unknown_definition) {
  standing_ = unknown_definition ? Standing::orphaned_definition_unknown : Standing::orphaned;
  stop_reported_ = true;  // nothing trusted to stop it with: never reported stopped
}

bool ServiceSupervisor::clear_orphan() {
  const bool was_unknown = standing_ == Standing::orphaned_definition_unknown;
  standing_ = Standing::managed;
  return was_unknown;
}

void ServiceSupervisor::begin_probe(TimePoint now) {
  if (Status st = runner->probe(now); st.ok()) probing_ = true;
  else runner->stop(now);
}

ServiceRunner::ProbeResult ServiceSupervisor::finish_probe() {
  probing_ = false;
  return runner->probe_result();
}

void ServiceSupervisor::stop(TimePoint now) {
  stop_reported_ = false;
  runner->stop(now);
}

void ServiceSupervisor::start_or_defer(uint64_t epoch, TimePoint now) {
  stop_reported_ = false;
  restarting_ = false;  // a fresh start (Ownership's): a restart in place cut short by a reported stop is over
  if (Status st = runner->start(epoch, now); !st.ok()) pending_start_ = epoch;  // after the stop
}

void ServiceSupervisor::start_after_stop(uint64_t epoch) {
  pending_start_ = epoch;
  stop_reported_ = false;
}

void ServiceSupervisor::restart_in_place(TimePoint now) {
  ++restarts_;
  restarting_ = true;
  stop_reported_ = false;
  runner->stop(now);
}

ServiceSupervisor::StopVerdict ServiceSupervisor::on_runner_stopped(bool may_start, uint64_t ownership_epoch) {
  if (stop_reported_) return {};
  // A restart or a deferred start runs the service again: its next stop is a new one, to be reported (the
  // caller starts the runner itself, and stop_everything stops it straight on the runner).
  if (restarting_ && may_start) {
    restarting_ = false;
    return {AfterStop::restart_in_place, ownership_epoch};
  }
  if (pending_start_ && may_start) {
    const uint64_t epoch = *pending_start_;
    pending_start_.reset();
    return {AfterStop::start_pending, epoch};
  }
  stop_reported_ = true;
  pending_start_.reset();
  return {AfterStop::report_stopped, 0};
}

void ServiceSupervisor::record_failure(const std::string& text, bool hard, TimePoint now) {
  last_failure_ = text;
  last_failure_at_ = now;
  failures_.push_back(now);
  if (hard) hard_failure_ = true;
}

void ServiceSupervisor::note_failure_while_frozen(TimePoint now) {
  last_failure_ = "failed while frozen";
  last_failure_at_ = now;
}

void ServiceSupervisor::reset_failures() {
  failures_.clear();
  hard_failure_ = false;
  last_failure_.clear();
  restarts_ = 0;
}

bool ServiceSupervisor::failed_here(TimePoint now) {
  if (hard_failure_) return true;
  std::erase_if(failures_, [&](TimePoint t) { return now - t > def.restart_window; });
  // recovery = relocate: a failure moves the service to the other node at once (castor-service(5)); this
  // node is not eligible again until the failure leaves the window. (Counting it against max_restarts, as
  // restart does, left a soft failure stopped here and owned, moved nowhere.)
  if (def.recovery == ServiceDefinition::Recovery::relocate) return !failures_.empty();
  return int(failures_.size()) > def.max_restarts;
}

ServiceSupervisor::GroupChanges ServiceSupervisor::track_groups(const std::vector<pid_t>& live) {
  GroupChanges c;
  for (pid_t g : live)
    if (std::find(registered_groups_.begin(), registered_groups_.end(), g) == registered_groups_.end()) c.added.push_back(g);
  for (pid_t g : registered_groups_)
    if (std::find(live.begin(), live.end(), g) == live.end()) c.removed.push_back(g);
  registered_groups_ = live;
  return c;
}

}  // namespace castor
