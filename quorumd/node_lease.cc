#include "quorumd/node_lease.h"

#include <algorithm>

namespace castor {

void NodeLease::renewed(TimePoint issued, TimePoint now) {
  if (fenced_) return;
  if (expiry_ && now >= *expiry_) return;  // lapsed: only fencing follows
  TimePoint e = issued + term_;
  expiry_ = expiry_ ? std::max(*expiry_, e) : e;
  last_issue_ = last_issue_ ? std::max(*last_issue_, issued) : issued;
}

bool NodeLease::extend_to(TimePoint until, TimePoint now) {
  if (fenced_ || !expiry_ || now >= *expiry_) return false;
  if (until <= *expiry_) return false;
  expiry_ = until;
  return true;
}

}  // namespace castor
