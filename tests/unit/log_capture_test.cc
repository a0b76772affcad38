// The test main keeps each test case's log (tests/support/log_capture.h): what the code under test logs
// through common/log lands in the case's buffer, not on stderr, and is written out, framed with the
// case's name, only for a failed case (log_capture_show, which the main's listener calls).
#include <doctest/doctest.h>

#include <iostream>
#include <sstream>
#include <string>

#include "common/log.h"
#include "tests/support/log_capture.h"

using namespace castor;

TEST_CASE("log capture: a test case's log lines go to its buffer, and out only for a failed case") {
  if (!testing::log_capture_enabled()) {
    MESSAGE("CASTOR_TEST_LOG is set: logs go straight to stderr, nothing to check");
    return;
  }
  log::warning("log-capture marker one", {{"subject", "x"}});
  log::info("log-capture marker two");
  const std::string kept = testing::captured_log();
  CHECK(kept.find("log-capture marker one subject=x") != std::string::npos);
  CHECK(kept.find("log-capture marker two") != std::string::npos);

  std::ostringstream out;
  CHECK(testing::log_capture_show(out, "demo case"));
  const std::string shown = out.str();
  CHECK(shown.rfind("---- log of the failed test case \"demo case\" ----\n", 0) == 0);
  CHECK(shown.find("log-capture marker one") != std::string::npos);
  CHECK(shown.find("---- end of the log of \"demo case\" ----\n") != std::string::npos);
  CHECK(testing::captured_log().empty());  // taken: the next case starts empty
  std::ostringstream none;
  CHECK_FALSE(testing::log_capture_show(none, "quiet case"));  // nothing logged: nothing written
  CHECK(none.str().empty());
}

TEST_CASE("log capture: the buffer keeps the last bytes of a flood and says how much it cut") {
  if (!testing::log_capture_enabled()) return;
  const std::string line(1023, 'z');
  for (size_t i = 0; i < testing::kLogCaptureBytes / 1024 + 64; ++i) std::clog << line << '\n';
  log::info("log-capture last line");
  const std::string kept = testing::captured_log();
  CHECK(kept.size() <= testing::kLogCaptureBytes);
  CHECK(kept.find("log-capture last line") != std::string::npos);
  const std::string taken = testing::log_capture_take();
  CHECK(taken.rfind("[... ", 0) == 0);
  CHECK(taken.find(" bytes of earlier log cut ...]\n") != std::string::npos);
}
