// LoginFailures: failed logins counted by key (an address, a user name) within a window, the throttle of
// castor-web's logins and of its PAM helper. The table is bounded and fails closed: once it is full of live
// keys, full() says so and no key is evicted (an attacker who fills it must not push out the entries that
// hold it back). Pure: the caller gives the time; no I/O, no locking.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <string>

#include "common/clock.h"

namespace castor {

class LoginFailures {
 public:
  static constexpr size_t kMaxFailures = 5;             // within the window: refused without asking PAM
  static constexpr std::chrono::minutes kWindow{10};
  static constexpr size_t kMaxKeys = 4096;

  // Failures of `key` within the window (older ones forgotten).
  size_t count(const std::string& key, TimePoint now);
  bool too_many(const std::string& key, TimePoint now) { return count(key, now) >= kMaxFailures; }
  // The table is full of live keys (stale ones are forgotten first).
  bool full(TimePoint now);
  // One more failure of `key` (not kept for a new key while the table is full).
  void note(const std::string& key, TimePoint now);
  // A login of `key` worked: its count starts again.
  void forget(const std::string& key) { failures_.erase(key); }

 private:
  std::map<std::string, std::deque<TimePoint>> failures_;
};

}  // namespace castor
