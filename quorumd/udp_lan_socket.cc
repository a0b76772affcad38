#include "quorumd/udp_lan_socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "common/errno_status.h"
#include "common/log.h"
#include "common/unique_fd.h"

namespace castor {
namespace {

struct SockAddr {
  sockaddr_storage storage{};
  socklen_t len = 0;
  int family = AF_UNSPEC;
};

Result<SockAddr> parse_address(const std::string& text, uint16_t port) {
  SockAddr a;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
  if (inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    a.len = sizeof(sockaddr_in);
    a.family = AF_INET;
    return a;
  }
  a.storage = {};
  if (inet_pton(AF_INET6, text.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    a.len = sizeof(sockaddr_in6);
    a.family = AF_INET6;
    return a;
  }
  return Error(Code::invalid_argument, "'" + text + "' is not a numeric IPv4 or IPv6 address");
}

class UdpLanSocket final : public LanSocket {
 public:
  UdpLanSocket(UniqueFd fd, std::string what) : fd_(std::move(fd)), what_(std::move(what)) {}
  int fd() const override { return fd_.get(); }
  Status send(std::span<const std::byte> datagram) override {
    ssize_t n = ::send(fd_.get(), datagram.data(), datagram.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) return errno_status("send", what_);
    if (size_t(n) != datagram.size()) return Error(Code::io_error, "send " + what_ + ": short datagram");
    return Status::Ok();
  }
  Result<std::optional<size_t>> receive(std::span<std::byte> buf) override {
    for (;;) {
      ssize_t n = ::recv(fd_.get(), buf.data(), buf.size(), MSG_DONTWAIT | MSG_TRUNC);
      if (n >= 0) return std::optional<size_t>(size_t(n));
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return std::optional<size_t>();
      // An ICMP error of an earlier send (the peer's port closed: quorumd not running there) is reported on
      // the next call: it is not a datagram, and the socket goes on.
      if (errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH) continue;
      return errno_status("recv", what_);
    }
  }
  std::string describe() const override { return what_; }

 private:
  UniqueFd fd_;
  std::string what_;
};

}  // namespace

Result<std::unique_ptr<LanSocket>> open_udp_lan_socket(const LanLinkConfig& link, uint16_t port) {
  auto local = parse_address(link.local, port);
  if (!local.ok()) return local.status().with_context("LAN link local address");
  auto peer = parse_address(link.peer, port);
  if (!peer.ok()) return peer.status().with_context("LAN link peer address");
  if (local->family != peer->family)
    return Error(Code::invalid_argument, "LAN link " + link.local + " -> " + link.peer + ": address families differ");
  const std::string what = "udp " + link.local + ":" + std::to_string(port) + " -> " + link.peer + ":" + std::to_string(port);
  UniqueFd fd(::socket(local->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return errno_status("socket", what);
  if (local->family == AF_INET) {
    int tos = IPTOS_CLASS_CS6;
    if (::setsockopt(fd.get(), IPPROTO_IP, IP_TOS, &tos, sizeof tos) != 0)
      log::warning("cannot set the LAN heartbeat's traffic class (CS6)", {{"link", what}, {"error", std::strerror(errno)}});
  } else {
    int tclass = IPTOS_CLASS_CS6;
    if (::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_TCLASS, &tclass, sizeof tclass) != 0)
      log::warning("cannot set the LAN heartbeat's traffic class (CS6)", {{"link", what}, {"error", std::strerror(errno)}});
  }
  // An address not (yet) up on this node — its interface down at boot — binds all the same and starts
  // working when it comes up; until then the link shows as down in castor status.
  int one = 1;
  if (::setsockopt(fd.get(), IPPROTO_IP, IP_FREEBIND, &one, sizeof one) != 0)
    log::warning("cannot set IP_FREEBIND on the LAN heartbeat socket", {{"link", what}, {"error", std::strerror(errno)}});
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&local->storage), local->len) != 0)
    return errno_status("bind", what + " (is " + link.local + " an address of this node?)");
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&peer->storage), peer->len) != 0)
    return errno_status("connect", what);
  return std::unique_ptr<LanSocket>(new UdpLanSocket(std::move(fd), what));
}

}  // namespace castor
