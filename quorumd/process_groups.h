// ProcessGroups: the process groups quorumd must kill when it fences — registered over the control socket
// (`register-pgid N`, by svcmgr for every service it starts) and SIGKILLed all at once on a fence.
// Must never signal anything it was not told about: no killing by name, never pgid 0 or 1, never
// quorumd's own group. The signal itself goes through a function (QuorumdEnv::signal_process_group in
// quorumd; kill(2) by default) so that tests can see the kills without killing anything.
#pragma once

#include <sys/types.h>

#include <functional>
#include <set>
#include <vector>

#include "common/status.h"

namespace castor {

class ProcessGroups {
 public:
  // kill(-pgid, signo): returns 0, or the errno of the failure.
  using SignalGroup = std::function<int(pid_t pgid, int signo)>;
  ProcessGroups();
  explicit ProcessGroups(SignalGroup signal) : signal_(std::move(signal)) {}

  // Registers `pgid`. Refused: pgid <= 1, quorumd's own process group, a group with no process in it.
  Status add(pid_t pgid);
  // Forgets `pgid`; false if it was not registered.
  bool remove(pid_t pgid);

  struct Killed {
    pid_t pgid;
    Status status;  // ok, or why kill(-pgid, SIGKILL) failed (a group that is already gone is not_found)
  };
  // SIGKILLs every registered group and forgets them all.
  std::vector<Killed> kill_all();

  // True if a registered group still has a process (signal 0 reaches it).
  bool any_alive() const;

  const std::set<pid_t>& groups() const { return groups_; }

 private:
  SignalGroup signal_;
  std::set<pid_t> groups_;
};

}  // namespace castor
