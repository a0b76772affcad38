// What the CLI prints of text it did not write itself (a service file, an agent's message, a disk record,
// a daemon's reply) goes through here, so nothing it prints can act on the admin's terminal.
//   printable(s)      (common/text_sanitize.h): for every such string in the human-readable outputs.
//   terminal_json(j)  for --json outputs: ASCII-only JSON (every non-ASCII character as \uXXXX, every
//                     control character escaped, invalid UTF-8 replaced by U+FFFD), parsed by any JSON
//                     reader to the same values.
// Must never throw and never print raw external bytes.
#pragma once

#include <string>

#include "common/text_sanitize.h"

namespace castor {

template <typename JsonT>
std::string terminal_json(const JsonT& j) {
  return j.dump(-1, ' ', /*ensure_ascii=*/true, JsonT::error_handler_t::replace);
}

}  // namespace castor
