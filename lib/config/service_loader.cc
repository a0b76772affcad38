#include "config/service_loader.h"
#include "config/service_probe.h"

#include <dirent.h>
#include <fcntl.h>
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

#include "common/ini_reader.h"
#include "common/names.h"
#include "common/trusted_path.h"
#include "common/unique_fd.h"
#include "common/value_parsers.h"

namespace castor {
namespace {

using Kind = ResourceDefinition::AgentKind;
namespace syn = service_syntax;

constexpr std::array<std::string_view, 15> kServiceKeys = {
    "name",          "nodes",        "failback",         "autostart",       "recovery",    "max_restarts",
    "restart_window", "start_timeout", "stop_timeout", "monitor_interval", "monitor_timeout",
    "memory_max",    "cpu_weight",   "tasks_max",        "probe"};
constexpr std::array<std::string_view, 10> kResourceKeys = {
    "agent", "start_timeout", "stop_timeout", "monitor_interval", "monitor_timeout",
    "check_level", "start", "stop", "monitor", "shell"};
constexpr std::string_view kParamPrefix = "param.";

// memory_max: bytes, or with a K, M, G or T suffix (powers of 1024, as systemd's MemoryMax=).
Result<int64_t> parse_bytes(std::string_view text) {
  int shift = 0;
  if (!text.empty()) {
    switch (text.back()) {
      case 'K': shift = 10; break;
      case 'M': shift = 20; break;
      case 'G': shift = 30; break;
      case 'T': shift = 40; break;
      default: break;
    }
  }
  if (shift) text.remove_suffix(1);
  Result<int64_t> v = parse_integer(text, 1, (int64_t(1) << 50) >> shift);
  if (!v.ok()) return Error(Code::invalid_argument, v.status().message() + " (a size: bytes or e.g. 512M, 2G)");
  return *v << shift;
}

bool contains(std::span<const std::string_view> set, std::string_view s) {
  return std::find(set.begin(), set.end(), s) != set.end();
}

std::vector<std::string_view> as_vector(std::span<const std::string_view> set) { return {set.begin(), set.end()}; }

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' || c == '\n'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

using Entry = IniEntry;

// A section the service schema accepted: [service] or one [resource NAME].
struct Section {
  bool is_service = false;
  std::string name;  // resources only
  int line = 0;
  std::vector<Entry> entries;  // the accepted keys, each once
  std::map<std::string, int, std::less<>> key_lines;
  bool too_many_keys = false;

  std::string title() const { return is_service ? "[service]" : "[resource " + name + "]"; }
  const Entry* find(std::string_view key) const {
    for (const Entry& e : entries)
      if (e.key == key) return &e;
    return nullptr;
  }
};

// One file: the INI reader turns the text into sections and entries (and reports syntax errors), then
// check_structure() applies the service schema to them (which sections, which keys, each once) and
// build() turns the accepted sections into a definition.
class Parser {
 public:
  Parser(std::string_view text, std::string file, const std::vector<std::string>& cluster_nodes)
      : doc_(parse_ini(text, file, {.max_line_bytes = kMaxServiceLineLength, .max_errors = kMaxErrorsPerFile})),
        file_(std::move(file)),
        cluster_nodes_(cluster_nodes) {}

  void parse() {
    if (doc_.stopped) {
      errors_ = std::move(doc_.errors);
      stopped_ = true;
      return;
    }
    for (const IniSection& s : doc_.sections) check_section(s);
    if (too_many_resources_error_ >= 0)
      errors_[too_many_resources_error_].message =
          "too many resources: " + std::to_string(resource_headers_) + " [resource] sections, at most " +
          std::to_string(kMaxResourcesPerService) + " per service";
    // Syntax errors and schema errors, in line order (both lists are in line order already).
    std::vector<LoadError> all = std::move(doc_.errors);
    const auto middle = all.insert(all.end(), errors_.begin(), errors_.end());
    std::inplace_merge(all.begin(), middle, all.end(),
                       [](const LoadError& a, const LoadError& b) { return a.line < b.line; });
    errors_ = std::move(all);
    cap_errors();
  }

  std::optional<ServiceDefinition> build();

