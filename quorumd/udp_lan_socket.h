// The production LanSocket: a nonblocking, close-on-exec UDP socket bound to (link.local, port) and connected
// to (link.peer, port), so that the kernel delivers only the peer address's datagrams (anything can still be
// forged from that address: the datagram's HMAC decides). Traffic class CS6 (network control) is asked for and
// only warned about when refused. Must never block, and never be opened on an address the link does not name.
#pragma once

#include <cstdint>
#include <memory>

#include "common/status.h"
#include "config/lan_config.h"
#include "quorumd/lan_socket.h"

namespace castor {

Result<std::unique_ptr<LanSocket>> open_udp_lan_socket(const LanLinkConfig& link, uint16_t port);

}  // namespace castor
