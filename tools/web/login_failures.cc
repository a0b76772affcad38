#include "tools/web/login_failures.h"

#include <iterator>

namespace castor {

size_t LoginFailures::count(const std::string& key, TimePoint now) {
  auto it = failures_.find(key);
  if (it == failures_.end()) return 0;
  while (!it->second.empty() && now - it->second.front() > kWindow) it->second.pop_front();
  if (it->second.empty()) {
    failures_.erase(it);
    return 0;
  }
  return it->second.size();
}

bool LoginFailures::full(TimePoint now) {
  if (failures_.size() < kMaxKeys) return false;
  for (auto it = failures_.begin(); it != failures_.end();)  // forget the stale ones first
    it = !it->second.empty() && now - it->second.back() > kWindow ? failures_.erase(it) : std::next(it);
  return failures_.size() >= kMaxKeys;
}

void LoginFailures::note(const std::string& key, TimePoint now) {
  if (!failures_.count(key) && full(now)) return;
  auto& d = failures_[key];
  d.push_back(now);
  while (d.size() > kMaxFailures * 2) d.pop_front();
}

}  // namespace castor
