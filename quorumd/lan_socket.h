// LanSocket: one LAN heartbeat link as quorumd's loop sees it — send a datagram to the peer, take the next one
// that arrived. The production one (udp_lan_socket.h) is a nonblocking UDP socket bound to the link's local
// address and connected to the peer's (the kernel drops datagrams from any other source); tests give memory
// links that can lose, delay or forge. A LanSocket decides nothing: it never decodes, authenticates or drops a
// datagram for its content, and never blocks.
#pragma once

#include <cstddef>
#include <optional>
#include <span>

#include "common/status.h"

namespace castor {

class LanSocket {
 public:
  virtual ~LanSocket() = default;
  // Readable when a datagram waits; -1 when the socket has no descriptor (the loop polls it every turn).
  virtual int fd() const = 0;
  // Sends one datagram to the peer. Errors (no route, refused by the peer's ICMP, ...) are returned, never thrown.
  virtual Status send(std::span<const std::byte> datagram) = 0;
  // The next waiting datagram, copied into `buf` (truncated to buf.size()); returns its FULL length (which may
  // exceed buf.size(): an oversized datagram), or nullopt when none waits.
  virtual Result<std::optional<size_t>> receive(std::span<std::byte> buf) = 0;
  virtual std::string describe() const = 0;  // "udp 10.0.1.1:5406 -> 10.0.1.2:5406"
};

}  // namespace castor
