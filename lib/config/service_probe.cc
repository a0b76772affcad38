#include "config/service_probe.h"

#include <algorithm>

#include "common/value_parsers.h"

namespace castor {
namespace {

bool host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

Status bad(const std::string& why) {
  return Error(Code::invalid_argument,
               why + " (probe = http://HOST[:PORT][/PATH], tcp://HOST:PORT or exec /PROGRAM [ARGS])");
}

// "HOST[:PORT]" into the probe; `need_port` for tcp.
Status parse_authority(std::string_view a, bool need_port, uint16_t default_port, ServiceProbe& p) {
  size_t colon = a.find(':');
  std::string_view host = a.substr(0, colon);
  if (host.empty() || host.size() > 253 || !std::all_of(host.begin(), host.end(), host_char))
    return bad("'" + std::string(host) + "' is not a host name or IPv4 address");
  p.host = std::string(host);
  if (colon == std::string_view::npos) {
    if (need_port) return bad("a tcp probe needs a port");
    p.port = default_port;
    return Status::Ok();
  }
  auto port = parse_integer(a.substr(colon + 1), 1, 65535);
  if (!port.ok()) return bad("port '" + std::string(a.substr(colon + 1)) + "': " + port.status().message());
  p.port = uint16_t(*port);
  return Status::Ok();
}

}  // namespace

Result<ServiceProbe> parse_service_probe(std::string_view text) {
  ServiceProbe p;
  if (text.rfind("http://", 0) == 0) {
    p.kind = ServiceProbe::Kind::http;
    std::string_view rest = text.substr(7);
    size_t slash = rest.find('/');
    RETURN_IF_ERROR(parse_authority(rest.substr(0, slash), false, 80, p));
    if (slash != std::string_view::npos) p.path = std::string(rest.substr(slash));
    for (char c : p.path)
      if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f)
        return bad("the path must be printable ASCII without spaces");
    return p;
  }
  if (text.rfind("https://", 0) == 0) return bad("https is not probed (a TLS probe would need the service's certificate): use tcp://HOST:443");
  if (text.rfind("tcp://", 0) == 0) {
    p.kind = ServiceProbe::Kind::tcp;
    RETURN_IF_ERROR(parse_authority(text.substr(6), true, 0, p));
    return p;
  }
  if (text.rfind("exec ", 0) == 0) {
    p.kind = ServiceProbe::Kind::exec;
    std::string_view rest = text.substr(5);
    while (!rest.empty()) {
      while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
      if (rest.empty()) break;
      size_t sp = rest.find(' ');
      p.argv.emplace_back(rest.substr(0, sp));
      rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp);
    }
    if (p.argv.empty() || p.argv[0].empty() || p.argv[0][0] != '/') return bad("exec needs an absolute program path");
    return p;
  }
  return bad("'" + std::string(text.substr(0, 60)) + "' is not a probe");
}

}  // namespace castor
