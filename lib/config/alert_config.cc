#include "config/alert_config.h"

#include <algorithm>
#include <map>

#include "common/trusted_path.h"
#include "common/value_parsers.h"

namespace castor {
namespace {

const std::vector<std::string_view> kKeys = {"program", "recipient", "kinds", "timeout_s", "timestamp_format"};

bool valid_alert_name(std::string_view n) {
  return !n.empty() && n.size() <= 64 && std::all_of(n.begin(), n.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

std::optional<AlertKind> kind_named(std::string_view s) {
  for (AlertKind k : {AlertKind::node, AlertKind::fencing, AlertKind::resource, AlertKind::quorum})
    if (s == alert_kind_name(k)) return k;
  return std::nullopt;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

const char* alert_kind_name(AlertKind k) {
  switch (k) {
    case AlertKind::node: return "node";
    case AlertKind::fencing: return "fencing";
    case AlertKind::resource: return "resource";
    case AlertKind::quorum: return "quorum";
  }
  return "?";
}

Status check_alert_recipient(const AlertConfig& a) {
  if (!a.recipient || a.recipient->empty() || (*a.recipient)[0] != '/') return Status::Ok();
  const std::string dir = a.recipient->substr(0, std::max<size_t>(1, a.recipient->rfind('/')));
  auto t = check_trusted_path(dir);
  if (!t.ok() && t.status().code() != Code::not_found)
    return t.status().with_context("the recipient " + *a.recipient + " (a file the program, run as root, writes)");
  return Status::Ok();
}

bool is_alert_section(std::string_view name) {
  return name.size() > kAlertSectionPrefix.size() && name.substr(0, kAlertSectionPrefix.size()) == kAlertSectionPrefix;
}

std::vector<AlertConfig> read_alert_sections(std::string_view text, const std::string& file, std::vector<IniError>& errors) {
  IniDocument doc = parse_ini(text, file);  // its syntax errors are the daemons' to report (castor_ini.h)
  std::vector<AlertConfig> out;
  std::map<std::string, int> first_section_line;
  for (const IniSection& s : doc.sections) {
    if (!is_alert_section(s.name)) continue;
    const std::string title = "[" + s.name + "]";
    auto error = [&](int line, std::string m) { errors.push_back({file, line, std::move(m)}); };
    AlertConfig a;
    a.file = file;
    a.line = s.line;
    a.name = s.name.substr(kAlertSectionPrefix.size());
    if (!valid_alert_name(a.name)) {
      error(s.line, "section " + title + ": an alert's name is letters, digits, '-' and '_' (at most 64)");
      continue;
    }
    if (auto [it, inserted] = first_section_line.emplace(a.name, s.line); !inserted) {
      error(s.line, "section " + title + " given twice (first at line " + std::to_string(it->second) + ")");
      continue;
    }
    if (out.size() == kMaxAlerts) {
      error(s.line, "section " + title + ": more than " + std::to_string(kMaxAlerts) + " alerts");
      continue;
    }
    std::map<std::string, int, std::less<>> seen;
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
      if (e.value.find('\n') != std::string::npos || e.value.find('\0') != std::string::npos) {
        bad("a value is one line");
        continue;
      }
      if (e.key == "program") {
        if (e.value[0] != '/' || e.value.find("/../") != std::string::npos || e.value.ends_with("/.."))
          bad(ini_quoted(e.value) + " is not an absolute path (alerts run no PATH lookup and no shell)");
        else a.program = e.value;
      } else if (e.key == "recipient") {
        a.recipient = e.value;
      } else if (e.key == "kinds") {
        uint8_t bits = 0;
        std::string_view rest = e.value;
        bool ok = true;
        while (ok) {
          const size_t comma = rest.find(',');
          const std::string_view word = trim(rest.substr(0, comma));
          if (auto k = kind_named(word)) bits |= uint8_t(*k);
          else {
            bad(ini_quoted(std::string(word)) + " is not a kind (node, fencing, resource, quorum)");
            ok = false;
          }
          if (comma == std::string_view::npos) break;
          rest.remove_prefix(comma + 1);
        }
        if (ok) a.kinds = bits;
      } else if (e.key == "timeout_s") {
        auto v = parse_integer(e.value, 1, 600);
        if (!v.ok()) bad(v.status().message());
        else a.timeout = std::chrono::seconds(*v);
      } else if (e.key == "timestamp_format") {
        if (e.value.size() > 128) bad("at most 128 characters");
        else a.timestamp_format = e.value;
      } else {
        std::string hint = ini_did_you_mean(e.key, kKeys);
        if (hint.empty()) hint = " (known: program, recipient, kinds, timeout_s, timestamp_format)";
        error(e.line, ini_unknown_key(e.key, title, hint));
      }
    }
    if (a.program.empty()) {
      if (!seen.count("program"))
        error(s.line, "section " + title + " has no program (e.g. program = /usr/share/pacemaker/alerts/alert_file.sh.sample)");
      continue;
    }
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace castor
