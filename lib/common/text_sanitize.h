// Text that came from outside (an agent's output, a service file, a disk record, a file name) made safe to
// keep, send as JSON and show on a terminal. Three jobs:
//   - clean_text: what a daemon keeps and reports (an agent's last line, an exit reason): valid UTF-8
//     (every invalid or truncated sequence becomes U+FFFD), every C0 / C1 control character and DEL made
//     a space (tab included: one line of text has no tabs; keeping none is simpler to reason about than
//     keeping some), blanks trimmed, and cut to at most N bytes on a character boundary.
//   - valid_utf8 / utf8_prefix: the two halves of that on their own.
//   - printable: what the CLI prints for any externally sourced string: everything that is not printable
//     is shown escaped (\xNN for an invalid byte or a C0 control, \u{NNNN} for a C1 control or a bidi
//     override, \\ for a backslash), so nothing it prints can move the cursor, change colours or reorder
//     the line on the admin's terminal.
// Must never throw, allocate unboundedly or depend on the locale.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace castor {

// `s` with every invalid UTF-8 sequence (stray continuation byte, bad lead byte, overlong form, surrogate,
// code point above U+10FFFF, sequence cut short) replaced by U+FFFD (one per maximal invalid subpart).
std::string valid_utf8(std::string_view s);

// The longest prefix of `s` of at most `max_bytes` bytes that does not end inside a UTF-8 sequence
// (a valid sequence is never cut in two; invalid bytes count as one character each).
std::string_view utf8_prefix(std::string_view s, size_t max_bytes);

// One line of external text made safe to keep and report (see above): valid UTF-8, controls made
// spaces, trimmed, at most `max_bytes` bytes, never ending inside a character.
std::string clean_text(std::string_view s, size_t max_bytes);

// `s` with everything a terminal could act on shown escaped (see above). The result is printable
// ASCII plus printable non-ASCII UTF-8.
std::string printable(std::string_view s);

// True when `s` is valid UTF-8.
bool is_valid_utf8(std::string_view s);

}  // namespace castor