  std::vector<LoadError> take_errors() {
    cap_errors();
    return std::move(errors_);
  }

 private:
  void error(int line, std::string message) { errors_.push_back({file_, line, std::move(message)}); }

  // At most kMaxErrorsPerFile errors; the last one then says the rest went unreported.
  void cap_errors() {
    if (errors_.size() < kMaxErrorsPerFile || stopped_) return;
    errors_.resize(kMaxErrorsPerFile);
    errors_.back().message += " [too many errors: stopped here]";
    stopped_ = true;
  }

  void check_section(const IniSection& s) {
    if (s.line == 0) {  // keys before the first header
      for (const IniEntry& e : s.entries)
        error(e.line, "key " + ini_quoted(e.key) + " before any section (start the file with [service])");
      return;
    }
    const std::string_view inner = s.name;
    if (inner == "service") {
      if (service_index_ >= 0) {
        error(s.line, "second [service] section (the first is at line " +
                          std::to_string(sections_[service_index_].line) + ")");
        return;
      }
      service_index_ = int(sections_.size());
      sections_.push_back({.is_service = true, .line = s.line});
      check_entries(s);
      return;
    }
    if (inner.starts_with("resource") && (inner.size() == 8 || is_space(inner[8]))) {
      ++resource_headers_;
      const std::string_view name = trim(inner.substr(8));
      if (name.empty()) {
        error(s.line, "[resource] needs a name: [resource NAME]");
        return;
      }
      if (resource_count_ >= kMaxResourcesPerService) {
        if (too_many_resources_error_ < 0) {
          too_many_resources_error_ = int(errors_.size());
          error(s.line, "too many resources");  // the message gets the count once the whole file is read
        }
        return;
      }
      if (Status st = check_name(name); !st.ok()) {
        error(s.line, "bad resource name in [resource " + std::string(name.substr(0, 80)) + "]: " + st.message());
        return;
      }
      auto [it, inserted] = resource_lines_.emplace(std::string(name), s.line);
      if (!inserted) {
        error(s.line, "duplicate resource '" + std::string(name) + "' (first defined at line " +
                          std::to_string(it->second) + ")");
        return;
      }
      ++resource_count_;
      sections_.push_back({.is_service = false, .name = std::string(name), .line = s.line});
      check_entries(s);
      return;
    }
    error(s.line, "unknown section [" + std::string(inner.substr(0, 80)) + "] (expected [service] or [resource NAME])" +
                      ini_did_you_mean(inner, {"service", "resource"}));
  }

  // The keys of one accepted section (the last one in sections_): known, each once, not too many.
  void check_entries(const IniSection& s) {
    Section& sec = sections_.back();
    for (const IniEntry& e : s.entries) {
      const std::string& key = e.key;
      const bool is_param = key.starts_with(kParamPrefix);
      if (is_param && !sec.is_service) {
        if (!syn::is_param_name(std::string_view(key).substr(kParamPrefix.size()))) {
          error(e.line, "bad parameter key " + ini_quoted(key) + " in " + sec.title() +
                            ": param.NAME with NAME of letters, digits and '_'");
          continue;
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
                   ini_edit_distance(std::string_view(key).substr(0, key.find('.')), "param") <= 2)
            hint = " (did you mean 'param." + key.substr(key.find('.') + 1) + "'?)";
          else if (hint = ini_did_you_mean(key, as_vector(known)); hint.empty())
            if (std::string h = ini_did_you_mean(key, as_vector(other)); !h.empty())
              hint = h.substr(0, h.size() - 2) + (sec.is_service ? " in a [resource NAME] section" : " in [service]") + "?)";
          error(e.line, ini_unknown_key(key, sec.title(), hint));
          continue;
        }
      }
      if (auto it = sec.key_lines.find(key); it != sec.key_lines.end()) {
        error(e.line, ini_duplicate_key(key, sec.title(), it->second));
        continue;
      }
      if (sec.entries.size() >= kMaxKeysPerSection) {
        if (!sec.too_many_keys)
          error(e.line, "too many keys in " + sec.title() + " (at most " + std::to_string(kMaxKeysPerSection) + ")");
        sec.too_many_keys = true;
        continue;
      }
      sec.key_lines.emplace(key, e.line);
      sec.entries.push_back(e);
    }
  }

