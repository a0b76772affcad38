#include "common/cli_args.h"

#include <cerrno>
#include <cstdlib>

namespace castor {

std::optional<std::string> CliArgs::value(const std::string& name) const {
  auto it = values.find(name);
  if (it == values.end()) return std::nullopt;
  return it->second;
}

Result<CliArgs> parse_cli_args(const std::vector<std::string>& args, const std::vector<OptionSpec>& spec) {
  CliArgs out;
  bool only_positional = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (only_positional || a.size() < 2 || a[0] != '-' || a == "-") {
      out.positional.push_back(a);
      continue;
    }
    if (a == "--") {
      only_positional = true;
      continue;
    }
    if (a == "-h" || a == "--help") {
      out.flags.insert("--help");
      continue;
    }
    std::string name = a, val;
    bool has_inline = false;
    if (auto eq = a.find('='); eq != std::string::npos) {
      name = a.substr(0, eq);
      val = a.substr(eq + 1);
      has_inline = true;
    }
    const OptionSpec* s = nullptr;
    for (const auto& o : spec)
      if (o.name == name) s = &o;
    if (!s) return Error(Code::invalid_argument, "unknown option " + name);
    if (!s->takes_value) {
      if (has_inline) return Error(Code::invalid_argument, "option " + name + " takes no value");
      out.flags.insert(name);
      continue;
    }
    if (!has_inline) {
      if (i + 1 >= args.size()) return Error(Code::invalid_argument, "option " + name + " needs a value");
      val = args[++i];
    }
    if (out.values.count(name)) return Error(Code::invalid_argument, "option " + name + " given twice");
    out.values[name] = val;
  }
  return out;
}

Result<int64_t> parse_int(const std::string& text, int64_t min, int64_t max, const std::string& what) {
  if (text.empty()) return Error(Code::invalid_argument, what + " is empty");
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (errno != 0 || end == text.c_str() || *end != '\0')
    return Error(Code::invalid_argument, what + " '" + text + "' is not a whole number");
  if (v < min || v > max)
    return Error(Code::invalid_argument,
                 what + " " + text + " is outside [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  return int64_t(v);
}

}  // namespace castor
