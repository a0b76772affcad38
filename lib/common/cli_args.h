// CliArgs: the admin CLI's argument parser. Options are "--name value", "--name=value" or boolean flags;
// everything else is positional. Unknown options and missing values are usage errors that name the option.
// Never exits the process or prints: the caller decides.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"

namespace castor {

struct OptionSpec {
  std::string name;  // with the dashes: "--cluster"
  bool takes_value = false;
};

struct CliArgs {
  std::vector<std::string> positional;
  std::map<std::string, std::string> values;
  std::set<std::string> flags;

  bool has(const std::string& name) const { return flags.count(name) || values.count(name); }
  std::optional<std::string> value(const std::string& name) const;
};

// Parses args (without the program and verb). "--help"/"-h" is always accepted as a flag.
Result<CliArgs> parse_cli_args(const std::vector<std::string>& args, const std::vector<OptionSpec>& spec);

// Parses a decimal integer in [min, max]; `what` names it in the error.
Result<int64_t> parse_int(const std::string& text, int64_t min, int64_t max, const std::string& what);

}  // namespace castor
