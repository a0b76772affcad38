#include "tests/support/runner_driver.h"

#include <doctest/doctest.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "config/service_loader.h"

namespace castor::testing {

bool run_until(ServiceRunner& r, const std::function<bool()>& done, Duration limit) {
  using namespace std::chrono_literals;
  BootClock clock;
  const TimePoint until = clock.now() + limit;
  for (;;) {
    r.poll(clock.now());
    if (done()) return true;
    const TimePoint now = clock.now();
    if (now >= until) return false;
    std::vector<struct pollfd> p;
    for (int fd : r.fds()) p.push_back({fd, POLLIN, 0});
    const Duration wait = std::min({r.next_deadline() - now, until - now, Duration(50ms)});
    const int ms = int(std::max<int64_t>(0, std::chrono::ceil<Millis>(wait).count()));
    const int n = ::poll(p.data(), p.size(), ms);
    REQUIRE((n >= 0 || errno == EINTR));
    for (const auto& pf : p)
      if (pf.revents != 0) r.on_ready(pf.fd);
  }
}

ResourceDefinition shell_resource(const std::string& name, const std::string& start, const std::string& stop,
                                  const std::string& monitor) {
  using namespace std::chrono_literals;
  ResourceDefinition r;
  r.name = name;
  r.kind = ResourceDefinition::AgentKind::exec;
  r.shell = true;
  r.start_line = start;
  r.stop_line = stop;
  r.monitor_line = monitor;
  r.start_argv = {"/bin/sh", "-c", start};
  r.stop_argv = {"/bin/sh", "-c", stop};
  if (!monitor.empty()) r.monitor_argv = {"/bin/sh", "-c", monitor};
  r.start_timeout = 5s;
  r.stop_timeout = 5s;
  r.monitor_timeout = 5s;
  r.monitor_interval = monitor.empty() ? 0ms : 100ms;
  return r;
}

ServiceDefinition load_capped_service(const std::string& mark, const std::string& extra) {
  LoadResult loaded = load_service_text(
      "[service]\nname = capped\nnodes = alpha, beta\ntasks_max = 3\n\n[resource r]\nagent = exec\nshell = yes\n"
      "start = touch " + mark + "; sleep 1000 >/dev/null 2>&1 & sleep 1000 >/dev/null 2>&1 &\n"
      "stop = rm -f " + mark + "; true\n" + extra,
      "/etc/castor/services.d/capped.ini", {"alpha", "beta"});
  REQUIRE_MESSAGE(loaded.ok(), loaded.error_text());
  return loaded.services[0];
}

}  // namespace castor::testing
