// ServiceCgroup: the cgroup of one service, so that everything a service's agents start (daemons that
// double-fork or call setsid included) can be listed and killed, and nothing outside it is touched.
// cgroup v2 when /sys/fs/cgroup is a cgroup2 mount (statfs); else the v1 hierarchies: freezer (required:
// it is what makes a kill sure), plus pids, memory and cpu when the service sets limits.
// Layout: <root>/<parent>/<service> in each hierarchy used, <parent> being Castor's own
// (kCastorCgroupParent + "/" + node in the daemons; tests pass a unique name and remove it).
// An agent's child joins the cgroup before it execs (AgentCommand::join_cgroups: the child writes "0"
// to each cgroup.procs), so no fork of it can escape.
// Must never signal a process that is not in the cgroup (pids are read from the cgroup while it is
// frozen, so none can exit and be reused meanwhile), never create or remove anything outside the
// Castor parent, and never leave it frozen. Every syscall and write is checked; errors say which path.
// kill_all() blocks while the kernel freezes the cgroup (bounded, kFreezeLimit): for callers that must
// finish (quorumd's fence, svcmgr's last act before it exits). An event loop uses CgroupKill instead: the
// same kill in steps, the freeze's progress read at its timer. Everything else is a few file reads/writes.
// Never left frozen: a kill thaws when it ends, a CgroupKill destroyed before its end ends it at once
// (SIGKILL, thaw), and thaw_if_left_frozen() undoes the freeze of a process that died mid-kill.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace castor {

inline constexpr const char* kCgroupRoot = "/sys/fs/cgroup";
inline constexpr const char* kCastorCgroupParent = "castor";

enum class CgroupVersion { v1, v2 };

// The node's Castor cgroup parent, "castor/<node>": every service cgroup of that node is below it, and a
// fence kills everything in it.
inline std::string castor_cgroup_tree(const std::string& node) {
  return node.empty() ? std::string(kCastorCgroupParent) : std::string(kCastorCgroupParent) + "/" + node;
}

// v2 if `root` is a cgroup2 mount, v1 otherwise (tmpfs with one mount per controller); an error if
// statfs fails.
Result<CgroupVersion> detect_cgroup_version(const std::string& root = kCgroupRoot);

// Whether services can be put in cgroups here: a cgroup2 mount at `root`, or v1 with a freezer hierarchy
// (a sure kill needs it). Not usable, with why: no cgroup file system at all (a container, or a network
// namespace entered with `ip netns exec`, which mounts a fresh /sys without /sys/fs/cgroup).
Status cgroups_usable(const std::string& root = kCgroupRoot);

// Reads the file that tells a freeze's progress (v1 freezer.state, v2 cgroup.events). The default reads it;
// a test passes one that says the kernel has not frozen it yet (a task in D state does that for real).
using CgroupStateReader = std::function<Result<std::string>(const std::string& path)>;

// Per-service limits, as systemd units have them (unset: no limit, no controller needed).
struct CgroupLimits {
  std::optional<uint64_t> memory_max;  // bytes: v2 memory.max, v1 memory.limit_in_bytes
  std::optional<uint64_t> cpu_weight;  // 1..10000, 100 = default: v2 cpu.weight, v1 cpu.shares = w*1024/100
  std::optional<uint64_t> tasks_max;   // v2 and v1 pids.max
  bool any() const { return memory_max || cpu_weight || tasks_max; }
  bool operator==(const CgroupLimits&) const = default;
};

class ServiceCgroup {
 public:
  static constexpr Duration kFreezeLimit = std::chrono::seconds(2);

  // Creates (or finds) <root>/<relative> in every hierarchy needed and applies `limits`. `relative` is
  // "parent/.../service": no "..", no empty component, no leading '/'. A component whose name is taken by
  // a cgroup control file (a service or node named "tasks", "cgroup.procs", ...): Code::already_exists
  // naming it -- that cgroup cannot exist, so nothing ever ran in it.
  static Result<ServiceCgroup> open(const std::string& relative, const CgroupLimits& limits,
                                    const std::string& root = kCgroupRoot);

  CgroupVersion version() const { return version_; }
  const std::string& relative() const { return relative_; }
  // The cgroup.procs files a process writes "0" to, to join (the freezer one first on v1).
  std::vector<std::string> procs_files() const;
  // The cgroup.procs file that makes a process a member (tracked, killed with the service) without the
  // limits: v1 the freezer one (that hierarchy has none); v2 the one cgroup (limits included).
  std::string membership_procs_file() const { return main_dir() + "/cgroup.procs"; }
  // The directory that tells membership (v2: the cgroup; v1: the freezer one).
  const std::string& main_dir() const { return dirs_.front(); }

