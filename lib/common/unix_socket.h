// Connecting to a local AF_UNIX stream socket (the daemons' control sockets), with the errors an admin
// understands: "no daemon listens on PATH" when nothing is there. Never retries, and never blocks without
// bound: a daemon that is stopped (SIGSTOP, a debugger, frozen) or not accepting fills its listen backlog,
// after which an AF_UNIX connect() waits until the daemon accepts; here that wait is bounded (non-blocking:
// none at all; blocking: the caller's timeout, through SO_SNDTIMEO, which is what bounds the kernel's wait
// for a backlog slot; poll(2) cannot: an AF_UNIX socket whose connect returned EAGAIN is not "in progress",
// it polls writable at once).
// The server must run as root: after connect() its SO_PEERCRED uid must be 0 (or this process's own euid,
// which is 0 for the daemons and the admin; an ordinary user's test suite talks to its own servers).
// Anything else is refused as an impostor: a socket path in a directory others can write to could be
// served by anyone, and svcmgr/castor would take its replies (quorum state, service table) as quorumd's.
#pragma once

#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "common/unique_fd.h"

namespace castor {

inline constexpr Duration kDefaultConnectTimeout = std::chrono::seconds(5);

// nonblocking: the socket is O_NONBLOCK from the start (for epoll/poll loops), and a daemon whose backlog is
// full is Code::busy at once (the caller retries: svcmgr's start-up loop, up to its connect_timeout).
// Blocking: waits at most `connect_timeout` for a backlog slot, then Code::timeout.
Result<UniqueFd> connect_unix_socket(const std::string& path, bool nonblocking,
                                     Duration connect_timeout = kDefaultConnectTimeout);

// The check connect_unix_socket makes: Code::refused unless the peer of the connected socket `fd` runs as
// uid 0 or as this process's euid.
Status check_server_is_root(int fd, const std::string& path);

}  // namespace castor
