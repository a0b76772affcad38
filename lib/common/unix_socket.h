// Connecting to a local AF_UNIX stream socket (the daemons' control sockets), with the errors an admin
// understands: "no daemon listens on PATH" when nothing is there. Never retries or blocks beyond connect().
#pragma once

#include <string>

#include "common/status.h"
#include "common/unique_fd.h"

namespace castor {

// nonblocking: O_NONBLOCK is set after the connection is made (for epoll/poll loops).
Result<UniqueFd> connect_unix_socket(const std::string& path, bool nonblocking);

}  // namespace castor
