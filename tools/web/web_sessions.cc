#include "tools/web/web_sessions.h"

#include <sodium.h>

#include <algorithm>

namespace castor {
namespace {

std::string random_token() {
  unsigned char raw[32];
  randombytes_buf(raw, sizeof raw);
  char hex[2 * sizeof raw + 1];
  sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
  return std::string(hex, 2 * sizeof raw);
}

std::string token_hash(const std::string& token) {
  unsigned char h[crypto_generichash_BYTES];
  crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(token.data()), token.size(), nullptr, 0);
  return std::string(reinterpret_cast<const char*>(h), sizeof h);
}

}  // namespace

WebSessions::Created WebSessions::create(const std::string& user, TimePoint now) {
  if (sodium_init() < 0) return {};  // never: libsodium is initialised by main; an empty token matches nothing
  // Expired sessions go first, then, at the bound, the least recently used.
  for (auto it = sessions_.begin(); it != sessions_.end();)
    it = now - it->second.last_used > idle_ || now - it->second.created > kMaxLifetime ? sessions_.erase(it) : std::next(it);
  while (sessions_.size() >= kMaxSessions) {
    auto oldest = std::min_element(sessions_.begin(), sessions_.end(), [](const auto& a, const auto& b) {
      return a.second.last_used < b.second.last_used;
    });
    sessions_.erase(oldest);
  }
  Created c{random_token(), random_token()};
  sessions_[token_hash(c.token)] = Session{user, c.csrf, now, now};
  return c;
}

WebSessions::Session* WebSessions::find(const std::string& token, TimePoint now) {
  if (token.size() != 64) return nullptr;
  auto it = sessions_.find(token_hash(token));
  if (it == sessions_.end()) return nullptr;
  if (now - it->second.last_used > idle_ || now - it->second.created > kMaxLifetime) {
    sessions_.erase(it);
    return nullptr;
  }
  return &it->second;
}

std::optional<std::string> WebSessions::user_of(const std::string& token, TimePoint now) {
  Session* s = find(token, now);
  if (!s) return std::nullopt;
  s->last_used = now;
  return s->user;
}

std::optional<std::string> WebSessions::csrf_of(const std::string& token, TimePoint now) {
  Session* s = find(token, now);
  if (!s) return std::nullopt;
  return s->csrf;
}

bool WebSessions::check_csrf(const std::string& token, const std::string& csrf, TimePoint now) {
  Session* s = find(token, now);
  if (!s || csrf.size() != s->csrf.size()) return false;
  if (sodium_memcmp(csrf.data(), s->csrf.data(), csrf.size()) != 0) return false;
  s->last_used = now;
  return true;
}

void WebSessions::end(const std::string& token) {
  if (token.size() == 64) sessions_.erase(token_hash(token));
}

}  // namespace castor
