// Connecting to a local AF_UNIX stream socket (the daemons' control sockets), with the errors an admin
// understands: "no daemon listens on PATH" when nothing is there. Never retries or blocks beyond connect().
// The server must run as root: after connect() its SO_PEERCRED uid must be 0 (or this process's own euid,
// which is 0 for the daemons and the admin; an ordinary user's test suite talks to its own servers).
// Anything else is refused as an impostor: a socket path in a directory others can write to could be
// served by anyone, and svcmgr/castor would take its replies (quorum state, service table) as quorumd's.
#pragma once

#include <string>

#include "common/status.h"
#include "common/unique_fd.h"

namespace castor {

// nonblocking: O_NONBLOCK is set after the connection is made (for epoll/poll loops).
Result<UniqueFd> connect_unix_socket(const std::string& path, bool nonblocking);

// The check connect_unix_socket makes: Code::refused unless the peer of the connected socket `fd` runs as
// uid 0 or as this process's euid.
Status check_server_is_root(int fd, const std::string& path);

}  // namespace castor
