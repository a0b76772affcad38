#include "common/uuid.h"

#include <sys/random.h>

#include <cerrno>
#include <cstdio>

#include "common/errno_status.h"

namespace castor {
namespace {

Status fill_random(void* p, size_t n) {
  auto* out = static_cast<uint8_t*>(p);
  while (n > 0) {
    ssize_t r = getrandom(out, n, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      return errno_status("getrandom", "");
    }
    out += r;
    n -= size_t(r);
  }
  return Status::Ok();
}

int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool Uuid::is_nil() const {
  for (uint8_t b : bytes)
    if (b) return false;
  return true;
}

std::string Uuid::to_string() const {
  char buf[37];
  std::snprintf(buf, sizeof buf, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", bytes[0],
                bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9], bytes[10],
                bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]);
  return buf;
}

Result<Uuid> random_uuid() {
  Uuid u;
  RETURN_IF_ERROR(fill_random(u.bytes.data(), u.bytes.size()));
  u.bytes[6] = uint8_t((u.bytes[6] & 0x0F) | 0x40);
  u.bytes[8] = uint8_t((u.bytes[8] & 0x3F) | 0x80);
  return u;
}

Result<Uuid> parse_uuid(const std::string& text) {
  Uuid u;
  size_t j = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '-' && (i == 8 || i == 13 || i == 18 || i == 23)) continue;
    if (i + 1 >= text.size() || j >= 16) return Error(Code::invalid_argument, "bad UUID '" + text + "'");
    int hi = hexval(text[i]), lo = hexval(text[i + 1]);
    if (hi < 0 || lo < 0) return Error(Code::invalid_argument, "bad UUID '" + text + "'");
    u.bytes[j++] = uint8_t(hi * 16 + lo);
    ++i;
  }
  if (j != 16 || text.size() != 36) return Error(Code::invalid_argument, "bad UUID '" + text + "'");
  return u;
}

Result<uint64_t> random_u64() {
  uint64_t v = 0;
  RETURN_IF_ERROR(fill_random(&v, sizeof v));
  return v;
}

}  // namespace castor
