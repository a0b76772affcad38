#include "common/status.h"

namespace castor {

std::string_view code_name(Code c) {
  switch (c) {
    case Code::ok: return "ok";
    case Code::io_error: return "I/O error";
    case Code::timeout: return "timeout";
    case Code::corrupt: return "corrupt";
    case Code::invalid_argument: return "invalid argument";
    case Code::not_found: return "not found";
    case Code::already_exists: return "already exists";
    case Code::permission_denied: return "permission denied";
    case Code::busy: return "busy";
    case Code::unsupported: return "unsupported";
    case Code::refused: return "refused";
    case Code::internal: return "internal error";
  }
  return "unknown";
}

std::string Status::to_string() const {
  if (ok()) return "ok";
  std::string s(code_name(code_));
  if (!message_.empty()) {
    s += ": ";
    s += message_;
  }
  return s;
}

Status Status::with_context(std::string_view context) const {
  if (ok()) return *this;
  std::string m(context);
  m += ": ";
  m += message_;
  return Status(code_, std::move(m));
}

}  // namespace castor
