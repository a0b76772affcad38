#include "tools/web/host_check.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

namespace castor {

std::optional<std::string> host_of_header(std::string_view header) {
  std::string h(header);
  std::transform(h.begin(), h.end(), h.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  std::string port;
  if (!h.empty() && h[0] == '[') {
    const size_t close = h.find(']');
    if (close == std::string::npos) return std::nullopt;
    if (close + 1 < h.size()) {
      if (h[close + 1] != ':') return std::nullopt;
      port = h.substr(close + 2);
    }
    h.resize(close + 1);
  } else if (const size_t colon = h.find(':'); colon != std::string::npos) {
    port = h.substr(colon + 1);
    h.resize(colon);
  }
  if (h.empty() || !std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); }) ||
      port.size() > 5)
    return std::nullopt;
  return h;
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost" || host == "[::1]") return true;
  in_addr a{};
  const std::string h(host);
  return ::inet_pton(AF_INET, h.c_str(), &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

bool host_allowed(const std::optional<std::string_view>& header, bool http_1_0, bool loopback,
                  const std::vector<std::string>& server_names) {
  if (!header) return http_1_0 && (loopback || server_names.empty());
  auto host = host_of_header(*header);
  if (!host) return false;
  if (!host->empty() && host->back() == '.') host->pop_back();
  if (std::find(server_names.begin(), server_names.end(), *host) != server_names.end()) return true;
  if (loopback) return is_loopback_host(*host);
  return server_names.empty();
}

}  // namespace castor
