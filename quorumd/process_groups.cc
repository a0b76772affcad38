#include "quorumd/process_groups.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "common/errno_status.h"

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
  groups_.insert(pgid);
  return Status::Ok();
}

bool ProcessGroups::remove(pid_t pgid) { return groups_.erase(pgid) > 0; }

std::vector<ProcessGroups::Killed> ProcessGroups::kill_all() {
  std::vector<Killed> out;
  out.reserve(groups_.size());
  for (pid_t g : groups_) {
    Status st;
    if (const int err = signal_(g, SIGKILL); err != 0) {
      st = err == ESRCH ? Error(Code::not_found, "process group " + std::to_string(g) + " was already gone")
                        : errno_status("kill -KILL", "process group " + std::to_string(g), err);
    }
    out.push_back({g, st});
  }
  groups_.clear();
  return out;
}

bool ProcessGroups::any_alive() const {
  for (pid_t g : groups_)
    if (const int err = signal_(g, 0); err == 0 || err == EPERM) return true;
  return false;
}

}  // namespace castor
