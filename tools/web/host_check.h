// HostCheck: which Host headers castor-web answers (DNS rebinding: a page of another site whose name was
// rebound to the console's address sends that site's name). A console bound to loopback answers loopback
// names (localhost, [::1], numeric 127/8) and the configured server names; one bound to another address
// answers only its server names when [web] server_names is set, and any name otherwise. Pure: no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>


namespace castor {

// A Host header's host without its port, lower case: "Console.Example:8443" -> "console.example",
// "[::1]:7630" -> "[::1]". nullopt for a header that is no host (empty, an unclosed '[', a bad port).
std::optional<std::string> host_of_header(std::string_view header);

// localhost, [::1], or a numeric IPv4 address in 127/8 ("127.attacker.example" is a name: no).
bool is_loopback_host(std::string_view host);

// Whether a request with this Host header (nullopt: none) is answered; `server_names` as [web] server_names
// gives them (canonical_server_name, config/web_config.h). Only an HTTP/1.0 request may have no Host, and
// only where no name is required of it.
bool host_allowed(const std::optional<std::string_view>& header, bool http_1_0, bool loopback,
                  const std::vector<std::string>& server_names);

}  // namespace castor
