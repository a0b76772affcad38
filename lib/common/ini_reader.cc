#include "common/ini_reader.h"

#include <ini.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <utility>

namespace castor {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' || c == '\n'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// inih's find_chars_or_comment(): the first of `chars`, or an inline ';' comment after whitespace.
size_t find_chars_or_comment(std::string_view s, std::string_view chars) {
  bool was_space = false;
  size_t i = 0;
  for (; i < s.size(); ++i) {
    if (chars.find(s[i]) != std::string_view::npos) break;
    if (was_space && s[i] == ';') break;
    was_space = is_space(s[i]);
  }
  return i;
}

// Splits "name = value ; comment" exactly as inih does (name up to the first '=' or ':', inline comments
// cut, both sides trimmed). Used for lines too long for inih's buffer. nullopt = inih would call this a
// syntax error.
std::optional<std::pair<std::string, std::string>> split_like_inih(std::string_view line) {
  size_t sep = find_chars_or_comment(line, "=:");
  if (sep >= line.size() || (line[sep] != '=' && line[sep] != ':')) return std::nullopt;
  std::string_view name = trim(line.substr(0, sep));
  std::string_view value = line.substr(sep + 1);
  value = trim(value.substr(0, find_chars_or_comment(value, "")));
  return std::pair{std::string(name), std::string(value)};
}

// One parse: inih splits "key = value" lines, the reader feeds it line by line (tracking line numbers
// and sections itself, handling comments, section headers and over-long lines), the handler collects
// the entries.
class Reader {
 public:
  Reader(std::string_view text, const std::string& file, const IniLimits& limits) : text_(text), limits_(limits) {
    doc_.file = file;
  }

  IniDocument run() {
    const int rc = ini_parse_stream(&Reader::reader, this, &Reader::handler, this);
    close_line();
    if (rc == -2) error(0, "out of memory while parsing");
    else if (rc < 0) error(0, "the INI parser failed (" + std::to_string(rc) + ")");
    else if (rc > 0 && !doc_.stopped &&
             std::none_of(doc_.errors.begin(), doc_.errors.end(), [&](const IniError& e) { return e.line == rc; }))
      error(rc, "syntax error");  // never expected: the reader predicts every error inih finds
    return std::move(doc_);
  }

 private:
  static char* reader(char* buf, int size, void* self) { return static_cast<Reader*>(self)->next_line(buf, size); }
  static int handler(void* self, const char* /*section: tracked by the reader*/, const char* name, const char* value) {
    auto* r = static_cast<Reader*>(self);
    r->line_handled_ = true;
    if (r->stash_) {
      r->stash_ = false;
      r->on_entry(std::move(r->stash_key_), std::move(r->stash_value_));
    } else {
      r->on_entry(name ? name : "", value ? value : "");
    }
    return 1;
  }

  void error(int line, std::string message) {
    if (doc_.errors.size() >= limits_.max_errors) return;
    doc_.errors.push_back({doc_.file, line, std::move(message)});
    if (doc_.errors.size() == limits_.max_errors) {
      doc_.errors.back().message += " [too many errors: stopped here]";
      doc_.stopped = true;
    }
  }

  static char* put(char* buf, std::string_view s) {
    std::memcpy(buf, s.data(), s.size());
    buf[s.size()] = '\n';
    buf[s.size() + 1] = '\0';
    return buf;
  }

  // A key = value line handed to inih must come back through the handler; if it did not, inih found no
  // '=' or ':' on it.
  void close_line() {
    if (line_pending_ && !line_handled_) error(line_, "syntax error: expected 'key = value', '[section]' or a comment");
    line_pending_ = false;
    stash_ = false;
  }

