// Test support: what the code under test logs is kept per test case and shown only when that test case
// fails. common/log writes its lines to std::clog; the test main (tests/doctest_main.cc) points std::clog
// at a buffer when each test case starts, and writes the buffer to stderr, framed with the test case's
// name, when the case fails or crashes (an in-process daemon's log is what explains a failure; on a pass
// it is noise). CASTOR_TEST_LOG=1 in the environment leaves std::clog alone: every line on stderr as it
// happens. The buffer keeps the last kLogCaptureBytes; what it cut is said in the dump. Never used by
// production code.
#pragma once

#include <cstddef>
#include <ostream>
#include <string>

namespace castor::testing {

inline constexpr size_t kLogCaptureBytes = size_t(8) << 20;

// Whether logs are captured in this run (false with CASTOR_TEST_LOG=1).
bool log_capture_enabled();
// The running test case's log so far ("" when not capturing). Flushes common/log first.
std::string captured_log();

// For the test main: empties the buffer (and points std::clog at it the first time).
void log_capture_begin();
// For the test main: the buffer's text with a note of what was cut, then empties it. Flushes common/log.
std::string log_capture_take();
// For the test main, when test case `test_name` failed: takes the buffer and writes it to `out` between
// two lines naming the case; nothing when it is empty. Returns whether it wrote.
bool log_capture_show(std::ostream& out, const std::string& test_name);

}  // namespace castor::testing
