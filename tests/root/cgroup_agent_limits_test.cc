// The limits of a service's cgroup are for what its start runs (review14b finding 6): on cgroup v1 the
// monitor agent joins the freezer hierarchy alone, so a service whose daemons use all of tasks_max is still
// monitored (a monitor that cannot fork would fail, and recovery would stop and restart it for nothing).
// Cgroups are created under a parent named for this test run and removed at the end; only processes started
// here are killed.
#include <doctest/doctest.h>

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "agent/service_cgroup.h"
#include "common/clock.h"
#include "config/service_loader.h"
#include "svcmgr/service_runner.h"
#include "tests/support/cgroup_fixture.h"
#include "tests/support/runner_driver.h"
#include "tests/support/scratch.h"

using namespace castor;
using namespace castor::testing;
using namespace std::chrono_literals;

TEST_CASE("cgroup limits: a service whose daemons use all of tasks_max is still monitored (root, v1)") {
  REQUIRE(running_as_root());
  auto v = detect_cgroup_version();
  REQUIRE(v.ok());
  if (*v != CgroupVersion::v1) {
    MESSAGE("cgroup v2: every agent joins the one cgroup, limits included (documented); nothing to check");
    return;
  }
  TestCgroupParent parent;
  ScratchDir dir;
  const std::string mark = dir.file("running");
  // /bin/true forks: under the service's pids.max the monitor's shell could not run it.
  const ServiceDefinition def =
      load_capped_service(mark, "monitor = /bin/true; test -e " + mark + " || exit 7\nmonitor_interval = 1s\n");
  RunContext ctx;
  ctx.node = "alpha";
  ctx.cgroup_parent = parent.name;
  ServiceRunner r(def, ctx);
  REQUIRE(r.start(1, BootClock().now()).ok());
  REQUIRE(run_until(r, [&] { return r.idle() && r.state() != ServiceRunner::State::starting; }, 15s));
  REQUIRE(r.state() == ServiceRunner::State::started);
  // Three monitor intervals: every monitor must succeed.
  (void)run_until(r, [&] { return r.last_failure().has_value(); }, 3500ms);
  CHECK_MESSAGE(!r.last_failure().has_value(),
                "a monitor failed: " << (r.last_failure() ? r.last_failure()->text : std::string()));
  CHECK(r.state() == ServiceRunner::State::started);
  r.stop(BootClock().now());
  REQUIRE(run_until(r, [&] { return r.idle() && r.state() != ServiceRunner::State::stopping; }, 15s));
  CHECK(r.state() == ServiceRunner::State::stopped);
}
