// Value parsers: the one set of rules for the values of every INI file Castor reads (castor.ini's
// [quorumd] and [svcmgr], the service files): booleans, bounded integers, durations and names.
// Each error message says what was expected and quotes the text, without naming a key or a file (the
// caller adds "file:line: key 'k' in [section]: "). Must never throw, trim, or accept a partial match.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"

namespace castor {

// The longest name (service, resource): fits the 64-byte name fields on disk, with a NUL.
inline constexpr size_t kMaxNameLength = 63;
// The upper bound of every duration: 7 days.
inline constexpr Millis kMaxDuration{7LL * 24 * 3600 * 1000};

// yes/no, true/false, on/off, 1/0, case-insensitive ("Yes", "OFF" and "True" too). Nothing else.
Result<bool> parse_bool(std::string_view text);

// A decimal integer in [min, max]: digits only (no sign, spaces, "0x" or exponent).
Result<int64_t> parse_integer(std::string_view text, int64_t min, int64_t max);

// "30s", "500ms", "2m", "1h"; a bare integer is seconds. 0 .. kMaxDuration. Units are lower case.
Result<Millis> parse_duration(std::string_view text);

// Service and resource names: 1-63 of [A-Za-z0-9._-], starting with a letter or digit.
Status check_name(std::string_view name);

}  // namespace castor
