#include "quorumd/quorumd_env.h"

#include "quorumd/life_file.h"
#include "quorumd/peer_watchdog_file.h"
#include "quorumd/udp_lan_socket.h"

#include <sched.h>
#include <signal.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>

#include "agent/service_cgroup.h"
#include "common/file_lock.h"
#include "common/log.h"
#include "disk/aio_block_device.h"
#include "disk/device_probe.h"
#include "quorumd/watchdog.h"

namespace castor {
namespace {

constexpr int kRealtimePriority = 50;

class HardwareWatchdog final : public QuorumdWatchdog {
 public:
  explicit HardwareWatchdog(std::unique_ptr<Watchdog> wd) : wd_(std::move(wd)) {}
  Result<bool> pet_within_lease(TimePoint now, std::optional<TimePoint> lease_expiry) override {
    return wd_->pet_within_lease(now, lease_expiry);
  }
  Status disarm() override { return wd_->disarm(); }
  const std::string& path() const override { return wd_->path(); }
  bool is_standin() const override { return wd_->is_standin(); }
  const char* kind() const override { return wd_->kind(); }
  std::string describe() const override { return wd_->describe(); }

 private:
  std::unique_ptr<Watchdog> wd_;
};

class HeldFileLock final : public QuorumdNodeLock {
 public:
  explicit HeldFileLock(FileLock lock) : lock_(std::move(lock)) {}

 private:
  FileLock lock_;
};

class ProductionEnv final : public QuorumdEnv {
 public:
  const Clock& clock() const override { return clock_; }
  Result<std::string> resolve_device(const std::string& spec) override { return castor::resolve_device(spec); }
  Result<std::unique_ptr<BlockDevice>> open_device(const std::string& path, Access access) override {
    auto dev = AioBlockDevice::open(path, access == Access::read_write ? AioBlockDevice::OpenMode::read_write
                                                                       : AioBlockDevice::OpenMode::read_only);
    if (!dev.ok()) return dev.status();
    return std::unique_ptr<BlockDevice>(std::move(dev).value());
  }
  Result<std::unique_ptr<QuorumdWatchdog>> open_watchdog(const std::string& path, Millis max_timeout) override {
    auto wd = Watchdog::open(path, max_timeout);
    if (!wd.ok()) return wd.status();
    return std::unique_ptr<QuorumdWatchdog>(std::make_unique<HardwareWatchdog>(std::move(wd).value()));
  }
  Result<std::unique_ptr<ControlServer>> listen(const std::string& path, ControlAccess access) override {
    return ControlServer::listen(path, std::move(access));
  }
  Result<std::unique_ptr<LanSocket>> open_lan_socket(const LanLinkConfig& link, uint16_t port) override {
    return open_udp_lan_socket(link, port);
  }
  Result<uint32_t> load_life(const std::string& path) override { return read_life_file(path); }
  Status store_life(const std::string& path, uint32_t life) override { return write_life_file(path, life); }
  Result<std::optional<bool>> load_peer_no_watchdog(const std::string& path) override {
    return read_peer_watchdog_file(path);
  }
  Status store_peer_no_watchdog(const std::string& path, bool peer_without_watchdog) override {
    return write_peer_watchdog_file(path, peer_without_watchdog);
  }
  Result<std::unique_ptr<QuorumdNodeLock>> lock_node(const std::string& path) override {
    RETURN_IF_ERROR(make_dir_for(path, 0755));  // as the control socket's /run/castor
    auto lock = FileLock::acquire(path);
    if (!lock.ok()) return lock.status();
    return std::unique_ptr<QuorumdNodeLock>(std::make_unique<HeldFileLock>(std::move(lock).value()));
  }
  void tune_process(const QuorumdConfig& config) override {
    if (config.lock_memory) {
      if (::mlockall(MCL_CURRENT | MCL_FUTURE) != 0)
        log::warning("cannot lock memory (mlockall); pages may be swapped out and delay heartbeats",
                     {{"error", std::strerror(errno)}});
      else
        log::info("memory locked (mlockall)");
    }
    if (config.realtime) {
      sched_param p{};
      p.sched_priority = kRealtimePriority;
      if (::sched_setscheduler(0, SCHED_FIFO, &p) != 0)
        log::warning("cannot switch to SCHED_FIFO; heartbeats may be delayed by a busy CPU",
                     {{"priority", kRealtimePriority}, {"error", std::strerror(errno)}});
      else
        log::info("running SCHED_FIFO", {{"priority", kRealtimePriority}});
    }
  }
  int signal_process_group(pid_t pgid, int signo) override { return ::kill(-pgid, signo) == 0 ? 0 : errno; }
  // Without a usable cgroup file system (svcmgr then tracks services by process group only: a container, a
  // node entered with `ip netns exec`), a registered process group is trusted as before issue 14 — killed on
  // a fence and waited for before a rejoin — and there is no tree to kill or to wait for.
  Result<size_t> kill_cgroup_tree(const std::string& relative) override {
    if (!cgroups_.ok()) return size_t(0);
    return castor::kill_cgroup_tree(relative);
  }
  Result<bool> group_in_cgroup_tree(pid_t pgid, const std::string& relative) override {
    if (!cgroups_.ok()) return true;
    return process_group_in_cgroup_tree(pgid, relative);
  }
  Result<bool> cgroup_tree_busy(const std::string& relative) override {
    if (!cgroups_.ok()) return false;
    return castor::cgroup_tree_busy(relative);
  }

 private:
  BootClock clock_;
  const Status cgroups_ = cgroups_usable();
};

}  // namespace

std::unique_ptr<QuorumdEnv> make_production_quorumd_env() { return std::make_unique<ProductionEnv>(); }

}  // namespace castor
