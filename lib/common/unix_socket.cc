#include "common/unix_socket.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/errno_status.h"

namespace castor {

namespace {

Status set_send_timeout(int fd, Duration d, const std::string& path) {
  timeval tv{};
  if (d > Duration::zero()) {
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
    tv.tv_sec = time_t(us / 1000000);
    tv.tv_usec = suseconds_t(us % 1000000);
    if (tv.tv_sec == 0 && tv.tv_usec == 0) tv.tv_usec = 1;  // 0 would mean "wait forever"
  }
  if (::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0) return errno_status("setsockopt SO_SNDTIMEO", path);
  return Status::Ok();
}

}  // namespace

Result<UniqueFd> connect_unix_socket(const std::string& path, bool nonblocking, Duration connect_timeout) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) return Error(Code::invalid_argument, "socket path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0));
  if (!fd.valid()) return errno_status("socket", path);
  // A blocking AF_UNIX connect() waits for a slot in the listener's backlog for as long as SO_SNDTIMEO
  // says (forever by default); a non-blocking one does not wait (EAGAIN).
  if (!nonblocking) RETURN_IF_ERROR(set_send_timeout(fd.get(), std::max(connect_timeout, Duration(1)), path));
  int rc;
  do {
    rc = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  } while (rc != 0 && errno == EINTR && !nonblocking);
  if (rc != 0) {
    int err = errno;
    if (err == ENOENT || err == ECONNREFUSED)
      return Error(Code::not_found, "no daemon listens on " + path + " (" + std::strerror(err) + ")");
    if (err == EAGAIN || err == EWOULDBLOCK) {
      if (nonblocking)
        return Error(Code::busy, "the daemon at " + path +
                                     " does not accept connections (its backlog is full: is it stopped or hung?)");
      return Error(Code::timeout, "the daemon at " + path + " did not accept a connection within " +
                                      format_duration(connect_timeout) + " (its backlog is full: is it stopped or hung?)");
    }
    return errno_status("connect", path, err);
  }
  if (!nonblocking) RETURN_IF_ERROR(set_send_timeout(fd.get(), Duration::zero(), path));  // sends as before
  RETURN_IF_ERROR(check_server_is_root(fd.get(), path));
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
