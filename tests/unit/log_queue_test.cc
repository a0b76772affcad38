// common/log's async queue is bounded: behind a stalled sink it holds kAsyncQueueRecords records, drops
// and counts the rest, and once the sink moves again the next line says how many were dropped.
#include <doctest/doctest.h>

#include <condition_variable>
#include <iostream>
#include <mutex>
#include <streambuf>
#include <string>

#include "common/log.h"

using namespace castor;

namespace {

// A stream buffer that blocks every write until released (a stalled journald / terminal).
class StalledBuf : public std::streambuf {
 public:
  void wait_entered() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return entered_; });
  }
  void release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  std::string text() {
    std::lock_guard lock(mu_);
    return text_;
  }

 protected:
  int overflow(int c) override {
    if (c == traits_type::eof()) return traits_type::not_eof(c);
    char ch = char(c);
    xsputn(&ch, 1);
    return c;
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    std::unique_lock lock(mu_);
    entered_ = true;
    cv_.notify_all();
    cv_.wait(lock, [&] { return released_; });
    text_.append(s, size_t(n));
    return n;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool entered_ = false, released_ = false;
  std::string text_;
};

}  // namespace

TEST_CASE("the async log queue is bounded: a stalled sink drops and counts, then says how many") {
  StalledBuf buf;
  std::streambuf* old = std::clog.rdbuf(&buf);
  log::Options o;
  o.program = "logtest";
  o.async = true;
  o.to_stderr = true;
  log::init(o);
  const uint64_t dropped_before = log::dropped_records();

  log::info("first record");  // the writer thread takes it off the queue and blocks writing it
  buf.wait_entered();
  const size_t extra = 25;
  for (size_t i = 0; i < log::kAsyncQueueRecords + extra; ++i) log::info("filler", {{"i", i}});
  CHECK(log::dropped_records() - dropped_before == extra);  // exactly what did not fit

  buf.release();
  log::flush();
  log::info("after the stall");
  log::flush();
  log::init(log::Options{});  // back to the synchronous stderr sink the other tests use
  std::clog.rdbuf(old);

  const std::string text = buf.text();
  const size_t note = text.find("25 log records dropped (the log queue was full)");
  const size_t after = text.find("after the stall");
  CHECK(note != std::string::npos);
  CHECK(after != std::string::npos);
  CHECK(note < after);
  CHECK(text.find("filler i=" + std::to_string(log::kAsyncQueueRecords - 1)) != std::string::npos);  // kept
  CHECK(text.find("filler i=" + std::to_string(log::kAsyncQueueRecords)) == std::string::npos);      // dropped
}

TEST_CASE("log values are valid UTF-8 without control characters") {
  const std::string line = log::format_line("x", {{"reason", std::string("\xFF a\x1B[1m \xC2\x9B z\x7F")}});
  CHECK(line == "x reason=\"\xEF\xBF\xBD a?[1m ? z?\"");
}
