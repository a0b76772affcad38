#include "svcmgr/svcmgr_env.h"

#include <poll.h>

#include <thread>
#include <utility>

#include "agent/service_cgroup.h"
#include "common/log.h"

namespace castor {
namespace {

// QuorumdLink as a QuorumdChannel (quorumd_link.* stays as it is).
class SocketQuorumdChannel final : public QuorumdChannel {
 public:
  explicit SocketQuorumdChannel(std::string path) : link_(std::move(path)) {}
  Status connect(EventFn on_event) override { return link_.connect(std::move(on_event)); }
  bool connected() const override { return link_.connected(); }
  void request(const std::string& line, ReplyFn done) override { link_.request(line, std::move(done)); }
  int request_fd() const override { return link_.request_fd(); }
  int event_fd() const override { return link_.event_fd(); }
  bool wants_write() const override { return link_.wants_write(); }
  void process() override { link_.process(); }
  void await(Duration max) override {
    pollfd p{link_.request_fd(), short(POLLIN | (link_.wants_write() ? POLLOUT : 0)), 0};
    // An error or EINTR only means one more round of process() and the caller's deadline check.
    (void)::poll(&p, 1, int(to_ms(max)));
  }

 private:
  QuorumdLink link_;
};

}  // namespace

std::unique_ptr<QuorumdChannel> SystemSvcmgrEnv::quorumd_channel(const std::string& socket_path) {
  return std::make_unique<SocketQuorumdChannel>(socket_path);
}

Result<std::unique_ptr<ControlServer>> SystemSvcmgrEnv::listen_admin(const std::string& path, ControlAccess access) {
  return ControlServer::listen(path, std::move(access));
}

std::unique_ptr<ServiceRunner> SystemSvcmgrEnv::make_runner(const ServiceDefinition& def, RunContext ctx) {
  // Without a cgroup file system (a container, a node entered with `ip netns exec`), services run as before
  // issue 14: tracked by process group, which a double-forking daemon can leave. Said once, loudly.
  static const Status usable = cgroups_usable();
  if (!usable.ok() && !ctx.cgroup_parent.empty()) {
    static bool said = false;
    if (!std::exchange(said, true))
      log::event(log::Level::warning,
                 "no usable cgroups: services are tracked by process group only (a daemon that leaves its group "
                 "is not stopped with its service)",
                 {{"reason", usable.to_string()}});
    ctx.cgroup_parent.clear();
  }
  return std::make_unique<ServiceRunner>(def, std::move(ctx));
}

Result<std::span<const EventLoop::Ready>> SystemSvcmgrEnv::wait(EventLoop& loop, TimePoint deadline, Duration max_wait) {
  RETURN_IF_ERROR(loop.arm_timer(deadline));  // CLOCK_BOOTTIME, as clock_
  return loop.wait(max_wait);
}

void SystemSvcmgrEnv::pause(Duration d) { std::this_thread::sleep_for(d); }

}  // namespace castor
