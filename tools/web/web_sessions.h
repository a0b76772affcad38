// WebSessions: castor-web's logged-in sessions. A login (checked by PAM, web/pam_auth.h) gets a session: a
// random 256-bit token for the cookie and a second one the page sends back in a header with every action
// (a forged cross-site request has the cookie, never the header: the page reads it from /api/session,
// which another site's page cannot read). Only a hash of the session token is kept (a lookup compares
// hashes, never the secret byte by byte), sessions end after `idle` without use, and at most kMaxSessions
// live at once (the least recently used goes first).
// Pure apart from the random tokens (libsodium): time comes in as arguments. Never throws.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>

#include "common/clock.h"

namespace castor {

class WebSessions {
 public:
  static constexpr size_t kMaxSessions = 256;
  // However busy, a session ends this long after its login (a user removed from the admin group, a
  // stolen cookie: neither lasts forever).
  static constexpr std::chrono::hours kMaxLifetime{12};

  explicit WebSessions(Duration idle) : idle_(idle) {}

  struct Created {
    std::string token;  // for the cookie
    std::string csrf;   // for the page's X-Castor-CSRF header
  };
  Created create(const std::string& user, TimePoint now);

  struct Session {
    std::string user;
    std::string csrf;
    TimePoint last_used;
    TimePoint created;
  };
  // The session of a cookie's token, if it is live (its idle time restarts); nullopt otherwise.
  std::optional<std::string> user_of(const std::string& token, TimePoint now);
  // The CSRF token of a live session (for the page that reloads).
  std::optional<std::string> csrf_of(const std::string& token, TimePoint now);
  // Whether `csrf` is the CSRF token of the live session `token` (the idle time restarts when it is).
  bool check_csrf(const std::string& token, const std::string& csrf, TimePoint now);
  void end(const std::string& token);
  size_t size() const { return sessions_.size(); }

 private:
  Session* find(const std::string& token, TimePoint now);
  Duration idle_;
  std::map<std::string, Session> sessions_;  // by the token's hash
};

}  // namespace castor
