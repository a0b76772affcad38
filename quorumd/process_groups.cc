#include "quorumd/process_groups.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "common/errno_status.h"
#include "common/log.h"

namespace castor {

ProcessGroups::ProcessGroups() : signal_([](pid_t g, int s) { return ::kill(-g, s) == 0 ? 0 : errno; }) {}

Status ProcessGroups::add(pid_t pgid) {
  if (pgid <= 1)
    return Error(Code::invalid_argument, "process group " + std::to_string(pgid) + " may not be registered");
  if (pgid == ::getpgrp())
    return Error(Code::refused, "process group " + std::to_string(pgid) + " is quorumd's own: it would kill itself");
  if (const int err = signal_(pgid, 0); err != 0 && err != EPERM) {
    if (err == ESRCH)
      return Error(Code::not_found, "process group " + std::to_string(pgid) + " has no process in it");
    return errno_status("kill -0", "process group " + std::to_string(pgid), err);
  }
  prune_some();
  groups_.insert(pgid);
  return Status::Ok();
}

void ProcessGroups::prune_some() {
  // Each check is a pass over /proc (in quorumd): checking every registered group here made one
  // registration cost (groups) x (processes) reads inside the heartbeat loop. A few groups per add, in
  // turn, keep the set bounded (more are checked than added, so ended groups cannot pile up) at a cost
  // that does not grow with it; kill_all and any_alive still check every group before they rely on it.
  const size_t checks = std::min(kPruneChecksPerAdd, groups_.size());
  for (size_t i = 0; i < checks && !groups_.empty(); ++i) {
    auto it = groups_.lower_bound(prune_cursor_);
    if (it == groups_.end()) it = groups_.begin();
    const pid_t g = *it;
    prune_cursor_ = g + 1;
    Status why;
    if (is_castors(g, &why)) continue;
    log::info("registered process group forgotten", {{"pgid", int64_t(g)}, {"reason", why.to_string()}});
    groups_.erase(it);
  }
}

bool ProcessGroups::is_castors(pid_t g, Status* why) {
  if (const int err = signal_(g, 0); err == ESRCH) {
    if (why) *why = Error(Code::not_found, "process group " + std::to_string(g) + " was already gone");
    return false;
  }
  if (!is_castors_) return true;
  Result<bool> r = is_castors_(g);
  if (r.ok() && *r) return true;
  if (why)
    *why = r.ok() ? Error(Code::not_found, "process group " + std::to_string(g) +
                                               " has no live process in Castor's cgroups (it ended; its id may "
                                               "be reused): not signalled")
                  : r.status().with_context("process group " + std::to_string(g) + ": not signalled");
  return false;
}

void ProcessGroups::prune() {
  std::erase_if(groups_, [&](pid_t g) {
    Status why;
    if (is_castors(g, &why)) return false;
    log::info("registered process group forgotten", {{"pgid", int64_t(g)}, {"reason", why.to_string()}});
    return true;
  });
}

bool ProcessGroups::remove(pid_t pgid) { return groups_.erase(pgid) > 0; }

std::vector<ProcessGroups::Killed> ProcessGroups::kill_all() {
  if (kill_cgroups_) {
    Result<size_t> n = kill_cgroups_();
    if (n.ok())
      log::notice("the services' cgroups killed (SIGKILL)", {{"processes", int64_t(*n)}});
    else
      log::error("cannot kill the services' cgroups", {{"error", n.status().to_string()}});
  }
  std::vector<Killed> out;
  out.reserve(groups_.size());
  for (pid_t g : groups_) {
    Status st;
    if (!is_castors(g, &st)) {
      out.push_back({g, st});
      continue;
    }
    if (const int err = signal_(g, SIGKILL); err != 0) {
      st = err == ESRCH ? Error(Code::not_found, "process group " + std::to_string(g) + " was already gone")
                        : errno_status("kill -KILL", "process group " + std::to_string(g), err);
    }
    out.push_back({g, st});
  }
  groups_.clear();
  return out;
}

bool ProcessGroups::any_alive() {
  prune();
  if (!groups_.empty()) return true;
  if (!cgroups_busy_) return false;
  Result<bool> busy = cgroups_busy_();
  if (!busy.ok()) log::error("cannot read the services' cgroups; assuming they hold processes", {{"error", busy.status().to_string()}});
  return !busy.ok() || *busy;
}

}  // namespace castor
