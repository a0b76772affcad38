#include "common/unix_socket.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/errno_status.h"

namespace castor {

Result<UniqueFd> connect_unix_socket(const std::string& path, bool nonblocking) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) return Error(Code::invalid_argument, "socket path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return errno_status("socket", path);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    if (err == ENOENT || err == ECONNREFUSED)
      return Error(Code::not_found, "no daemon listens on " + path + " (" + std::strerror(err) + ")");
    return errno_status("connect", path, err);
  }
  RETURN_IF_ERROR(check_server_is_root(fd.get(), path));
  if (nonblocking) {
    int fl = ::fcntl(fd.get(), F_GETFL);
    if (fl < 0 || ::fcntl(fd.get(), F_SETFL, fl | O_NONBLOCK) != 0) return errno_status("fcntl O_NONBLOCK", path);
  }
  return fd;
}

Status check_server_is_root(int fd, const std::string& path) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return errno_status("getsockopt SO_PEERCRED", path);
  if (cred.uid == 0 || cred.uid == ::geteuid()) return Status::Ok();
  return Error(Code::refused, "refusing " + path + ": the process serving it (pid " + std::to_string(cred.pid) +
                                  ") runs as uid " + std::to_string(cred.uid) +
                                  ", not root: an impostor, not a Castor daemon (check the socket's directory)");
}

}  // namespace castor
