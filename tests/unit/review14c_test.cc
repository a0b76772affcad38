// review14c (adversarial review of issue 14, third pass), unit-level cases. Cases that FAIL on main are
// marked doctest::should_fail() with a comment naming the finding, so the build stays green.
#include <doctest/doctest.h>

#include "svcmgr/service_supervisor.h"

using namespace castor;
using namespace std::chrono_literals;
using AfterStop = ServiceSupervisor::AfterStop;

namespace {

ServiceSupervisor make_supervisor() {
  ServiceSupervisor s;
  s.def.name = "svc";
  s.file_def = s.def;
  s.runner = std::make_unique<ServiceRunner>(s.def, RunContext{});
  return s;
}

const TimePoint t0 = TimePoint(std::chrono::seconds(100));

}  // namespace

// Finding C (svcmgr/service_supervisor.cc on_runner_stopped, with svcmgr_supervision.cc:146 and
// svcmgr_daemon.cc:215): a restart in place whose stop ends while the service may not start again (lease at
// risk, leave, relocation) is REPORTED stopped (item 4: stop_reported_ = true) but restarting_ stays true.
// The flag then outlives the report and the release: when this node later claims and starts the service
// afresh (start_or_defer), it still "restarts". after_runner() ignores every failure of a restarting service
// (`case St::failed: if (s.restarting()) break;`): the next crash of the service is never recovered, never
// stopped, never moved -- it stays failed and owned here; the peer-restart request and the lease-renewed
// restart skip it too, and `castor status` says "recovering" for ever.
// Fails on main: ./build/tests/unit_tests -tc='review14c: *restart*'
TEST_CASE("review14c: C a restart whose stop was reported does not outlive it into the next start" *
          doctest::should_fail()) {  // FAILS on main: finding C (restarting_ sticky across a fresh start)
  auto s = make_supervisor();
  s.start_or_defer(3, t0);
  s.restart_in_place(t0);                                             // a crash: restart in place ...
  REQUIRE(s.on_runner_stopped(false, 3).what == AfterStop::report_stopped);  // ... but a lease risk: reported
  s.start_or_defer(7, t0);                                            // later claimed again, a fresh start
  REQUIRE(s.runner->state() == ServiceRunner::State::started);
  CHECK_FALSE(s.restarting());  // else its next failure is ignored (svcmgr_supervision.cc, case St::failed)
}
