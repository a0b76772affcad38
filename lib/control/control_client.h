// ControlClient: a blocking client of a Castor control socket (quorumd's, later svcmgr's), for the CLI and
// tests. One request, one JSON reply, each framed as in lib/control/control_protocol.h. Every wait is
// bounded by the given timeout; never hangs on a stuck daemon.
#pragma once

#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "common/unique_fd.h"

namespace castor {

class ControlClient {
 public:
  // Connects to the AF_UNIX socket at `path`. not_found / refused when no daemon listens there; timeout when
  // it does not accept within `timeout` (stopped or hung, its backlog full).
  static Result<ControlClient> connect(const std::string& path, Duration timeout);
  // Sends one request line and returns the reply's JSON text.
  Result<std::string> request(const std::string& line);
  // One request on a fresh connection (connect, request, close): what the CLI and the console's poller do.
  static Result<std::string> ask(const std::string& path, const std::string& line, Duration timeout);
  // Waits for the next frame (events after `subscribe`).
  Result<std::string> next_frame();

 private:
  ControlClient(UniqueFd fd, std::string path, Duration timeout)
      : fd_(std::move(fd)), path_(std::move(path)), timeout_(timeout) {}
  UniqueFd fd_;
  std::string path_;
  Duration timeout_;
  std::string buffer_;
};

}  // namespace castor
