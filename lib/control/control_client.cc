#include "control/control_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/errno_status.h"
#include "common/unix_socket.h"
#include "control/control_protocol.h"

namespace castor {

Result<ControlClient> ControlClient::connect(const std::string& path, Duration timeout) {
  ASSIGN_OR_RETURN(UniqueFd fd, connect_unix_socket(path, false, timeout));  // a stopped daemon: bounded
  return ControlClient(std::move(fd), path, timeout);
}

Result<std::string> ControlClient::next_frame() {
  BootClock clock;
  const TimePoint deadline = clock.now() + timeout_;
  for (;;) {
    auto frame = take_frame(buffer_, kMaxReplyPayload);
    if (!frame.ok()) return frame.status().with_context("reply from " + path_);
    if (*frame) return std::move(**frame);
    const TimePoint now = clock.now();
    if (now >= deadline) return Error(Code::timeout, "no reply from " + path_ + " within " + format_duration(timeout_));
    pollfd p{fd_.get(), POLLIN, 0};
    int r = ::poll(&p, 1, int(to_ms(deadline - now)) + 1);
    if (r < 0 && errno != EINTR) return errno_status("poll", path_);
    if (r <= 0) continue;
    char buf[16384];
    ssize_t n = ::read(fd_.get(), buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return errno_status("read", path_);
    if (n == 0) return Error(Code::io_error, path_ + " closed the connection");
    buffer_.append(buf, size_t(n));
  }
}

Result<std::string> ControlClient::request(const std::string& line) {
  ASSIGN_OR_RETURN(std::string frame, encode_frame(line));
  size_t off = 0;
  while (off < frame.size()) {
    ssize_t n = ::send(fd_.get(), frame.data() + off, frame.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_status("send", path_);
    off += size_t(n);
  }
  return next_frame();
}

Result<std::string> ControlClient::ask(const std::string& path, const std::string& line, Duration timeout) {
  ASSIGN_OR_RETURN(ControlClient c, connect(path, timeout));
  return c.request(line);
}

}  // namespace castor
