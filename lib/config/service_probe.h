// ServiceProbe: how a client tells that a service answers, for `castor drill` (issue 20): the [service]
// key `probe`, one of
//   probe = http://HOST[:PORT][/PATH]   an HTTP GET answered with a 2xx or 3xx status
//   probe = tcp://HOST:PORT             a TCP connection accepted
//   probe = exec PROGRAM [ARGS...]      a command that exits 0 (PROGRAM an absolute path)
// HOST is an IPv4 address or a host name (no IPv6 literal). Only the drill uses it: it changes nothing the
// cluster does and is not part of the definition's digest. Pure: parsing only, never probes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace castor {

struct ServiceProbe {
  enum class Kind { http, tcp, exec } kind = Kind::tcp;
  std::string host;
  uint16_t port = 0;
  std::string path = "/";         // http
  std::vector<std::string> argv;  // exec
};

// invalid_argument saying what is wrong.
Result<ServiceProbe> parse_service_probe(std::string_view text);

}  // namespace castor