  // Value helpers for build(): each reports "key 'k' in [section]: problem" at the key's line.
  void bad_value(const Section& sec, const Entry& e, const std::string& problem) {
    error(e.line, ini_bad_value(e.key, sec.title(), problem));
  }
  template <typename T, typename R>
  bool take(const Section& sec, const Entry& e, const Result<R>& r, T& out) {
    if (!r.ok()) {
      bad_value(sec, e, r.status().message());
      return false;
    }
    out = T(*r);
    return true;
  }
  // A timeout (> 0) or an interval (>= 0).
  void take_duration(const Section& sec, const Entry& e, Millis& out, bool zero_ok) {
    Millis v{};
    if (!take(sec, e, parse_duration(e.value), v)) return;
    if (!zero_ok && v == Millis(0)) return bad_value(sec, e, "must be more than 0");
    out = v;
  }

  std::optional<ResourceDefinition> build_resource(const Section& sec, const ResourceDefinition& defaults);

  IniDocument doc_;
  std::string file_;
  const std::vector<std::string>& cluster_nodes_;
  std::vector<LoadError> errors_;
  bool stopped_ = false;
  std::vector<Section> sections_;
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
      } else if (auto v = parse_integer(e.value, 0, 20); !v.ok() || (*v != 0 && *v != 10 && *v != 20)) {
        bad_value(sec, e, ini_quoted(e.value) + " is not a check level (0, 10 or 20)");
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
    if (const Entry* e = sec.find("shell")) take(sec, *e, parse_bool(e->value), r.shell);
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
        bad_value(sec, *e, ini_quoted((*split)[0]) +
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
        if (Status st = check_name(e.value); !st.ok()) bad_value(sec, e, st.message());
        // The name is its cgroup's directory name: a kernel file's name could never be one.
        else if (Status r = check_not_reserved_cgroup_name("service name", e.value); !r.ok()) bad_value(sec, e, r.message());
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
            bad_value(sec, e, "unknown node " + ini_quoted(node) + " (cluster nodes: " + (known.empty() ? "none" : known) +
                                  ")");
          } else {
            def.nodes.emplace_back(node);
          }
          if (comma == std::string_view::npos) break;
          rest = rest.substr(comma + 1);
        }
      } else if (k == "failback") {
        take(sec, e, parse_bool(e.value), def.failback);
      } else if (k == "autostart") {
        take(sec, e, parse_bool(e.value), def.autostart);
      } else if (k == "recovery") {
        take(sec, e, syn::parse_recovery(e.value), def.recovery);
      } else if (k == "max_restarts") {
        take(sec, e, parse_integer(e.value, 0, kMaxRestarts), def.max_restarts);
      } else if (k == "restart_window") {
        take_duration(sec, e, def.restart_window, false);
      } else if (k == "memory_max") {
        take(sec, e, parse_bytes(e.value), def.memory_max);
      } else if (k == "cpu_weight") {
        take(sec, e, parse_integer(e.value, 1, 10000), def.cpu_weight);
      } else if (k == "tasks_max") {
        take(sec, e, parse_integer(e.value, 1, 4194304), def.tasks_max);
      } else if (k == "probe") {
        if (auto p = parse_service_probe(e.value); p.ok()) def.probe = e.value;
        else bad_value(sec, e, p.status().message());
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

// The trust check's message without its leading "PATH: " (LoadError names the file already).
std::string trust_problem(const std::string& path, const std::string& message) {
  return message.starts_with(path + ": ") ? message.substr(path.size() + 2) : message;
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
  // Only root may be able to change what svcmgr runs as root: the file, every directory and symlink on the
  // way (common/trusted_path.h). Checked against the opened fd, so a rename in between is caught too.
  if (Status t = check_trusted_open_file(path, st); !t.ok()) return fail(trust_problem(path, t.message()));
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
  if (auto t = check_trusted_path(dir); !t.ok()) {
    const std::string problem = trust_problem(dir, t.status().message());
    out.errors.push_back({dir, 0, t.status().code() == Code::refused ? problem : "cannot open directory: " + problem});
    return out;
  }
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
