#include "tests/support/log_capture.h"

#include <cstdlib>
#include <iostream>
#include <mutex>
#include <streambuf>

#include "common/log.h"

namespace castor::testing {
namespace {

// A std::streambuf that appends to a string under a mutex (the async log sink writes from its own
// thread), keeping the last kLogCaptureBytes.
class CaptureBuf : public std::streambuf {
 public:
  std::string text() {
    std::lock_guard lock(mu_);
    return text_;
  }
  std::string take() {
    std::lock_guard lock(mu_);
    std::string out;
    if (cut_ > 0) out = "[... " + std::to_string(cut_) + " bytes of earlier log cut ...]\n";
    out += text_;
    text_.clear();
    cut_ = 0;
    return out;
  }

 protected:
  int overflow(int c) override {
    if (c == traits_type::eof()) return traits_type::not_eof(c);
    const char ch = char(c);
    append(&ch, 1);
    return c;
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    append(s, size_t(n));
    return n;
  }

 private:
  void append(const char* s, size_t n) {
    std::lock_guard lock(mu_);
    text_.append(s, n);
    if (text_.size() > kLogCaptureBytes) {
      const size_t drop = text_.size() - kLogCaptureBytes / 2;
      text_.erase(0, drop);
      cut_ += drop;
    }
  }

  std::mutex mu_;
  std::string text_;
  size_t cut_ = 0;
};

CaptureBuf& buffer() {
  static CaptureBuf* b = new CaptureBuf();  // never destroyed: std::clog may point at it until exit
  return *b;
}

}  // namespace

bool log_capture_enabled() {
  static const bool enabled = [] {
    const char* v = std::getenv("CASTOR_TEST_LOG");
    return !(v && *v && std::string(v) != "0");
  }();
  return enabled;
}

void log_capture_begin() {
  if (!log_capture_enabled()) return;
  static std::once_flag installed;
  std::call_once(installed, [] { std::clog.rdbuf(&buffer()); });
  log::flush();
  (void)buffer().take();
}

std::string log_capture_take() {
  if (!log_capture_enabled()) return "";
  log::flush();
  return buffer().take();
}

bool log_capture_show(std::ostream& out, const std::string& test_name) {
  const std::string text = log_capture_take();
  if (text.empty()) return false;
  out << "---- log of the failed test case \"" << test_name << "\" ----\n"
      << text << (text.back() == '\n' ? "" : "\n") << "---- end of the log of \"" << test_name << "\" ----\n";
  out.flush();
  return true;
}

std::string captured_log() {
  if (!log_capture_enabled()) return "";
  log::flush();
  return buffer().text();
}

}  // namespace castor::testing
