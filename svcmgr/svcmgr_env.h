// SvcmgrEnv: everything svcmgr takes from the world, behind one interface, so that a test can run whole
// svcmgr daemons in-process (leveldb's Env): the clock, the link to the local quorumd, the admin listener,
// the agents' runners, and the one wait of the event loop. SystemSvcmgrEnv is production: CLOCK_BOOTTIME,
// quorumd's control socket (QuorumdLink), a root-only ControlServer, real agent processes, epoll.
// Must never hold policy: an Env only carries calls through; what they mean is the daemon's business.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/event_loop.h"
#include "common/status.h"
#include "control/control_server.h"
#include "svcmgr/quorumd_link.h"
#include "svcmgr/service_runner.h"

namespace castor {

// What svcmgr needs of its link to quorumd (QuorumdLink's surface; see quorumd_link.h for the contract).
class QuorumdChannel {
 public:
  using ReplyFn = QuorumdLink::ReplyFn;
  using EventFn = QuorumdLink::EventFn;
  virtual ~QuorumdChannel() = default;
  // Opens the link and subscribes to quorumd's events. Fails if quorumd does not listen.
  virtual Status connect(EventFn on_event) = 0;
  virtual bool connected() const = 0;
  // Queues a request; `done` runs with the JSON reply (or an error) from process().
  virtual void request(const std::string& line, ReplyFn done) = 0;
  // Descriptors for the event loop (-1: none, e.g. an in-memory link) and whether output is queued.
  virtual int request_fd() const = 0;
  virtual int event_fd() const = 0;
  virtual bool wants_write() const = 0;
  // Reads/writes whatever is ready and runs callbacks. Never blocks.
  virtual void process() = 0;
  // Start-up only: waits up to `max` for the request connection to turn ready (then call process()).
  virtual void await(Duration max) = 0;
};

class SvcmgrEnv {
 public:
  virtual ~SvcmgrEnv() = default;
  virtual const Clock& clock() const = 0;
  virtual std::unique_ptr<QuorumdChannel> quorumd_channel(const std::string& socket_path) = 0;
  // The admin listener. A null server (with ok) means none: requests then come only through
  // SvcmgrDaemon::admin_request().
  virtual Result<std::unique_ptr<ControlServer>> listen_admin(const std::string& path, ControlAccess access) = 0;
  // The runner of one service's agents (the process spawner).
  virtual std::unique_ptr<ServiceRunner> make_runner(const ServiceDefinition& def, RunContext ctx) = 0;
  // The loop's one wait: until `deadline` on clock(), a descriptor or a signal, and at most `max_wait`.
  // The list is valid until the next wait on `loop` (EventLoop::wait's buffer).
  virtual Result<std::span<const EventLoop::Ready>> wait(EventLoop& loop, TimePoint deadline, Duration max_wait) = 0;
  // A pause between two attempts to reach quorumd at start-up.
  virtual void pause(Duration d) = 0;
};

// Production.
class SystemSvcmgrEnv final : public SvcmgrEnv {
 public:
  const Clock& clock() const override { return clock_; }
  std::unique_ptr<QuorumdChannel> quorumd_channel(const std::string& socket_path) override;
  Result<std::unique_ptr<ControlServer>> listen_admin(const std::string& path, ControlAccess access) override;
  std::unique_ptr<ServiceRunner> make_runner(const ServiceDefinition& def, RunContext ctx) override;
  Result<std::span<const EventLoop::Ready>> wait(EventLoop& loop, TimePoint deadline, Duration max_wait) override;
  void pause(Duration d) override;

 private:
  BootClock clock_;
};

}  // namespace castor
