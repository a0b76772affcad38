// Test support: files of the source tree (the samples under etc/, docs) as the tests read them, wherever
// the test binary runs: from $CASTOR_SOURCE_DIR, the working directory, or where this file was compiled.
// And a whole file's text for a test's checks. Never used by production code.
#pragma once

#include <string>

#include "common/status.h"

namespace castor::testing {

// The text of `relative` (e.g. "etc/castor.ini") in the source tree; not_found when no candidate has it.
Result<std::string> read_source_file(const std::string& relative);

// A sample's text with its commented-out settings switched on, from byte `from` on: every line ";[section"
// or ";key" loses its ';' (comments, which start "; " or ";;", stay comments).
std::string uncomment_settings(const std::string& text, size_t from = 0);

// A file's whole text; "" when it cannot be read (the checks that follow say what was expected).
std::string read_text_file(const std::string& path);

}  // namespace castor::testing
