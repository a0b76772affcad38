// Test support for root tests of ServiceRunner: the event loop a daemon runs around a runner, with
// poll(2) (wait on fds() until next_deadline(), on_ready(), poll(now)), and an exec resource made of
// shell lines. Never used by production code.
#pragma once

#include <functional>
#include <string>

#include "common/clock.h"
#include "config/service_definition.h"
#include "svcmgr/service_runner.h"

namespace castor::testing {

// Runs the runner's loop until `done` holds (true) or `limit` passes (false). A poll(2) that fails other
// than with EINTR fails the test (doctest REQUIRE).
bool run_until(ServiceRunner& r, const std::function<bool()>& done, Duration limit = std::chrono::seconds(10));

// An exec resource of /bin/sh lines, 5 s timeouts. Monitored every 100 ms when `monitor` is given, not
// monitored otherwise.
ResourceDefinition shell_resource(const std::string& name, const std::string& start, const std::string& stop,
                                  const std::string& monitor = "");

// The service "capped" (nodes alpha, beta; tasks_max = 3), loaded from its text as
// /etc/castor/services.d/capped.ini (REQUIREs that it loads): its start touches `mark` and leaves two
// `sleep 1000` behind (with the start's shell, all of tasks_max); its stop removes `mark`. `extra` is added
// to its resource (a monitor, say).
ServiceDefinition load_capped_service(const std::string& mark, const std::string& extra = "");

}  // namespace castor::testing
