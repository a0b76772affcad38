#include "common/read_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "common/errno_status.h"
#include "common/unique_fd.h"

namespace castor {

Result<std::string> read_fd_to_string(int fd, std::string_view name, size_t max_bytes) {
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_status("read", name);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > max_bytes)
      return Error(Code::invalid_argument, std::string(name) + " is larger than " + std::to_string(max_bytes) + " bytes");
  }
  return out;
}

Result<std::string> read_file_to_string(const std::string& path, size_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return errno_status("open", path);
  return read_fd_to_string(fd.get(), path, max_bytes);
}

}  // namespace castor
