// Time for decisions and time for display, kept apart.
// Decisions use TimePoint from a Clock: CLOCK_BOOTTIME in production (keeps counting through suspend,
// so a suspended node cannot wake up believing a stale lease is fresh); tests inject FakeClock.
// Wall-clock time (wall_time_ns) is for display only and must never feed a decision.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace castor {

using Duration = std::chrono::nanoseconds;
using Millis = std::chrono::milliseconds;

// A point on one node's own monotonic timeline. Not comparable across nodes.
struct MonoClockTag {
  using rep = int64_t;
  using period = std::nano;
  using duration = Duration;
  using time_point = std::chrono::time_point<MonoClockTag, Duration>;
  static constexpr bool is_steady = true;
};
using TimePoint = MonoClockTag::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

// CLOCK_BOOTTIME: monotonic, includes time spent suspended.
class BootClock final : public Clock {
 public:
  TimePoint now() const override;
};

// Test clock: moves only when told to.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start = TimePoint(std::chrono::seconds(1000))) : now_(start) {}
  TimePoint now() const override { return now_; }
  void advance(Duration d) { now_ += d; }
  void set(TimePoint t) { now_ = t; }

 private:
  TimePoint now_;
};

// Nanoseconds since the Unix epoch (CLOCK_REALTIME). Display only.
int64_t wall_time_ns();
// "2026-11-26T15:33:18.123Z"; "-" for 0.
std::string format_wall_time(int64_t wall_ns);
// "1.234s", "250ms", "-3.1s"
std::string format_duration(Duration d);

inline int64_t to_ms(Duration d) { return std::chrono::duration_cast<Millis>(d).count(); }

}  // namespace castor