  char* next_line(char* buf, int size) {
    close_line();
    if (doc_.stopped || pos_ >= text_.size()) return nullptr;
    if (size < 16) {
      error(0, "the INI parser's line buffer is too small (" + std::to_string(size) + " bytes)");
      doc_.stopped = true;
      return nullptr;
    }
    size_t eol = text_.find('\n', pos_);
    if (eol == std::string_view::npos) eol = text_.size();
    std::string_view raw = text_.substr(pos_, eol - pos_);
    pos_ = eol + 1;
    ++line_;
    if (raw.size() > limits_.max_line_bytes) {
      error(line_, "line too long (" + std::to_string(raw.size()) + " bytes, at most " +
                       std::to_string(limits_.max_line_bytes) + ")");
      return put(buf, "");
    }
    if (raw.find('\0') != std::string_view::npos) {
      error(line_, "line contains a NUL byte");
      return put(buf, "");
    }
    if (line_ == 1 && raw.starts_with("\xEF\xBB\xBF")) raw.remove_prefix(3);  // UTF-8 byte order mark
    // Leading whitespace goes: inih would take an indented line as a continuation of the previous value.
    const std::string_view s = trim(raw);
    if (s.empty() || s[0] == ';' || s[0] == '#') return put(buf, "");
    if (s[0] == '[') {
      // inih keeps at most 49 bytes of a section name: sections are tracked here and inih never sees them.
      section_header(s);
      return put(buf, "");
    }
    line_pending_ = true;
    line_handled_ = false;
    if (s.size() + 2 <= size_t(size)) return put(buf, s);
    // Too long for inih's buffer (200 bytes in the Debian build): split it here by inih's rules and hand
    // inih a stand-in, so the line is neither truncated nor split in two.
    auto kv = split_like_inih(s);
    if (!kv) return put(buf, "x");  // no '=': inih reports it, close_line() turns it into an error
    stash_ = true;
    stash_key_ = std::move(kv->first);
    stash_value_ = std::move(kv->second);
    return put(buf, "x=x");
  }

  void section_header(std::string_view s) {
    in_bad_section_ = true;
    const size_t close = s.find(']');
    if (close == std::string_view::npos) {
      error(line_, "syntax error: section header without ']'");
      return;
    }
    std::string_view after = trim(s.substr(close + 1));
    if (!after.empty() && after[0] != ';' && after[0] != '#') {
      error(line_, "unexpected text " + ini_quoted(after) + " after the section header");
      return;
    }
    in_bad_section_ = false;
    doc_.sections.push_back({.name = std::string(trim(s.substr(1, close - 1))), .line = line_, .entries = {}});
  }

  void on_entry(std::string key, std::string value) {
    if (in_bad_section_) return;
    if (key.empty()) {
      error(line_, "empty key name " + (doc_.sections.empty() ? std::string("before any section")
                                                              : "in " + doc_.sections.back().title()));
      return;
    }
    if (doc_.sections.empty()) doc_.sections.push_back({.name = "", .line = 0, .entries = {}});
    doc_.sections.back().entries.push_back({std::move(key), std::move(value), line_});
  }

  std::string_view text_;
  IniLimits limits_;
  IniDocument doc_;
  size_t pos_ = 0;
  int line_ = 0;
  bool in_bad_section_ = false;
  bool line_pending_ = false, line_handled_ = false;
  bool stash_ = false;
  std::string stash_key_, stash_value_;
};

}  // namespace

std::string IniError::to_string() const {
  if (line > 0) return file + ":" + std::to_string(line) + ": " + message;
  return file + ": " + message;
}

std::string IniSection::title() const { return line == 0 ? std::string("before any section") : "[" + name + "]"; }

const IniEntry* IniSection::find(std::string_view key) const {
  for (const IniEntry& e : entries)
    if (e.key == key) return &e;
  return nullptr;
}

IniDocument parse_ini(std::string_view text, const std::string& file, const IniLimits& limits) {
  return Reader(text, file, limits).run();
}

std::string ini_quoted(std::string_view s) {
  if (s.size() > 80) return "'" + std::string(s.substr(0, 60)) + "...' (" + std::to_string(s.size()) + " bytes)";
  return "'" + std::string(s) + "'";
}

size_t ini_edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

std::string ini_did_you_mean(std::string_view word, const std::vector<std::string_view>& candidates) {
  if (word.empty() || word.size() > 64) return {};
  const size_t limit = std::min<size_t>(2, std::max<size_t>(1, word.size() / 3));
  std::string_view best;
  size_t best_d = limit + 1;
  for (std::string_view c : candidates) {
    size_t d = ini_edit_distance(word, c);
    if (d < best_d) best_d = d, best = c;
  }
  return best.empty() ? std::string() : " (did you mean '" + std::string(best) + "'?)";
}

std::string ini_unknown_key(std::string_view key, std::string_view title, const std::string& hint) {
  return "unknown key " + ini_quoted(key) + " in " + std::string(title) + hint;
}

std::string ini_duplicate_key(std::string_view key, std::string_view title, int first_line) {
  return "duplicate key " + ini_quoted(key) + " in " + std::string(title) + " (first at line " +
         std::to_string(first_line) + ")";
}

std::string ini_bad_value(std::string_view key, std::string_view title, const std::string& problem) {
  return "key " + ini_quoted(key) + " in " + std::string(title) + ": " + problem;
}

}  // namespace castor
