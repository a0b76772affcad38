#include "tests/support/control_client.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <thread>

#include "control/control_protocol.h"

namespace castor::testing {

UniqueFd connect_unix(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return UniqueFd();
  sockaddr_un a{};
  if (path.size() >= sizeof a.sun_path) return UniqueFd();
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path, path.data(), path.size());
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) return UniqueFd();
  return fd;
}

bool send_frame(int fd, const std::string& line) {
  auto frame = encode_frame(line);
  if (!frame.ok()) return false;
  return ::send(fd, frame->data(), frame->size(), MSG_NOSIGNAL) == ssize_t(frame->size());
}

bool drive_until(ControlServer& server, ControlServer::Handler& handler, const std::function<bool()>& done,
                 int rounds, Duration pause) {
  for (int i = 0; i < rounds && !done(); ++i) {
    server.process(handler);
    std::this_thread::sleep_for(pause);
  }
  return done();
}

std::vector<std::string> read_replies(int fd, ControlServer& server, ControlServer::Handler& handler, size_t n,
                                      int rounds, Duration pause) {
  std::vector<std::string> out;
  std::string buf;
  for (int i = 0; i < rounds && out.size() < n; ++i) {
    server.process(handler);
    char chunk[65536];
    ssize_t got = ::recv(fd, chunk, sizeof chunk, MSG_DONTWAIT);
    if (got > 0) buf.append(chunk, size_t(got));
    for (;;) {
      auto f = take_frame(buf, kMaxReplyPayload);
      if (!f.ok()) {
        out.push_back("(bad frame: " + f.status().to_string() + ")");
        return out;
      }
      if (!*f) break;
      out.push_back(**f);
    }
    std::this_thread::sleep_for(pause);
  }
  return out;
}

}  // namespace castor::testing
