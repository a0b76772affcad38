// SvcmgrDaemon, the loop: settles the start-up probes, watches the lease, waits for the admin socket,
// quorumd, the agents and the signals (TERM/INT: stop everything and leave; HUP: reload), applies reloaded
// definitions once a service is idle, and leaves.
// Must never block beyond its wait, never let a service outlive a lease it cannot prove, and never tell
// quorumd "every service stopped" while an orphaned service may still run here.
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
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
  const sigset_t mask = svcmgr_signals();
  sigprocmask(SIG_BLOCK, &mask, nullptr);  // already blocked by main(); harmless if run() is used alone
  UniqueFd sfd(::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC));
  TimePoint leave_deadline{};
  while (exit_code_ < 0) {
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
        if (s.replace_with || s.probing() || s.runner->state() != ServiceRunner::State::stopped) all = false;
      }
      if (all) {
        settled_ = true;
        log::info("start-up probes done: services may be claimed", {});
      }
    }
    // A lease we cannot prove any more: stop at once; past its end, kill and leave.
    if (services_stopped_sent_ && !link_.connected()) {
      log::notice("quorumd left the cluster after every service stopped: svcmgr exits", {});
      return kSvcmgrExitLeftWithQuorumd;
    }
    // A lease that looks expired may only be old news: quorumd's renewals may be waiting unread (a start-up
    // with many services takes longer than the lease). Read them before concluding anything.
    if (link_.connected() && lease_expiry_ && now >= *lease_expiry_) {
      link_.process();
      now = clock_.now();
    }
    if (!link_.connected() || (lease_expiry_ && now >= *lease_expiry_)) {
      if (!link_.connected()) log::critical("lost quorumd: every service is killed", {});
      else log::critical("the lease expired: every service is killed", {});
      services_.clear();
      return kSvcmgrExitLeaseLost;
    }
    if (now >= next_tick_) tick(now);
    std::vector<pollfd> fds;
    fds.push_back({sfd.get(), POLLIN, 0});
    fds.push_back({server_->fd(), POLLIN, 0});
    fds.push_back({link_.request_fd(), short(POLLIN | (link_.wants_write() ? POLLOUT : 0)), 0});
    fds.push_back({link_.event_fd(), POLLIN, 0});
    TimePoint wake = next_tick_;
    if (lease_expiry_) wake = std::min(wake, *lease_expiry_);
    if (leaving_) wake = std::min(wake, leave_deadline);
    for (auto& [n, s] : services_) {
      for (int fd : s.runner->fds()) fds.push_back({fd, POLLIN, 0});
      wake = std::min(wake, s.runner->next_deadline());
    }
    int timeout = wake <= now ? 0 : int(std::min<int64_t>(to_ms(wake - now) + 1, 1000));
    int r = ::poll(fds.data(), fds.size(), timeout);
    if (r < 0 && errno != EINTR) return kSvcmgrExitWaitFailed;
    now = clock_.now();
    bool terminate = false, hangup = false;
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo si;
      while (::read(sfd.get(), &si, sizeof si) == ssize_t(sizeof si)) {
        if (si.ssi_signo == SIGHUP) hangup = true;
        else terminate = true;
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
    if (leaving_ && leave_deadline == TimePoint{}) leave_deadline = now + std::chrono::minutes(10);
    if (fds[1].revents) server_->process(*this);
    link_.process();
    if (exit_code_ >= 0) break;
    for (size_t i = 4; i < fds.size(); ++i)
      if (fds[i].revents)
        for (auto& [n, s] : services_) {
          auto own_fds = s.runner->fds();
          if (std::find(own_fds.begin(), own_fds.end(), fds[i].fd) != own_fds.end()) s.runner->on_ready(fds[i].fd);
        }
    for (auto& [n, s] : services_) {
      auto before = s.runner->state();
      s.runner->poll(now);
      if (s.runner->state() != before || s.runner->state() == ServiceRunner::State::stopped) after_runner(s, now);
    }
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
    // (leaving_ may have been set just now, by quorumd's "leaving" event in link_.process(): its deadline too.)
    if (leaving_ && leave_deadline == TimePoint{}) leave_deadline = now + std::chrono::minutes(10);
    if (leaving_) {
      bool all_stopped = true, orphans = false;
      for (auto& [n, s] : services_) {
        if (s.orphaned()) {
          orphans = true;
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
        link_.request("services-stopped", [this](const Result<std::string>& reply) {
          if (!reply.ok()) log::error("quorumd did not take services-stopped", {{"error", reply.status().to_string()}});
          exit_code_ = kSvcmgrExitLeftWithQuorumd;
        });
      }
      if (now >= leave_deadline) return kSvcmgrExitLeaveTimeout;
    }
  }
  return exit_code_;
}

}  // namespace castor
