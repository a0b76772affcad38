#include "common/latency_histogram.h"

#include <algorithm>
#include <limits>

namespace castor {

void LatencyHistogram::observe(Duration latency) {
  const int64_t us = std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::microseconds>(latency).count());
  const auto* it = std::lower_bound(kBoundsUs.begin(), kBoundsUs.end(), us);
  ++counts_[size_t(it - kBoundsUs.begin())];
  ++count_;
  sum_us_ = us > std::numeric_limits<int64_t>::max() - sum_us_ ? std::numeric_limits<int64_t>::max() : sum_us_ + us;
}

}  // namespace castor