  // Every process in the cgroup (and, on v2, its descendants).
  Result<std::vector<pid_t>> pids() const;
  // No process left, and on v2 none still exiting either (cgroup.events "populated 0"): remove() then works.
  Result<bool> empty() const;
  // Kills everything in it: v2 cgroup.kill (fallback: freeze, SIGKILL each, thaw); v1 freeze, wait for
  // FROZEN, SIGKILL each pid, thaw. Processes are gone once the kernel has run their exit: poll empty().
  Status kill_all(const CgroupStateReader& read = {}) const;
  // v1: a freeze of this cgroup itself (freezer.self_freezing), left by a Castor process that died during
  // a kill, is undone (THAWED). Nothing else (a freeze of an ancestor is its owner's: quorumd's fence).
  // Returns whether it thawed. v2: nothing to do (cgroup.kill needs no freeze), false.
  Result<bool> thaw_if_left_frozen() const;
  // rmdir in every hierarchy (an error if it still holds a process: Code::busy).
  Status remove() const;

 private:
  ServiceCgroup(CgroupVersion v, std::string relative, std::vector<std::string> dirs)
      : version_(v), relative_(std::move(relative)), dirs_(std::move(dirs)) {}
  CgroupVersion version_;
  std::string relative_;
  std::vector<std::string> dirs_;  // v2: one; v1: freezer first, then pids/memory/cpu as used
};

// ServiceCgroup::kill_all() in steps, for an event loop that must not wait for the kernel's freeze (svcmgr):
// start() writes the freeze (v2 with cgroup.kill: kills at once, done); step() at next_deadline() (every
// kPoll) reads the freezer; once it says FROZEN, or kFreezeLimit after start(), every pid in the cgroup and
// below is SIGKILLed and the cgroup thawed: done(), result(). Same outcomes as kill_all(): a freeze that
// does not complete still gets everyone signalled (logged, not an error); one that fails outright too,
// and that error is the result.
// Must never signal a pid outside the cgroup (pids are read only once it is frozen, or at the limit, as
// kill_all) and never leave it frozen: destroyed before done(), it ends the kill at once (SIGKILL what it
// holds, thaw) — what svcmgr's exit during a freeze does.
class CgroupKill {
 public:
  static constexpr Duration kPoll = std::chrono::milliseconds(10);

  static std::unique_ptr<CgroupKill> start(const ServiceCgroup& cgroup, TimePoint now, CgroupStateReader read = {});
  ~CgroupKill();
  CgroupKill(const CgroupKill&) = delete;
  CgroupKill& operator=(const CgroupKill&) = delete;

  void step(TimePoint now);
  bool done() const { return done_; }
  TimePoint next_deadline() const { return done_ ? TimePoint::max() : next_; }
  const Status& result() const { return result_; }  // once done()
  size_t signalled() const { return signalled_; }

 private:
  CgroupKill(CgroupVersion v, std::string top, CgroupStateReader read)
      : version_(v), top_(std::move(top)), read_(std::move(read)) {}
  void finish(Status frozen);

  CgroupVersion version_;
  std::string top_;
  CgroupStateReader read_;
  TimePoint until_{}, next_{};
  bool done_ = false;
  Status result_;
  size_t signalled_ = 0;
};

// Kills every process in <root>/<relative> and every cgroup below it (the fence: everything under the
// Castor parent). A tree that does not exist is ok (nothing to kill). Returns how many were signalled.
Result<size_t> kill_cgroup_tree(const std::string& relative, const std::string& root = kCgroupRoot);

// Whether a process is in <root>/<relative> or below (false if it does not exist).
Result<bool> cgroup_tree_busy(const std::string& relative, const std::string& root = kCgroupRoot);

// Whether `pid` is in <relative> or below it (v2: its 0:: line; v1: its freezer line of /proc/PID/cgroup).
// not_found if the process does not exist.
Result<bool> pid_in_cgroup_tree(pid_t pid, const std::string& relative, const std::string& root = kCgroupRoot);

// Whether process group `pgid` has a live (not zombie) member and every live member is in <relative> or
// below: only then may a registered process group be signalled. false for a group with no live member.
Result<bool> process_group_in_cgroup_tree(pid_t pgid, const std::string& relative,
                                          const std::string& root = kCgroupRoot);

// Removes <root>/<relative> and every empty cgroup below it, deepest first, in every v1 hierarchy (or
// the v2 tree). For tests and the end of a service's life; busy ones are an error.
Status remove_cgroup_tree(const std::string& relative, const std::string& root = kCgroupRoot);

}  // namespace castor
