// SvcmgrDaemon, the loop: settles the start-up probes, watches the lease, waits for the admin socket,
// quorumd, the agents and the signals (TERM/INT: stop everything and leave; HUP: reload), applies reloaded
// definitions once a service is idle, and leaves.
// Must never block beyond its wait, never let a service outlive a lease it cannot prove, and never tell
// quorumd "every service stopped" while an orphaned service may still run here.
#include <pthread.h>
#include <sys/epoll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common/errno_status.h"
#include "common/log.h"
#include "svcmgr/svcmgr_daemon.h"
#include "svcmgr/svcmgr_exit.h"

namespace castor {

sigset_t svcmgr_signals() {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  return mask;
}

int SvcmgrDaemon::run() {
  if (Status st = prepare_loop(); !st.ok()) {
    log::critical("svcmgr cannot run its event loop", {{"reason", st.to_string()}});
    return kSvcmgrExitStartup;
  }
  for (;;)
    if (std::optional<int> rc = run_once()) {
      // A clean leave (every service stopped and released): the alerts of those stops still get to run,
      // for a bounded time. Not after a fence or a lost lease: those exits must not wait for anything.
      if (*rc == kSvcmgrExitStopped) finish_alerts(kAlertsAtExit);
      return *rc;
    }
}

Status SvcmgrDaemon::prepare_loop() {
  const sigset_t mask = svcmgr_signals();
  // Already blocked by main(); harmless if run() is used alone (a test).
  if (int e = pthread_sigmask(SIG_BLOCK, &mask, nullptr); e != 0) return errno_status("pthread_sigmask", "SIG_BLOCK", e);
  ASSIGN_OR_RETURN(EventLoop loop, EventLoop::create(mask));
  loop_.emplace(std::move(loop));
  return register_loop_fds();
}

Status SvcmgrDaemon::register_loop_fds() {
  // The admin server and quorumd's connections stay the same descriptors for the daemon's life (a closed
  // one leaves the epoll set by itself; the loop then exits on !connected()). poll() watched them every
  // pass whatever happened; a descriptor epoll refuses (ENOMEM, ENOSPC: max_user_watches) would leave
  // quorumd's lease-at-risk and fence events unread until some other wake-up, so svcmgr does not start.
  if (server_)
    if (Status st = loop_->add_fd(server_->fd(), EPOLLIN, kKeyAdmin); !st.ok())
      return st.with_context("watching the admin socket");
  if (link_->event_fd() >= 0)
    if (Status st = loop_->add_fd(link_->event_fd(), EPOLLIN, kKeyQuorumdEvents); !st.ok())
      return st.with_context("watching quorumd's events");
  if (link_->request_fd() >= 0)
    if (Status st = loop_->add_fd(link_->request_fd(), EPOLLIN, kKeyQuorumdRequests); !st.ok())
      return st.with_context("watching quorumd's replies");
  return Status::Ok();
}

void SvcmgrDaemon::sync_agent_fds() {
  // The agents' descriptors change with every action (service_runner.h: re-read fds() after each event).
  std::set<int> want;
  for (auto& [n, s] : services_)
    for (int fd : s.runner->fds()) want.insert(fd);
  for (int fd : metadata_.fds()) want.insert(fd);
  if (alerts_)
    for (int fd : alerts_->fds()) want.insert(fd);
  // A descriptor that left the lists was closed by its AgentProcess, which took it out of the epoll set:
  // nothing to remove, and its old number must not be touched (the history log's thread may have it now).
  // MOD first: a number closed and reused since the last pass is a new file, unknown to epoll (ENOENT): ADD.
  for (int fd : want)
    if (!loop_->modify_fd(fd, EPOLLIN, kKeyAgentBase + uint64_t(fd)).ok())
      if (Status st = loop_->add_fd(fd, EPOLLIN, kKeyAgentBase + uint64_t(fd)); !st.ok())
        log::error("an agent's descriptor is not watched (its deadline still is)", {{"reason", st.to_string()}});
}

std::optional<int> SvcmgrDaemon::run_once() {
  if (exit_code_ >= 0) return exit_code_;
  TimePoint now = clock_.now();
  // Settle: startup stops finished -> may claim.
  if (!settled_) {
    bool all = true;
    for (auto& [n, s] : services_) {
      if (s.probing() && s.runner->idle()) {
        const auto pr = s.finish_probe();
        if (pr != ServiceRunner::ProbeResult::all_stopped) {
          log::warning("found running at start-up: stopping it before anything is claimed",
                       {{"service", n}, {"probe", std::string(probe_result_name(pr))}});
          s.stop(now);
        }
      }
      if (s.replace_with && !s.probing() && s.runner->state() == ServiceRunner::State::stopped && s.runner->idle()) {
        // The instance of the definition it was started under is proven stopped: now (and only now, before
        // any claim) the file's definition applies and its copy is saved. Its up entry is released next.
        log::notice("the instance of the old definition is stopped: the file's definition applies now", {{"service", n}});
        ServiceDefinition d = std::move(*s.replace_with);
        add_service(std::move(d), now, false);  // replaces s (same map node)
      }
      if (s.replace_with || s.probing() || s.adopt_pending || s.runner->state() != ServiceRunner::State::stopped) all = false;
    }
    if (all) {
      settled_ = true;
      log::info("start-up probes done: services may be claimed", {});
    }
  }
  // A lease we cannot prove any more: stop at once; past its end, kill and leave.
  if (services_stopped_sent_ && !link_->connected()) {
    log::notice("quorumd left the cluster after every service stopped: svcmgr exits", {});
    return kSvcmgrExitLeftWithQuorumd;
  }
  // A lease that looks expired may only be old news: quorumd's renewals may be waiting unread (a start-up
  // with many services takes longer than the lease). Read them before concluding anything.
  if (link_->connected() && lease_expiry_ && now >= *lease_expiry_) {
    link_->process();
    now = clock_.now();
  }
  if (!link_->connected() || (lease_expiry_ && now >= *lease_expiry_)) {
    if (!link_->connected()) log::critical("lost quorumd: every service is killed", {});
    else log::critical("the lease expired: every service is killed", {});
    AlertEvent e;
    e.event = "services_killed";
    e.desc = "every service is killed";
    e.reason = link_->connected() ? "the lease expired" : "lost quorumd";
    record(e, "quorum");
    for (auto& [n, s] : services_)  // everything in the services' cgroups, then the agents (destructors)
      if (Status st = s.runner->kill_cgroup(); !st.ok())
        log::error("cannot kill the service's cgroup", {{"service", n}, {"error", st.to_string()}});
    services_.clear();
    return kSvcmgrExitLeaseLost;
  }
  if (now >= next_tick_) tick(now);
  if (settled_) publish_started_mark();
  if (link_->request_fd() >= 0)
    (void)loop_->modify_fd(link_->request_fd(), uint32_t(EPOLLIN) | (link_->wants_write() ? uint32_t(EPOLLOUT) : 0u), kKeyQuorumdRequests);
  sync_agent_fds();
  TimePoint wake = next_tick_;
  if (lease_expiry_) wake = std::min(wake, *lease_expiry_);
  if (leaving_) wake = std::min(wake, leave_deadline_);
  for (auto& [n, s] : services_) wake = std::min(wake, s.runner->next_deadline());
  wake = std::min(wake, metadata_.next_deadline());
  if (alerts_) wake = std::min(wake, alerts_->next_deadline());
  auto ready = env_.wait(*loop_, wake, std::chrono::seconds(1));
  if (!ready.ok()) {
    log::critical("the event loop's wait failed: svcmgr exits", {{"reason", ready.status().to_string()}});
    return kSvcmgrExitWaitFailed;
  }
  now = clock_.now();
  bool terminate = false, hangup = false, admin_ready = false;
  std::vector<int> ready_agent_fds;
  for (const EventLoop::Ready& r : *ready) {
    if (r.key == EventLoop::kSignalKey) {
      auto signals = loop_->read_signals();
      if (!signals.ok()) log::error("reading the signalfd failed", {{"reason", signals.status().to_string()}});
      else
        for (const auto& si : *signals) {
          if (si.signo == SIGHUP) hangup = true;
          else terminate = true;
        }
    } else if (r.key == kKeyAdmin) {
      admin_ready = true;
    } else if (r.key >= kKeyAgentBase && r.key != EventLoop::kTimerKey) {
      ready_agent_fds.push_back(int(r.key - kKeyAgentBase));
    }
  }
  if (hangup) {
    log::notice("SIGHUP: reloading the service definitions", {{"dir", config_.services_dir}});
    reload(now);
  }
  if (terminate) {
    if (!leaving_) {
      leaving_ = true;
      stop_everything("svcmgr is stopping (signal)", now);
    } else {
      return kSvcmgrExitSecondSignal;
    }
  }
  if (leaving_ && leave_deadline_ == TimePoint{}) leave_deadline_ = now + std::chrono::minutes(10);
  if (admin_ready && server_) server_->process(*this);
  link_->process();
  if (exit_code_ >= 0) return exit_code_;
  for (int fd : ready_agent_fds) {
    for (auto& [n, s] : services_) {
      auto own_fds = s.runner->fds();
      if (std::find(own_fds.begin(), own_fds.end(), fd) != own_fds.end()) s.runner->on_ready(fd);
    }
    metadata_.on_ready(fd);
    if (alerts_) alerts_->on_ready(fd);
  }
  // Agents' meta-data read: the services that waited get their timings (their held actions launch below).
  if (metadata_.poll(now)) on_metadata_read(now);
  for (auto& [n, s] : services_) {
    auto before = s.runner->state();
    s.runner->poll(now);
    if (s.runner->state() != before || s.runner->state() == ServiceRunner::State::stopped) after_runner(s, now);
  }
  observe_for_alerts();
  if (alerts_) alerts_->poll(now);
  // Reloaded definitions take effect once their service is idle here.
  for (auto it = services_.begin(); it != services_.end();) {
    Service& s = it->second;
    // A finished start-up probe's result is read at the top of the loop: not idle before that.
    const bool idle = !s.own->holding() && s.runner->state() == ServiceRunner::State::stopped && s.runner->idle() && !s.probing();
    if (idle && removed_.count(it->first)) {
      log::notice("service dropped", {{"service", it->first}});
      if (Status st = definitions_.remove(it->first); !st.ok())
        log::warning("the saved copy of a dropped service's definition stays", {{"service", it->first}, {"reason", st.to_string()}});
      removed_.erase(it->first);
      it = services_.erase(it);
      continue;
    }
    if (idle && pending_defs_.count(it->first)) {
      const std::string name = it->first;
      ServiceDefinition d = std::move(pending_defs_[name]);
      pending_defs_.erase(name);
      log::notice("service definition changed (applied now that it is stopped here)", {{"service", name}});
      add_service(std::move(d), now, false);
      it = services_.find(name);
      if (it == services_.end()) break;
    }
    ++it;
  }
  // (leaving_ may have been set just now, by quorumd's "leaving" event in link_->process(): its deadline too.)
  if (leaving_ && leave_deadline_ == TimePoint{}) leave_deadline_ = now + std::chrono::minutes(10);
  if (leaving_) {
    bool all_stopped = true, orphans = false;
    for (auto& [n, s] : services_) {
      if (s.orphaned()) {
        orphans = true;
        continue;
      }
      if (s.adopt_pending) {  // may run here: decided once its agents' meta-data is in (bounded by its timeout)
        all_stopped = false;
        continue;
      }
      if (s.runner->state() != ServiceRunner::State::stopped) all_stopped = false;
      if (s.own->phase() != OwnershipPhase::idle) all_stopped = false;
      else drive(s, now);  // write released
    }
    if (all_stopped && orphans) {
      // Never say "every service stopped" (quorumd would write DOWN and the peer would start them at once)
      // while an orphaned service may still run here: exit without it; the peer waits the dead time.
      log::critical("orphaned services may still run here: svcmgr exits without reporting every service stopped", {});
      return kSvcmgrExitOrphansLeft;
    }
    if (all_stopped && !quorumd_leaving_) {
      log::notice("every service stopped and released: svcmgr exits", {});
      return kSvcmgrExitStopped;
    }
    if (all_stopped && !services_stopped_sent_) {
      services_stopped_sent_ = true;
      log::notice("every service stopped and released: telling quorumd, then exiting", {});
      link_->request("services-stopped", [this](const Result<std::string>& reply) {
        if (!reply.ok()) log::error("quorumd did not take services-stopped", {{"error", reply.status().to_string()}});
        exit_code_ = kSvcmgrExitLeftWithQuorumd;
      });
    }
    if (now >= leave_deadline_) return kSvcmgrExitLeaveTimeout;
  }
  return std::nullopt;
}

}  // namespace castor
