// Test support: a raw client of a ControlServer on its unix socket, for unit tests in which the test is
// both the client and the server's loop on one thread (it drives server.process() between its reads).
// Frames are built and read with control/control_protocol.h, as a real client does; nothing here is a
// second implementation of the protocol. Never used by production code.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/unique_fd.h"
#include "control/control_server.h"

namespace castor::testing {

// A stream socket connected to `path`; invalid if the socket or the connect failed.
UniqueFd connect_unix(const std::string& path);

// Sends `line` as one request frame; false if it could not be framed or was not sent whole.
bool send_frame(int fd, const std::string& line);

// Runs server.process(handler) until done() holds, at most `rounds` times with `pause` between them;
// returns done().
bool drive_until(ControlServer& server, ControlServer::Handler& handler, const std::function<bool()>& done,
                 int rounds, Duration pause);

// The reply payloads that arrive on `fd` while the server is driven, until `n` arrived or `rounds`
// rounds (one process(), one non-blocking read, `pause`) passed. Bytes that are not a valid reply frame
// end the list with an entry "(bad frame: ...)", which no test expects.
std::vector<std::string> read_replies(int fd, ControlServer& server, ControlServer::Handler& handler, size_t n,
                                      int rounds, Duration pause);

}  // namespace castor::testing
