#include "common/value_parsers.h"

#include <charconv>
#include <string>

namespace castor {
namespace {

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

char lower(char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; }

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != b[i]) return false;
  return true;
}

Status invalid(std::string message) { return Error(Code::invalid_argument, std::move(message)); }

}  // namespace

Result<bool> parse_bool(std::string_view text) {
  for (std::string_view t : {"yes", "true", "on", "1"})
    if (equals_ignoring_case(text, t)) return true;
  for (std::string_view f : {"no", "false", "off", "0"})
    if (equals_ignoring_case(text, f)) return false;
  return invalid("'" + std::string(text) + "' is not a boolean (yes/no, true/false, on/off, 1/0)");
}

Result<int64_t> parse_integer(std::string_view text, int64_t min, int64_t max) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || text[0] == '-' || text[0] == '+' || ec != std::errc() || end != text.data() + text.size() ||
      v < min || v > max)
    return invalid("'" + std::string(text) + "' is not an integer from " + std::to_string(min) + " to " +
                   std::to_string(max));
  return v;
}

Result<Millis> parse_duration(std::string_view text) {
  auto bad = [&]() {
    return invalid("'" + std::string(text) +
                   "' is not a duration (an integer with unit ms, s, m or h, e.g. 30s, 500ms, 2m; a bare integer is "
                   "seconds)");
  };
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0) return bad();
  if (digits > 12) return invalid("duration '" + std::string(text) + "' is too long (at most 7 days)");
  int64_t n = 0;
  std::from_chars(text.data(), text.data() + digits, n);
  std::string_view unit = text.substr(digits);
  int64_t ms;
  if (unit.empty() || unit == "s") ms = n * 1000;
  else if (unit == "ms") ms = n;
  else if (unit == "m") ms = n * 60 * 1000;
  else if (unit == "h") ms = n * 3600 * 1000;
  else return bad();
  if (ms > kMaxDuration.count()) return invalid("duration '" + std::string(text) + "' is too long (at most 7 days)");
  return Millis(ms);
}

Status check_name(std::string_view name) {
  if (name.empty()) return invalid("empty name");
  if (name.size() > kMaxNameLength)
    return invalid("name is " + std::to_string(name.size()) + " characters long (at most " +
                   std::to_string(kMaxNameLength) + ")");
  if (!is_alnum(name[0])) return invalid("'" + std::string(name) + "' must start with a letter or digit");
  for (char c : name)
    if (!is_alnum(c) && c != '.' && c != '_' && c != '-')
      return invalid("'" + std::string(name) + "' may only contain letters, digits, '.', '_' and '-'");
  return Status::Ok();
}

}  // namespace castor
