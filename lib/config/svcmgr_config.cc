#include "config/svcmgr_config.h"

#include "common/read_file.h"
#include "common/trusted_path.h"
#include "config/castor_ini.h"

namespace castor {

namespace {
int line_of(const CastorIniSection& section, std::string_view key) {
  for (const IniEntry& e : section.entries)
    if (e.key == key) return e.line;
  return 0;
}
}  // namespace

Status parse_svcmgr_ini(const std::string& text, const std::string& file_name, SvcmgrConfig& config) {
  CastorIniSection section = read_castor_ini_section(
      text, file_name, "svcmgr", {"services_dir", "socket", "quorumd_socket", "ocf_root", "state_dir", "status_group", "operator_group"});
  for (const IniEntry& e : section.entries) {
    std::string* target = e.key == "services_dir"     ? &config.services_dir
                          : e.key == "socket"         ? &config.socket
                          : e.key == "quorumd_socket" ? &config.quorumd_socket
                          : e.key == "ocf_root"       ? &config.ocf_root
                          : e.key == "state_dir"      ? &config.state_dir
                          : e.key == "status_group"   ? &config.status_group
                          : e.key == "operator_group" ? &config.operator_group
                                                      : nullptr;
    if (!target) {
      section.error(e.line, "internal: key '" + e.key + "' accepted but not read");  // never: the list above
    } else if (e.value.empty()) {
      section.error(e.line, ini_bad_value(e.key, section.title(), "empty value"));
    } else {
      *target = e.value;
    }
  }
  if (!config.operator_group.empty() && config.status_group.empty())
    section.error(line_of(section, "operator_group"),
                  "operator_group needs status_group: an operator connects to the socket as a status reader does");
  std::vector<AlertConfig> alerts = read_alert_sections(text, file_name, section.errors);
  if (section.status().ok()) config.alerts = std::move(alerts);
  return section.status();
}

Status load_svcmgr_config(const std::string& path, SvcmgrConfig& config) {
  // A file that is there but not root's alone is refused (Code::refused, never not_found: svcmgr must not
  // fall back to its defaults over it). A missing file stays not_found.
  if (auto t = check_trusted_path(path); !t.ok() && t.status().code() != Code::not_found)
    return t.status().with_context("the config file");
  auto text = read_file_to_string(path);
  // Every read failure is not_found: svcmgr runs on its defaults when the default castor.ini is missing.
  if (!text.ok()) return Error(Code::not_found, "cannot read " + path + ": " + text.status().message());
  return parse_svcmgr_ini(*text, path, config);
}

}  // namespace castor
