// doctest's main, compiled once and shared by the unit and root test binaries. Its listener keeps each
// test case's log (tests/support/log_capture.h) and shows it on stderr only when the case fails.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <iostream>
#include <string>

#include "tests/support/log_capture.h"

namespace {

struct LogCaptureListener : doctest::IReporter {
  explicit LogCaptureListener(const doctest::ContextOptions&) {}

  void test_case_start(const doctest::TestCaseData& tc) override {
    name_ = tc.m_name;
    shown_ = false;
    castor::testing::log_capture_begin();
  }
  void test_case_end(const doctest::CurrentTestCaseStats& st) override {
    if (!st.testCaseSuccess || st.numAssertsFailedCurrentTest > 0) show();
    (void)castor::testing::log_capture_take();
  }
  void test_case_exception(const doctest::TestCaseException&) override { show(); }

  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats&) override {}
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}

 private:
  void show() {
    if (shown_) return;
    shown_ = true;
    castor::testing::log_capture_show(std::cerr, name_);
  }

  std::string name_;
  bool shown_ = false;
};

}  // namespace

DOCTEST_REGISTER_LISTENER("castor_log_capture", 1, LogCaptureListener);
