#include "config/fence_config.h"

#include <algorithm>
#include <map>

#include "common/ini_reader.h"
#include "common/value_parsers.h"

namespace castor {
namespace {

constexpr std::string_view kOptionPrefix = "option.";
const std::vector<std::string_view> kKeys = {"agent",    "option.*", "password_file", "fence_action", "timeout_s",
                                             "retries", "settle_ms", "delay_ms"};

bool valid_option_key(std::string_view k) {
  return !k.empty() && k.size() <= 64 &&
         std::all_of(k.begin(), k.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

bool valid_agent_name(std::string_view a) {
  if (a.empty() || a.size() > 255) return false;
  if (a[0] == '/') return a.find("/../") == std::string_view::npos && a.find('\0') == std::string_view::npos;
  return std::all_of(a.begin(), a.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
  }) && a != "." && a != "..";
}

std::string seconds_text(Duration d) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  return std::to_string(ms) + " ms";
}

}  // namespace

const char* fence_action_name(FenceAction a) { return a == FenceAction::off ? "off" : "reboot"; }

bool is_fence_section(std::string_view name) {
  return name.size() > kFenceSectionPrefix.size() && name.substr(0, kFenceSectionPrefix.size()) == kFenceSectionPrefix;
}

std::string FenceDeviceConfig::agent_path() const { return agent.starts_with('/') ? agent : "/usr/sbin/" + agent; }

std::string FenceDeviceConfig::describe() const {
  std::string s = agent;
  // Anything that may be a secret is masked (agents take more than a password: fence_aws secret_key,
  // fence_ibm_vpc apikey, SNMP community, tokens).
  auto secret = [](const std::string& k) {
    for (const char* w : {"pass", "secret", "key", "token", "community", "cred"})
      if (k.find(w) != std::string::npos) return true;
    return false;
  };
  for (const auto& [k, v] : options) s += " " + k + "=" + (secret(k) ? "***" : v);
  if (password_file) s += " (password from " + *password_file + ")";
  s += std::string(", ") + fence_action_name(action) + ", timeout " + seconds_text(timeout) + ", " +
       std::to_string(retries) + (retries == 1 ? " retry" : " retries") + ", settle " + seconds_text(settle);
  if (delay > Duration::zero()) s += ", delay " + seconds_text(delay);
  return s;
}

const FenceDeviceConfig* fence_device_for(const std::vector<FenceDeviceConfig>& devices, std::string_view node) {
  for (const auto& d : devices)
    if (d.node == node) return &d;
  return nullptr;
}

std::vector<FenceDeviceConfig> read_fence_sections(std::string_view text, const std::string& file,
                                                   std::vector<IniError>& errors) {
  IniDocument doc = parse_ini(text, file);  // its syntax errors are the daemons' to report (castor_ini.h)
  std::vector<FenceDeviceConfig> out;
  std::map<std::string, int> first_section_line;
  for (const IniSection& s : doc.sections) {
    if (!is_fence_section(s.name)) continue;
    const std::string title = "[" + s.name + "]";
    auto error = [&](int line, std::string m) { errors.push_back({file, line, std::move(m)}); };
    FenceDeviceConfig d;
    d.file = file;
    d.line = s.line;
    d.node = s.name.substr(kFenceSectionPrefix.size());
    if (Status st = check_name(d.node); !st.ok()) {
      error(s.line, "section " + title + ": the node name " + st.message());
      continue;
    }
    if (auto [it, inserted] = first_section_line.emplace(d.node, s.line); !inserted) {
      error(s.line, "section " + title + " given twice (first at line " + std::to_string(it->second) +
                        "): one fence device per node");
      continue;
    }
    std::map<std::string, int, std::less<>> seen;
    bool have_agent = false;
    for (const IniEntry& e : s.entries) {
      auto bad = [&](const std::string& problem) { error(e.line, ini_bad_value(e.key, title, problem)); };
      if (auto [it, inserted] = seen.emplace(e.key, e.line); !inserted) {
        error(e.line, ini_duplicate_key(e.key, title, it->second));
        continue;
      }
      if (e.value.empty()) {
        bad("empty value");
        continue;
      }
      auto set_ms = [&](int64_t max, Duration& out_d) {
        auto v = parse_integer(e.value, 0, max);
        if (!v.ok()) bad(v.status().message());
        else out_d = std::chrono::milliseconds(*v);
      };
      if (e.key.starts_with(kOptionPrefix)) {
        const std::string k = e.key.substr(kOptionPrefix.size());
        if (!valid_option_key(k)) bad("an agent option name is [a-z0-9_]+ (fence-agents' long option names)");
        else if (k == "action" || k == "option")
          bad("Castor sets the agent's action itself (off, status, reboot): use fence_action = off|reboot");
        else if (k == "password" || k == "passwd")
          bad("a password is never written in castor.ini: put it in a root-only file named by password_file, or "
              "give option.password_script");
        else if (e.value.find('\n') != std::string::npos || e.value.find('\0') != std::string::npos)
          bad("a value is one line");
        else
          d.options.emplace_back(k, e.value);
      } else if (e.key == "agent") {
        if (!valid_agent_name(e.value))
          bad(ini_quoted(e.value) + " is not a fence agent: a program name (fence_ipmilan) or an absolute path");
        else {
          d.agent = e.value;
          have_agent = true;
        }
      } else if (e.key == "password_file") {
        if (e.value[0] != '/') bad("must be an absolute path");
        else d.password_file = e.value;
      } else if (e.key == "fence_action") {
        if (e.value == "off") d.action = FenceAction::off;
        else if (e.value == "reboot") d.action = FenceAction::reboot;
        else bad(ini_quoted(e.value) + " is neither off nor reboot");
      } else if (e.key == "timeout_s") {
        auto v = parse_integer(e.value, 1, 600);
        if (!v.ok()) bad(v.status().message());
        else d.timeout = std::chrono::seconds(*v);
      } else if (e.key == "retries") {
        auto v = parse_integer(e.value, 0, kFenceMaxRetries);
        if (!v.ok()) bad(v.status().message());
        else d.retries = int(*v);
      } else if (e.key == "settle_ms") {
        set_ms(60000, d.settle);
      } else if (e.key == "delay_ms") {
        set_ms(60000, d.delay);
      } else {
        std::string hint = ini_did_you_mean(e.key, kKeys);
        if (hint.empty()) hint = " (known: agent, option.NAME, password_file, fence_action, timeout_s, retries, settle_ms, delay_ms)";
        error(e.line, ini_unknown_key(e.key, title, hint));
      }
    }
    if (!have_agent && !seen.count("agent")) error(s.line, "section " + title + " has no agent (e.g. agent = fence_ipmilan)");
    for (size_t i = 0; i < d.options.size(); ++i)
      if (d.options[i].first == "password_script" && d.password_file)
        error(s.line, "section " + title + " gives both password_file and option.password_script: one password source");
    out.push_back(std::move(d));
  }
  return out;
}

Result<std::vector<FenceDeviceConfig>> parse_fence_sections(std::string_view text, const std::string& file) {
  std::vector<IniError> errors;
  std::vector<FenceDeviceConfig> out = read_fence_sections(text, file, errors);
  if (!errors.empty()) {
    std::stable_sort(errors.begin(), errors.end(), [](const IniError& a, const IniError& b) { return a.line < b.line; });
    std::string msg;
    for (const IniError& e : errors) msg += (msg.empty() ? "" : "; ") + e.to_string();
    return Error(Code::invalid_argument, msg);
  }
  return out;
}

}  // namespace castor
