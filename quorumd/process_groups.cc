#include "quorumd/process_groups.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "common/errno_status.h"

namespace castor {

Status ProcessGroups::add(pid_t pgid) {
  if (pgid <= 1)
    return Error(Code::invalid_argument, "process group " + std::to_string(pgid) + " may not be registered");
  if (pgid == ::getpgrp())
    return Error(Code::refused, "process group " + std::to_string(pgid) + " is quorumd's own: it would kill itself");
  if (::kill(-pgid, 0) != 0 && errno != EPERM) {
    if (errno == ESRCH)
      return Error(Code::not_found, "process group " + std::to_string(pgid) + " has no process in it");
    return errno_status("kill -0", "process group " + std::to_string(pgid));
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
    if (::kill(-g, SIGKILL) != 0) {
      st = errno == ESRCH ? Error(Code::not_found, "process group " + std::to_string(g) + " was already gone")
                          : errno_status("kill -KILL", "process group " + std::to_string(g));
    }
    out.push_back({g, st});
  }
  groups_.clear();
  return out;
}

bool ProcessGroups::any_alive() const {
  for (pid_t g : groups_)
    if (::kill(-g, 0) == 0 || errno == EPERM) return true;
  return false;
}

}  // namespace castor
