// ProcessGroups: what quorumd must kill when it fences: every service's cgroup (everything under the
// node's Castor cgroup parent, castor/<node>: nothing a service started escapes it, nothing else is in
// it), then the process groups registered over the control socket (`register-pgid N`, by svcmgr for every
// service it starts; kept for compatibility). A registered group is signalled only while it has a live
// member and all its live members are inside the Castor cgroups: a group that ended is pruned (every one
// at any_alive and kill_all, and a couple in turn at each add: each check is a pass over /proc, so an add
// costs no more as the set grows), so after its id is reused by an unrelated group, that one is never
// signalled.
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
  // Kills everything in the Castor cgroups; how many processes were signalled.
  using KillCgroups = std::function<Result<size_t>()>;
  // Whether group `pgid` has live members, all of them in the Castor cgroups (see above).
  using GroupIsCastors = std::function<Result<bool>(pid_t pgid)>;
  ProcessGroups();
  explicit ProcessGroups(SignalGroup signal) : signal_(std::move(signal)) {}
  // Whether the Castor cgroups hold a process.
  using CgroupsBusy = std::function<Result<bool>()>;
  ProcessGroups(SignalGroup signal, KillCgroups kill_cgroups, GroupIsCastors is_castors, CgroupsBusy busy = {})
      : signal_(std::move(signal)),
        kill_cgroups_(std::move(kill_cgroups)),
        is_castors_(std::move(is_castors)),
        cgroups_busy_(std::move(busy)) {}

  // Registers `pgid`. Refused: pgid <= 1, quorumd's own process group, a group with no process in it.
  // Checks a couple of the registered groups first (prune_some), not all of them.
  Status add(pid_t pgid);
  // Forgets `pgid`; false if it was not registered.
  bool remove(pid_t pgid);

  struct Killed {
    pid_t pgid;
    Status status;  // ok, or why kill(-pgid, SIGKILL) failed (a group that is already gone is not_found)
  };
  // Kills the Castor cgroups (logged), then SIGKILLs every registered group that is still Castor's, and
  // forgets them all. A group that is no longer Castor's is reported not_found and not signalled.
  std::vector<Killed> kill_all();

  // True if a registered group still has a process of Castor's (signal 0 reaches it; stale ones pruned),
  // or the Castor cgroups hold a process (or cannot be read).
  bool any_alive();

  // Forgets the registered groups that no longer exist or are no longer Castor's.
  void prune();

  const std::set<pid_t>& groups() const { return groups_; }

 private:
  // Registered groups checked (and forgotten if no longer Castor's) per add(), in turn.
  static constexpr size_t kPruneChecksPerAdd = 2;
  bool is_castors(pid_t pgid, Status* why);
  void prune_some();
  pid_t prune_cursor_ = 0;  // prune_some() checks the first group >= this next (then wraps)
  SignalGroup signal_;
  KillCgroups kill_cgroups_;  // unset: no cgroups (only registered groups)
  GroupIsCastors is_castors_;
  CgroupsBusy cgroups_busy_;
  std::set<pid_t> groups_;
};

}  // namespace castor
