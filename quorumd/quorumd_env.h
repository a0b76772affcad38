// QuorumdEnv: the seam between quorumd's loop and everything outside its own memory — the clock, the quorum
// disk, the watchdog, the control socket, the process's scheduling and memory locking, and the signals sent
// to registered process groups (in the spirit of leveldb's Env). Production (make_production_quorumd_env)
// wraps exactly what quorumd has always used: CLOCK_BOOTTIME, AioBlockDevice, the Linux watchdog API,
// mlockall/SCHED_FIFO and kill(2). Tests give a FakeClock, the memory/faulty devices and a fake watchdog,
// so that doctest can run whole quorumd instances in-process, one loop turn at a time.
// An Env decides nothing: it must never look at the lease, retry, or log a verdict; it only performs the
// operation asked and reports its failure as a Status.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "config/lan_config.h"
#include "config/quorumd_config.h"
#include "control/control_server.h"
#include "disk/block_device.h"
#include "quorumd/lan_socket.h"

namespace castor {

// What quorumd needs of its watchdog (quorumd/watchdog.h has the contract: the pet guard, the magic close).
class QuorumdWatchdog {
 public:
  virtual ~QuorumdWatchdog() = default;
  // Pets only with at least the pet guard (W) of lease left at `now`; true if it petted.
  virtual Result<bool> pet_within_lease(TimePoint now, std::optional<TimePoint> lease_expiry) = 0;
  // Magic close; only after a clean leave.
  virtual Status disarm() = 0;
  virtual const std::string& path() const = 0;
  virtual bool is_standin() const = 0;
  virtual const char* kind() const = 0;
  virtual std::string describe() const = 0;
};

// A held node lock (QuorumdEnv::lock_node): held until destroyed.
class QuorumdNodeLock {
 public:
  virtual ~QuorumdNodeLock() = default;
};

class QuorumdEnv {
 public:
  enum class Access { read_write, read_only };
  virtual ~QuorumdEnv() = default;

  // The clock of every decision (CLOCK_BOOTTIME in production).
  virtual const Clock& clock() const = 0;
  // The quorum device setting (a path, LABEL=..., UUID=...) as a path.
  virtual Result<std::string> resolve_device(const std::string& spec) = 0;
  // Opens the quorum disk: read-write for the loop, read-only for the superblock check before a rejoin
  // (a separate handle, so that no completion of the loop's device is consumed).
  virtual Result<std::unique_ptr<BlockDevice>> open_device(const std::string& path, Access access) = 0;
  // Opens and arms the watchdog at `path`, which must fire within `max_timeout` (W) of the last pet.
  virtual Result<std::unique_ptr<QuorumdWatchdog>> open_watchdog(const std::string& path, Millis max_timeout) = 0;
  // Opens one LAN heartbeat link (castor.ini [lan]): bound to link.local, talking to link.peer, on `port`.
  virtual Result<std::unique_ptr<LanSocket>> open_lan_socket(const LanLinkConfig& link, uint16_t port) = 0;
  // Creates the control socket (root only, unless `access` grants a group more).
  virtual Result<std::unique_ptr<ControlServer>> listen(const std::string& path, ControlAccess access) = 0;
  // The life file (quorumd/life_file.h): the last life number this node took, 0 when there is none; an
  // unreadable or malformed file is an error (never guessed). store_life returns once it is durable.
  virtual Result<uint32_t> load_life(const std::string& path) = 0;
  virtual Status store_life(const std::string& path, uint32_t life) = 0;
  // The peer-watchdog file (quorumd/peer_watchdog_file.h): whether the peer said it runs without a watchdog,
  // std::nullopt when there is no file; an unreadable or malformed file is an error. The store returns once
  // durable.
  virtual Result<std::optional<bool>> load_peer_no_watchdog(const std::string& path) = 0;
  virtual Status store_peer_no_watchdog(const std::string& path, bool peer_without_watchdog) = 0;
  // The node lock (quorumd/life_file.h's node_lock_path), held by one process at a time: Code::busy while
  // another process holds it. Creates its directory (0755, as the control socket's) if it is missing.
  virtual Result<std::unique_ptr<QuorumdNodeLock>> lock_node(const std::string& path) = 0;
  // mlockall / SCHED_FIFO as configured; only warns when not permitted.
  virtual void tune_process(const QuorumdConfig& config) = 0;
  // kill(-pgid, signo): 0, or the errno of the failure.
  virtual int signal_process_group(pid_t pgid, int signo) = 0;
  // The fence's kill of every service's cgroup under `relative` (castor/<node>), and whether a registered
  // process group is still one of those services' (ProcessGroups). Defaults for fakes: no cgroups, every
  // registered group is the services'.
  virtual Result<size_t> kill_cgroup_tree(const std::string& relative) {
    (void)relative;
    return size_t(0);
  }
  virtual Result<bool> group_in_cgroup_tree(pid_t pgid, const std::string& relative) {
    (void)pgid, (void)relative;
    return true;
  }
  // Whether a process is in `relative` or below (a leave without a service manager must not write DOWN
  // then). Default for fakes: none.
  virtual Result<bool> cgroup_tree_busy(const std::string& relative) {
    (void)relative;
    return false;
  }
};

// The real thing: what quorumd did before the seam existed.
std::unique_ptr<QuorumdEnv> make_production_quorumd_env();

}  // namespace castor
