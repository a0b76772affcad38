#include "config/castor_ini.h"

#include <algorithm>
#include <map>

#include "config/alert_config.h"
#include "config/fence_config.h"

namespace castor {
namespace {

constexpr std::string_view kSections[] = {"quorumd", "svcmgr", "lan", "web"};

std::string unknown_key_hint(std::string_view key, const std::vector<std::string_view>& known) {
  std::string hint = ini_did_you_mean(key, known);
  if (hint.empty()) {
    hint = " (known: ";
    for (size_t i = 0; i < known.size(); ++i) hint += (i ? ", " : "") + std::string(known[i]);
    hint += ")";
  }
  return hint;
}

}  // namespace

Status CastorIniSection::status() const {
  if (errors.empty()) return Status::Ok();
  std::vector<IniError> sorted = errors;
  std::stable_sort(sorted.begin(), sorted.end(), [](const IniError& a, const IniError& b) { return a.line < b.line; });
  std::string text;
  for (const IniError& e : sorted) text += (text.empty() ? "" : "; ") + e.to_string();
  return Error(Code::invalid_argument, std::move(text));
}

CastorIniSection read_castor_ini_section(std::string_view text, const std::string& file, std::string_view name,
                                         const std::vector<std::string_view>& known) {
  return std::move(read_castor_ini_sections(text, file, {{name, known}}).front());
}

std::vector<CastorIniSection> read_castor_ini_sections(std::string_view text, const std::string& file,
                                                       const std::vector<CastorIniWanted>& wanted) {
  IniDocument doc = parse_ini(text, file);
  std::vector<CastorIniSection> out(wanted.size());
  for (size_t i = 0; i < wanted.size(); ++i) {
    out[i].file = file;
    out[i].name = std::string(wanted[i].name);
  }
  if (out.empty()) return out;
  CastorIniSection& file_errors = out.front();
  file_errors.errors = std::move(doc.errors);
  std::vector<std::map<std::string, int, std::less<>>> first_line(wanted.size());
  for (const IniSection& s : doc.sections) {
    if (s.line == 0) {
      for (const IniEntry& e : s.entries)
        file_errors.error(e.line, "key " + ini_quoted(e.key) +
                                      " outside any section (put it under [quorumd], [svcmgr] or [lan])");
      continue;
    }
    if (is_fence_section(s.name)) continue;  // [fence NODE]: config/fence_config.h reads them
    if (is_alert_section(s.name)) continue;  // [alert NAME]: config/alert_config.h reads them
    if (std::find(std::begin(kSections), std::end(kSections), s.name) == std::end(kSections)) {
      std::string hint = ini_did_you_mean(s.name, {std::begin(kSections), std::end(kSections)});
      file_errors.error(s.line, "unknown section [" + std::string(std::string_view(s.name).substr(0, 80)) +
                                    "] (castor.ini has [quorumd], [svcmgr], [lan], [web], [fence NODE] and [alert NAME])" + hint);
      continue;
    }
    size_t w = 0;
    while (w < wanted.size() && wanted[w].name != s.name) ++w;
    if (w == wanted.size()) continue;  // the other daemon's: it checks its own keys
    CastorIniSection& section = out[w];
    const std::vector<std::string_view>& known = wanted[w].known;
    for (const IniEntry& e : s.entries) {
      if (std::find(known.begin(), known.end(), e.key) == known.end()) {
        section.error(e.line, ini_unknown_key(e.key, section.title(), unknown_key_hint(e.key, known)));
        continue;
      }
      if (auto [it, inserted] = first_line[w].emplace(e.key, e.line); !inserted) {
        section.error(e.line, ini_duplicate_key(e.key, section.title(), it->second));
        continue;
      }
      section.entries.push_back(e);
    }
  }
  return out;
}

}  // namespace castor
