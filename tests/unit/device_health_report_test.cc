// Tests for quorumd/device_health_report.h: a member is reported lost only after failing 2 T without a
// break, back only after 10 T without a failure; a member flapping at its I/O rate is reported once.
#include <doctest/doctest.h>

#include "quorumd/device_health_report.h"

using namespace castor;
using namespace std::chrono_literals;

TEST_CASE("device health report: hysteresis, one report per outage, per member") {
  const Duration T = 200ms;
  DeviceHealthReport r(T);
  const TimePoint t0 = TimePoint{} + 1h;
  CHECK_FALSE(r.observe(0, std::nullopt, t0));  // healthy: nothing
  // Member 1 fails at t0: nothing before 2 T, lost at 2 T, once.
  CHECK_FALSE(r.observe(1, t0, t0 + 100ms));
  CHECK_FALSE(r.observe(1, t0, t0 + 399ms));
  auto lost = r.observe(1, t0, t0 + 400ms);
  REQUIRE(lost);
  CHECK(*lost == true);
  CHECK_FALSE(r.observe(1, t0, t0 + 5s));  // still failing: said already
  // It answers again: back only after 10 T of no failure; a failure in between restarts the count.
  CHECK_FALSE(r.observe(1, std::nullopt, t0 + 6s));
  CHECK_FALSE(r.observe(1, std::nullopt, t0 + 7s));
  CHECK_FALSE(r.observe(1, t0 + 7500ms, t0 + 7500ms));
  CHECK_FALSE(r.observe(1, std::nullopt, t0 + 8s));
  CHECK_FALSE(r.observe(1, std::nullopt, t0 + 9999ms));
  auto back = r.observe(1, std::nullopt, t0 + 10s);
  REQUIRE(back);
  CHECK(*back == false);
  CHECK_FALSE(r.observe(1, std::nullopt, t0 + 20s));
  // Member 2 flaps at its I/O rate (fails 100 ms, answers 100 ms) for a minute: never reported (no 2 T of
  // failure in a row); with 300 ms failures it is reported lost once and never back while it flaps.
  int reports = 0;
  for (int i = 0; i < 600; ++i) {
    const TimePoint now = t0 + 30s + i * 100ms;
    if (r.observe(2, i % 2 ? std::optional<TimePoint>(now) : std::nullopt, now)) ++reports;
  }
  CHECK(reports == 0);
  reports = 0;
  for (int i = 0; i < 150; ++i) {  // 300 ms failing, 100 ms answering
    const TimePoint start = t0 + 2min + i * 400ms;
    for (int k = 0; k <= 3; ++k)
      if (r.observe(3, std::optional<TimePoint>(start), start + k * 100ms)) ++reports;
    if (r.observe(3, std::nullopt, start + 350ms)) ++reports;
  }
  CHECK(reports == 0);  // 300 ms < 2 T: never lost
  DeviceHealthReport slow(T);
  reports = 0;
  for (int i = 0; i < 100; ++i) {  // 500 ms failing, 100 ms answering
    const TimePoint start = t0 + i * 600ms;
    for (int k = 0; k <= 5; ++k)
      if (slow.observe(0, std::optional<TimePoint>(start), start + k * 100ms)) ++reports;
    if (slow.observe(0, std::nullopt, start + 550ms)) ++reports;
  }
  CHECK(reports == 1);  // lost once, never back while it flaps
}
