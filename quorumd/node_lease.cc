#include "quorumd/node_lease.h"

#include <algorithm>

namespace castor {

void NodeLease::renewed(TimePoint issued, TimePoint now) {
  if (fenced_) return;
  if (expiry_ && now >= *expiry_) return;  // lapsed: only fencing follows
  TimePoint e = issued + term_;
  expiry_ = expiry_ ? std::max(*expiry_, e) : e;
}

}  // namespace castor
