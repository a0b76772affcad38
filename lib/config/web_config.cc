#include "config/web_config.h"

#include "common/ini_reader.h"
#include "common/read_file.h"
#include "common/trusted_path.h"
#include "common/value_parsers.h"
#include "config/castor_ini.h"

namespace castor {

Status parse_web_ini(const std::string& text, const std::string& file_name, WebConfig& config) {
  std::vector<CastorIniSection> sections = read_castor_ini_sections(
      text, file_name,
      {{"web", {"listen", "port", "certificate", "private_key", "pam_service", "admin_group", "session_timeout_s", "user"}},
});
  CastorIniSection& web = sections[0];
  for (const IniEntry& e : web.entries) {
    if (e.value.empty()) {
      web.error(e.line, ini_bad_value(e.key, web.title(), "empty value"));
    } else if (e.key == "port") {
      auto v = parse_integer(e.value, 1, 65535);
      if (v.ok()) config.port = uint16_t(*v);
      else web.error(e.line, ini_bad_value(e.key, web.title(), v.status().message()));
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
