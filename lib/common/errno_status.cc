#include "common/errno_status.h"

#include <cerrno>
#include <cstring>
#include <string>

namespace castor {

Status errno_status(std::string_view what, std::string_view object, int err) {
  Code code = Code::io_error;
  switch (err) {
    case ENOENT: code = Code::not_found; break;
    case EACCES:
    case EPERM:
    case EROFS: code = Code::permission_denied; break;
    case EBUSY: code = Code::busy; break;
    case EINVAL: code = Code::invalid_argument; break;
    case EEXIST: code = Code::already_exists; break;
    case ETIMEDOUT: code = Code::timeout; break;
    case EOPNOTSUPP: code = Code::unsupported; break;
    default: break;
  }
  std::string m(what);
  if (!object.empty()) {
    m += ' ';
    m += object;
  }
  m += ": ";
  m += std::strerror(err);
  return Status(code, std::move(m));
}

Status errno_status(std::string_view what, std::string_view object) {
  return errno_status(what, object, errno);
}

}  // namespace castor
