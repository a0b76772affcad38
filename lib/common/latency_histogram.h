// LatencyHistogram: counts of observed latencies in fixed buckets (upper bounds from 100 us to 10 s, then
// +Inf), with their sum and count, as a Prometheus histogram wants them. quorumd keeps one for its
// heartbeat writes and shows it in `status`; `castor status --prometheus` renders it.
// Pure and bounded: a fixed array, no allocation, no clock, no I/O. Counts only grow (until the process
// ends): never reset, so a scraper's rate() stays right.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "common/clock.h"

namespace castor {

class LatencyHistogram {
 public:
  // The buckets' upper bounds, in microseconds (inclusive: an observation equal to a bound counts in it).
  static constexpr std::array<int64_t, 14> kBoundsUs = {100,    250,    500,     1000,    2500,    5000,    10000,
                                                        25000,  50000,  100000,  250000,  500000,  1000000, 10000000};
  static constexpr size_t kBuckets = kBoundsUs.size() + 1;  // the last one: above every bound (+Inf)

  // A negative latency (a clock that cannot go backwards, so a caller's bug) counts as 0.
  void observe(Duration latency);
  // Per-bucket counts, not cumulative: counts()[i] observations fell in (bound[i-1], bound[i]].
  const std::array<uint64_t, kBuckets>& counts() const { return counts_; }
  uint64_t count() const { return count_; }
  int64_t sum_us() const { return sum_us_; }

 private:
  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  int64_t sum_us_ = 0;
};

}  // namespace castor
