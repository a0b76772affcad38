#include "config/web_config.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

#include "common/ini_reader.h"
#include "common/read_file.h"
#include "common/trusted_path.h"
#include "common/value_parsers.h"
#include "config/castor_ini.h"
#include "config/quorumd_config.h"

namespace castor {

Result<std::string> canonical_server_name(std::string_view name) {
  std::string n(name);
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  auto bad = [&](const std::string& why) {
    return Error(Code::invalid_argument, "'" + std::string(name) + "' is not a server name: " + why);
  };
  if (n.empty()) return bad("empty");
  std::string bare = n;
  if (n.front() == '[') {
    if (n.size() < 3 || n.back() != ']') return bad("an unclosed '['");
    bare = n.substr(1, n.size() - 2);
  }
  in6_addr a6{};
  if (::inet_pton(AF_INET6, bare.c_str(), &a6) == 1) return "[" + bare + "]";
  if (n.front() == '[') return bad("not an IPv6 address between the brackets");
  in_addr a4{};
  if (::inet_pton(AF_INET, n.c_str(), &a4) == 1) return n;
  if (n.size() > 253) return bad("longer than 253 characters");
  if (n.front() == '.' || n.front() == '-' || n.back() == '-' || n.find("..") != std::string::npos)
    return bad("a DNS name's labels must not be empty or begin or end with '-'");
  if (!std::all_of(n.begin(), n.end(), [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '.'; }))
    return bad("only letters, digits, '-' and '.' (or a numeric address)");
  if (n.back() == '.') n.pop_back();  // the root's dot: the same name
  return n;
}

bool WebConfig::loopback() const {
  in_addr a4{};
  if (::inet_pton(AF_INET, listen.c_str(), &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
  in6_addr a6{};
  return ::inet_pton(AF_INET6, listen.c_str(), &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

Status parse_web_ini(const std::string& text, const std::string& file_name, WebConfig& config) {
  std::vector<CastorIniSection> sections = read_castor_ini_sections(
      text, file_name,
      {{"web", {"listen", "port", "certificate", "private_key", "pam_service", "admin_group", "session_timeout_s", "user", "server_names"}},
});
  CastorIniSection& web = sections[0];
  for (const IniEntry& e : web.entries) {
    if (e.value.empty()) {
      web.error(e.line, ini_bad_value(e.key, web.title(), "empty value"));
    } else if (e.key == "port") {
      auto v = parse_integer(e.value, 1, 65535);
      if (v.ok()) config.port = uint16_t(*v);
      else web.error(e.line, ini_bad_value(e.key, web.title(), v.status().message()));
    } else if (e.key == "server_names") {
      config.server_names.clear();
      for (const std::string& item : split_device_list(e.value)) {  // words split on commas and blanks
        auto n = canonical_server_name(item);
        if (n.ok()) config.server_names.push_back(*n);
        else web.error(e.line, ini_bad_value(e.key, web.title(), n.status().message()));
      }
    } else if (e.key == "session_timeout_s") {
      auto v = parse_integer(e.value, 30, 7 * 24 * 3600);
      if (v.ok()) config.session_timeout = std::chrono::seconds(*v);
      else web.error(e.line, ini_bad_value(e.key, web.title(), v.status().message()));
    } else {
      std::string* target = e.key == "listen"        ? &config.listen
                            : e.key == "certificate" ? &config.certificate
                            : e.key == "private_key" ? &config.private_key
                            : e.key == "pam_service" ? &config.pam_service
                            : e.key == "admin_group" ? &config.admin_group
                            : e.key == "user"        ? &config.user
                                                     : nullptr;
      if (target) *target = e.value;
    }
  }
  if (config.certificate.empty() != config.private_key.empty())
    web.error(0, "[web] certificate and private_key go together: give both for HTTPS, or neither");
  // The daemons' sections: only their socket paths matter here (the daemons check their own keys).
  IniDocument doc = parse_ini(text, file_name);
  for (const IniSection& s : doc.sections) {
    if (s.name == "web") config.present = true;
    for (const IniEntry& e : s.entries) {
      if (e.key != "socket" || e.value.empty()) continue;
      if (s.name == "quorumd") config.quorumd_socket = e.value;
      if (s.name == "svcmgr") config.svcmgr_socket = e.value;
    }
  }
  return web.status();
}

Status load_web_config(const std::string& path, WebConfig& config) {
  if (auto t = check_trusted_path(path); !t.ok()) return t.status().with_context("the config file");
  auto text = read_file_to_string(path);
  if (!text.ok()) return text.status();
  return parse_web_ini(*text, path, config);
}

}  // namespace castor
