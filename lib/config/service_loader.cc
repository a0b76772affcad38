#include "config/service_loader.h"

#include <dirent.h>
#include <fcntl.h>
#include <ini.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <span>
#include <string_view>

#include "common/unique_fd.h"

namespace castor {
namespace {

using Kind = ResourceDefinition::AgentKind;
namespace syn = service_syntax;

constexpr std::array<std::string_view, 11> kServiceKeys = {
    "name",          "nodes",        "failback",         "autostart",       "recovery",    "max_restarts",
    "restart_window", "start_timeout", "stop_timeout", "monitor_interval", "monitor_timeout"};
constexpr std::array<std::string_view, 10> kResourceKeys = {
    "agent", "start_timeout", "stop_timeout", "monitor_interval", "monitor_timeout",
    "check_level", "start", "stop", "monitor", "shell"};
constexpr std::string_view kParamPrefix = "param.";

bool contains(std::span<const std::string_view> set, std::string_view s) {
  return std::find(set.begin(), set.end(), s) != set.end();
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' || c == '\n'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// A user-supplied string for a message: quoted, and cut short if it is long.
std::string quoted(std::string_view s) {
  if (s.size() > 80) return "'" + std::string(s.substr(0, 60)) + "...' (" + std::to_string(s.size()) + " bytes)";
  return "'" + std::string(s) + "'";
}

// Edit distance counting a swap of two neighbours as one edit ("agnet" is one edit from "agent").
size_t edit_distance(std::string_view a, std::string_view b) {
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

// " (did you mean 'recovery'?)" when one candidate is close to `word`, else "".
template <typename Candidates>
std::string did_you_mean(std::string_view word, const Candidates& candidates) {
  if (word.empty() || word.size() > 64) return {};
  const size_t limit = std::min<size_t>(2, std::max<size_t>(1, word.size() / 3));
  std::string_view best;
  size_t best_d = limit + 1;
  for (std::string_view c : candidates) {
    size_t d = edit_distance(word, c);
    if (d < best_d) best_d = d, best = c;
  }
  return best.empty() ? std::string() : " (did you mean '" + std::string(best) + "'?)";
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

struct Entry {
  std::string key, value;
  int line = 0;
};

struct Section {
  bool is_service = false;
  std::string name;  // resources only
  int line = 0;
  std::vector<Entry> entries;
  std::map<std::string, int, std::less<>> key_lines;
  bool too_many_keys = false;

  std::string title() const { return is_service ? "[service]" : "[resource " + name + "]"; }
  const Entry* find(std::string_view key) const {
    for (const Entry& e : entries)
      if (e.key == key) return &e;
    return nullptr;
  }
};

// One file's parse: inih splits "key = value" lines, our reader feeds it line by line (tracking line
// numbers and sections itself, handling comments, section headers and over-long lines), the handler
// collects entries, and build() turns the collected sections into a definition.
class Parser {
 public:
  Parser(std::string_view text, std::string file, const std::vector<std::string>& cluster_nodes)
      : text_(text), file_(std::move(file)), cluster_nodes_(cluster_nodes) {}

  void parse() {
    int rc = ini_parse_stream(&Parser::reader, this, &Parser::handler, this);
    close_line();
    if (rc == -2) error(0, "out of memory while parsing");
    else if (rc < 0) error(0, "the INI parser failed (" + std::to_string(rc) + ")");
    else if (rc > 0 && !stopped_ &&
             std::none_of(errors_.begin(), errors_.end(), [&](const LoadError& e) { return e.line == rc; }))
      error(rc, "syntax error");  // never expected: the reader predicts every error inih finds
    if (too_many_resources_error_ >= 0 && size_t(too_many_resources_error_) < errors_.size())
      errors_[too_many_resources_error_].message =
          "too many resources: " + std::to_string(resource_headers_) + " [resource] sections, at most " +
          std::to_string(kMaxResourcesPerService) + " per service";
  }

  std::optional<ServiceDefinition> build();

  std::vector<LoadError> take_errors() { return std::move(errors_); }

 private:
  static constexpr int kNoSection = -1;
  static constexpr int kIgnoredSection = -2;  // a bad header: its keys are skipped, the header was reported

  static char* reader(char* buf, int size, void* self) { return static_cast<Parser*>(self)->next_line(buf, size); }
  static int handler(void* self, const char* /*section: tracked by the reader*/, const char* name,
                     const char* value) {
    auto* p = static_cast<Parser*>(self);
    p->line_handled_ = true;
    if (p->stash_) {
      p->stash_ = false;
      p->on_entry(std::move(p->stash_key_), std::move(p->stash_value_));
    } else {
      p->on_entry(name ? name : "", value ? value : "");
    }
    return 1;
  }

  void error(int line, std::string message) {
    if (errors_.size() >= kMaxErrorsPerFile) return;
    errors_.push_back({file_, line, std::move(message)});
    if (errors_.size() == kMaxErrorsPerFile) {
      errors_.back().message += " [too many errors: stopped here]";
      stopped_ = true;
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
    if (line_pending_ && !line_handled_)
      error(line_, "syntax error: expected 'key = value', '[section]' or a comment");
    line_pending_ = false;
    stash_ = false;
  }

  char* next_line(char* buf, int size) {
    close_line();
    if (stopped_ || pos_ >= text_.size()) return nullptr;
    if (size < 16) {
      error(0, "the INI parser's line buffer is too small (" + std::to_string(size) + " bytes)");
      stopped_ = true;
      return nullptr;
    }
    size_t eol = text_.find('\n', pos_);
    if (eol == std::string_view::npos) eol = text_.size();
    std::string_view raw = text_.substr(pos_, eol - pos_);
    pos_ = eol + 1;
    ++line_;
    if (raw.size() > kMaxServiceLineLength) {
      error(line_, "line too long (" + std::to_string(raw.size()) + " bytes, at most " +
                       std::to_string(kMaxServiceLineLength) + ")");
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
      // inih keeps at most 49 bytes of a section name; "[resource NAME]" can be longer, so sections are
      // tracked here and inih never sees them.
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
    current_ = kIgnoredSection;
    const size_t close = s.find(']');
    if (close == std::string_view::npos) {
      error(line_, "syntax error: section header without ']'");
      return;
    }
    std::string_view after = trim(s.substr(close + 1));
    if (!after.empty() && after[0] != ';' && after[0] != '#') {
      error(line_, "unexpected text " + quoted(after) + " after the section header");
      return;
    }
    const std::string_view inner = trim(s.substr(1, close - 1));
    if (inner == "service") {
      if (service_index_ >= 0) {
        error(line_, "second [service] section (the first is at line " +
                         std::to_string(sections_[service_index_].line) + ")");
        return;
      }
      service_index_ = int(sections_.size());
      sections_.push_back({.is_service = true, .line = line_});
      current_ = service_index_;
      return;
    }
    if (inner.starts_with("resource") && (inner.size() == 8 || is_space(inner[8]))) {
      ++resource_headers_;
      const std::string_view name = trim(inner.substr(8));
      if (name.empty()) {
        error(line_, "[resource] needs a name: [resource NAME]");
        return;
      }
      if (resource_count_ >= kMaxResourcesPerService) {
        if (too_many_resources_error_ < 0 && errors_.size() < kMaxErrorsPerFile) {
          too_many_resources_error_ = int(errors_.size());
          error(line_, "too many resources");  // the message gets the count once the whole file is read
        }
        return;
      }
      if (Status st = syn::check_name(name); !st.ok()) {
        error(line_, "bad resource name in [resource " + std::string(name.substr(0, 80)) + "]: " + st.message());
        return;
      }
      auto [it, inserted] = resource_lines_.emplace(std::string(name), line_);
      if (!inserted) {
        error(line_, "duplicate resource '" + std::string(name) + "' (first defined at line " +
                         std::to_string(it->second) + ")");
        return;
      }
      ++resource_count_;
      current_ = int(sections_.size());
      sections_.push_back({.is_service = false, .name = std::string(name), .line = line_});
      return;
    }
    error(line_, "unknown section [" + std::string(inner.substr(0, 80)) + "] (expected [service] or [resource NAME])" +
                     did_you_mean(inner, std::array<std::string_view, 2>{"service", "resource"}));
  }

  void on_entry(std::string key, std::string value) {
    if (current_ == kNoSection) {
      error(line_, "key " + quoted(key) + " before any section (start the file with [service])");
      return;
    }
    if (current_ == kIgnoredSection) return;
    Section& sec = sections_[current_];
    if (key.empty()) {
      error(line_, "empty key name in " + sec.title());
      return;
    }
    const bool is_param = key.starts_with(kParamPrefix);
    if (is_param && !sec.is_service) {
      if (!syn::is_param_name(std::string_view(key).substr(kParamPrefix.size()))) {
        error(line_, "bad parameter key " + quoted(key) + " in " + sec.title() +
                         ": param.NAME with NAME of letters, digits and '_'");
        return;
      }
    } else {
      const std::span<const std::string_view> known = sec.is_service ? std::span<const std::string_view>(kServiceKeys)
                                                                       : std::span<const std::string_view>(kResourceKeys);
      const std::span<const std::string_view> other = sec.is_service ? std::span<const std::string_view>(kResourceKeys)
                                                                       : std::span<const std::string_view>(kServiceKeys);
      if (!contains(known, key)) {
        std::string hint;
        if (sec.is_service && (is_param || contains(other, key)))
          hint = " (it belongs in a [resource NAME] section)";
        else if (!sec.is_service && key == "name")
          hint = " (a resource's name is in its header: [resource NAME])";
        else if (!sec.is_service && contains(other, key))
          hint = " (it belongs in the [service] section)";
        else if (!sec.is_service && key.find('.') != std::string::npos && key.find('.') <= 8 &&
                 edit_distance(std::string_view(key).substr(0, key.find('.')), "param") <= 2)
          hint = " (did you mean 'param." + key.substr(key.find('.') + 1) + "'?)";
        else if (hint = did_you_mean(key, known); hint.empty())
          if (std::string h = did_you_mean(key, other); !h.empty())
            hint = h.substr(0, h.size() - 2) + (sec.is_service ? " in a [resource NAME] section" : " in [service]") + "?)";
        error(line_, "unknown key " + quoted(key) + " in " + sec.title() + hint);
        return;
      }
    }
    if (auto it = sec.key_lines.find(key); it != sec.key_lines.end()) {
      error(line_, "duplicate key '" + key + "' in " + sec.title() + " (first at line " + std::to_string(it->second) +
                       ")");
      return;
    }
    if (sec.entries.size() >= kMaxKeysPerSection) {
      if (!sec.too_many_keys) error(line_, "too many keys in " + sec.title() + " (at most " +
                                               std::to_string(kMaxKeysPerSection) + ")");
      sec.too_many_keys = true;
      return;
    }
    sec.key_lines.emplace(key, line_);
    sec.entries.push_back({std::move(key), std::move(value), line_});
  }

  // Value helpers for build(): each reports "key 'k' in [section]: problem" at the key's line.
  void bad_value(const Section& sec, const Entry& e, const std::string& problem) {
    error(e.line, "key '" + e.key + "' in " + sec.title() + ": " + problem);
  }
  template <typename T>
  bool take(const Section& sec, const Entry& e, const Result<T>& r, T& out) {
    if (!r.ok()) {
      bad_value(sec, e, r.status().message());
      return false;
    }
    out = *r;
    return true;
  }
  // A timeout (> 0) or an interval (>= 0).
  void take_duration(const Section& sec, const Entry& e, Millis& out, bool zero_ok) {
    Millis v{};
    if (!take(sec, e, syn::parse_duration(e.value), v)) return;
    if (!zero_ok && v == Millis(0)) return bad_value(sec, e, "must be more than 0");
    out = v;
  }

  std::optional<ResourceDefinition> build_resource(const Section& sec, const ResourceDefinition& defaults);

  std::string_view text_;
  std::string file_;
  const std::vector<std::string>& cluster_nodes_;
  std::vector<LoadError> errors_;
  bool stopped_ = false;
  size_t pos_ = 0;
  int line_ = 0;
  bool line_pending_ = false, line_handled_ = false;
  bool stash_ = false;
  std::string stash_key_, stash_value_;
  std::vector<Section> sections_;
  int current_ = kNoSection;
  int service_index_ = -1;
  size_t resource_count_ = 0, resource_headers_ = 0;
  int too_many_resources_error_ = -1;
  std::map<std::string, int, std::less<>> resource_lines_;
};

std::optional<ResourceDefinition> Parser::build_resource(const Section& sec, const ResourceDefinition& defaults) {
  const size_t errors_before = errors_.size();
  ResourceDefinition r = defaults;
  r.name = sec.name;
  r.line = sec.line;
  const Entry* agent = sec.find("agent");
  if (!agent) {
    error(sec.line, sec.title() + " has no 'agent' (ocf:PROVIDER:TYPE, lsb:NAME, systemd:UNIT or exec)");
    return std::nullopt;
  }
  if (Status st = syn::parse_agent(agent->value, r); !st.ok()) {
    bad_value(sec, *agent, st.message());
    return std::nullopt;
  }
  const std::string spec = agent_spec(r);
  const bool exec = r.kind == Kind::exec;
  for (const Entry& e : sec.entries) {
    const std::string_view k = e.key;
    if (k == "agent") continue;
    if (k.starts_with(kParamPrefix)) {
      if (r.kind != Kind::ocf) bad_value(sec, e, "parameters are only valid for ocf agents (this one is " + spec + ")");
      else r.params.emplace_back(std::string(k.substr(kParamPrefix.size())), e.value);
    } else if (k == "start" || k == "stop" || k == "monitor" || k == "shell") {
      if (!exec) bad_value(sec, e, "only valid for agent = exec (this one is " + spec + ")");
    } else if (k == "check_level") {
      if (r.kind != Kind::ocf) {
        bad_value(sec, e, "OCF_CHECK_LEVEL is only valid for ocf agents (this one is " + spec + ")");
      } else if (auto v = syn::parse_int(e.value, 0, 20); !v.ok() || (*v != 0 && *v != 10 && *v != 20)) {
        bad_value(sec, e, quoted(e.value) + " is not a check level (0, 10 or 20)");
      } else {
        r.check_level = *v;
      }
    } else if (k == "start_timeout") {
      take_duration(sec, e, r.start_timeout, false);
      r.explicit_timings |= ResourceDefinition::kStartTimeout;
    } else if (k == "stop_timeout") {
      take_duration(sec, e, r.stop_timeout, false);
      r.explicit_timings |= ResourceDefinition::kStopTimeout;
    } else if (k == "monitor_interval") {
      take_duration(sec, e, r.monitor_interval, true);
      r.explicit_timings |= ResourceDefinition::kMonitorInterval;
    } else if (k == "monitor_timeout") {
      take_duration(sec, e, r.monitor_timeout, false);
      r.explicit_timings |= ResourceDefinition::kMonitorTimeout;
    }
  }
  std::sort(r.params.begin(), r.params.end());
  if (exec) {
    if (const Entry* e = sec.find("shell")) take(sec, *e, syn::parse_bool(e->value), r.shell);
    auto command = [&](std::string_view key, std::string& line, std::vector<std::string>& argv) {
      const Entry* e = sec.find(key);
      if (!e) return false;
      line = e->value;
      if (r.shell) {
        if (e->value.empty()) bad_value(sec, *e, "empty command");
        else argv = {"/bin/sh", "-c", e->value};
        return true;
      }
      auto split = syn::split_command_line(e->value);
      if (!split.ok()) {
        bad_value(sec, *e, split.status().message());
      } else if ((*split)[0].empty() || (*split)[0][0] != '/') {
        bad_value(sec, *e, quoted((*split)[0]) +
                               " must be an absolute path (commands run without a PATH search; or set shell = yes)");
      } else {
        argv = std::move(*split);
      }
      return true;
    };
    if (!command("start", r.start_line, r.start_argv))
      error(sec.line, sec.title() + " (agent = exec) has no 'start' command");
    if (!command("stop", r.stop_line, r.stop_argv))
      error(sec.line, sec.title() + " (agent = exec) has no 'stop' command");
    if (!command("monitor", r.monitor_line, r.monitor_argv)) {
      // Without a monitor command there is nothing to run: the resource is never monitored.
      const Entry* interval = sec.find("monitor_interval");
      const Entry* timeout = sec.find("monitor_timeout");
      if (interval && r.monitor_interval != Millis(0))
        bad_value(sec, *interval, "has no effect: this exec resource has no 'monitor' command");
      if (timeout) bad_value(sec, *timeout, "has no effect: this exec resource has no 'monitor' command");
      r.monitor_interval = Millis(0);
    }
  }
  if (errors_.size() != errors_before) return std::nullopt;
  return r;
}

std::optional<ServiceDefinition> Parser::build() {
  if (stopped_) return std::nullopt;
  ServiceDefinition def;
  def.file = file_;
  ResourceDefinition defaults;  // the service's timing defaults, inherited by every resource
  if (service_index_ < 0) {
    error(0, "no [service] section");
  } else {
    const Section& sec = sections_[service_index_];
    for (const Entry& e : sec.entries) {
      const std::string_view k = e.key;
      if (k == "name") {
        if (Status st = syn::check_name(e.value); !st.ok()) bad_value(sec, e, st.message());
        def.name = e.value;
        def.line = e.line;
      } else if (k == "nodes") {
        std::string_view rest = e.value;
        while (true) {
          const size_t comma = rest.find(',');
          const std::string_view node = trim(rest.substr(0, comma));
          if (node.empty()) {
            bad_value(sec, e, "empty node name in the list (expected e.g. 'nodes = alpha, beta')");
          } else if (std::find(def.nodes.begin(), def.nodes.end(), node) != def.nodes.end()) {
            bad_value(sec, e, "node '" + std::string(node) + "' listed twice");
          } else if (!cluster_nodes_.empty() && std::find(cluster_nodes_.begin(), cluster_nodes_.end(), node) == cluster_nodes_.end()) {
            std::string known;
            for (const auto& n : cluster_nodes_) known += (known.empty() ? "" : ", ") + n;
            bad_value(sec, e, "unknown node " + quoted(node) + " (cluster nodes: " + (known.empty() ? "none" : known) +
                                  ")");
          } else {
            def.nodes.emplace_back(node);
          }
          if (comma == std::string_view::npos) break;
          rest = rest.substr(comma + 1);
        }
      } else if (k == "failback") {
        take(sec, e, syn::parse_bool(e.value), def.failback);
      } else if (k == "autostart") {
        take(sec, e, syn::parse_bool(e.value), def.autostart);
      } else if (k == "recovery") {
        take(sec, e, syn::parse_recovery(e.value), def.recovery);
      } else if (k == "max_restarts") {
        take(sec, e, syn::parse_int(e.value, 0, kMaxRestarts), def.max_restarts);
      } else if (k == "restart_window") {
        take_duration(sec, e, def.restart_window, false);
      } else if (k == "start_timeout") {
        take_duration(sec, e, defaults.start_timeout, false);
        defaults.explicit_timings |= ResourceDefinition::kStartTimeout;
      } else if (k == "stop_timeout") {
        take_duration(sec, e, defaults.stop_timeout, false);
        defaults.explicit_timings |= ResourceDefinition::kStopTimeout;
      } else if (k == "monitor_interval") {
        take_duration(sec, e, defaults.monitor_interval, true);
        defaults.explicit_timings |= ResourceDefinition::kMonitorInterval;
      } else if (k == "monitor_timeout") {
        take_duration(sec, e, defaults.monitor_timeout, false);
        defaults.explicit_timings |= ResourceDefinition::kMonitorTimeout;
      }
    }
    if (!sec.find("name")) error(sec.line, "[service] has no 'name'");
    if (!sec.find("nodes")) error(sec.line, "[service] has no 'nodes' (the failover domain, e.g. 'nodes = alpha, beta')");
  }
  for (const Section& sec : sections_) {
    if (sec.is_service) continue;
    if (auto r = build_resource(sec, defaults)) def.resources.push_back(std::move(*r));
  }
  if (resource_headers_ == 0) error(0, "no resources (add at least one [resource NAME] section)");
  if (!errors_.empty()) return std::nullopt;
  // Safety net: whatever passed the checks above must be a valid definition.
  for (const std::string& p : definition_problems(def, cluster_nodes_)) error(0, "internal: " + p);
  if (!errors_.empty()) return std::nullopt;
  return def;
}

LoadResult single_file_result(Parser& p) {
  LoadResult out;
  p.parse();
  if (auto def = p.build()) out.services.push_back(std::move(*def));
  out.errors = p.take_errors();
  if (!out.errors.empty()) out.services.clear();
  return out;
}

std::string join_path(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

}  // namespace

std::string LoadResult::error_text() const {
  std::string out;
  for (const auto& e : errors) out += e.to_string() + "\n";
  return out;
}

LoadResult load_service_text(const std::string& text, const std::string& file_name,
                             const std::vector<std::string>& cluster_nodes) {
  if (text.size() > kMaxServiceFileBytes)
    return {{}, {{file_name, 0, "file is " + std::to_string(text.size()) + " bytes (at most " +
                                    std::to_string(kMaxServiceFileBytes) + ")"}}};
  Parser p(text, file_name, cluster_nodes);
  return single_file_result(p);
}

LoadResult load_service_file(const std::string& path, const std::vector<std::string>& cluster_nodes) {
  auto fail = [&](const std::string& message) { return LoadResult{{}, {{path, 0, message}}}; };
  // O_NONBLOCK: a FIFO named *.ini must not hang the loader (it is rejected below as not a regular file).
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd.valid()) return fail(std::string("cannot open: ") + std::strerror(errno));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return fail(std::string("cannot stat: ") + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return fail("not a regular file");
  std::string text;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(std::string("cannot read: ") + std::strerror(errno));
    if (n == 0) break;
    text.append(buf, size_t(n));
    if (text.size() > kMaxServiceFileBytes)
      return fail("file is larger than " + std::to_string(kMaxServiceFileBytes) + " bytes");
  }
  return load_service_text(text, path, cluster_nodes);
}

LoadResult load_service_dir(const std::string& dir, const std::vector<std::string>& cluster_nodes) {
  LoadResult out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    out.errors.push_back({dir, 0, std::string("cannot open directory: ") + std::strerror(errno)});
    return out;
  }
  std::vector<std::string> names;
  while (true) {
    errno = 0;
    struct dirent* ent = ::readdir(d);
    if (!ent) {
      if (errno != 0) out.errors.push_back({dir, 0, std::string("cannot read directory: ") + std::strerror(errno)});
      break;
    }
    std::string_view name = ent->d_name;
    if (name.size() > 4 && name.ends_with(".ini") && name[0] != '.') names.emplace_back(name);
  }
  ::closedir(d);
  if (!out.errors.empty()) return out;
  std::sort(names.begin(), names.end());
  for (size_t i = kMaxServiceFiles; i < names.size(); ++i)
    out.errors.push_back({join_path(dir, names[i]), 0,
                          "not loaded: " + dir + " holds " + std::to_string(names.size()) +
                              " service files, at most " + std::to_string(kMaxServiceFiles)});
  if (names.size() > kMaxServiceFiles) names.resize(kMaxServiceFiles);

  std::vector<ServiceDefinition> loaded;
  for (const auto& name : names) {
    LoadResult r = load_service_file(join_path(dir, name), cluster_nodes);
    out.errors.insert(out.errors.end(), r.errors.begin(), r.errors.end());
    for (auto& s : r.services) loaded.push_back(std::move(s));
  }
  // The same service name in two files: reject every file involved (which one is right is the admin's call).
  std::map<std::string, std::vector<size_t>> by_name;
  for (size_t i = 0; i < loaded.size(); ++i) by_name[loaded[i].name].push_back(i);
  std::vector<bool> rejected(loaded.size(), false);
  for (const auto& [name, idx] : by_name) {
    if (idx.size() < 2) continue;
    for (size_t i : idx) {
      std::string others;
      for (size_t j : idx)
        if (j != i) others += (others.empty() ? "" : ", ") + loaded[j].file + ":" + std::to_string(loaded[j].line);
      out.errors.push_back({loaded[i].file, loaded[i].line,
                            "service '" + name + "' is also defined in " + others + "; none of these files is loaded"});
      rejected[i] = true;
    }
  }
  for (size_t i = 0; i < loaded.size(); ++i)
    if (!rejected[i]) out.services.push_back(std::move(loaded[i]));
  return out;
}

}  // namespace castor
