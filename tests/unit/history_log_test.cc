// Tests for svcmgr/history_log.h: records written one a line and read back, the file 0600 and never
// through a symlink, rotation to NODE.jsonl.1 (one older file), a directory others may write refused, and
// append() never waiting for the disk.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "svcmgr/history_log.h"
#include "tests/support/scratch.h"
#include "tests/support/source_tree.h"
#include "tools/history_view.h"

using namespace castor;
using castor::testing::ScratchDir;
using castor::testing::read_text_file;

namespace {


HistoryRecord rec(int64_t i) {
  HistoryRecord r;
  r.wall_ns = 1765000000000000000 + i;
  r.node = "alpha";
  r.event = "service_started";
  r.kind = "resource";
  r.service = "web";
  r.epoch = uint64_t(i);
  r.desc = "OK";
  return r;
}

}  // namespace

TEST_CASE("history log: records written one a line, read back, file 0600") {
  ScratchDir dir;
  auto h = HistoryLog::open(dir.file("state/history"), "alpha");
  REQUIRE_MESSAGE(h.ok(), h.status().to_string());
  CHECK((*h)->path() == dir.file("state/history/alpha.jsonl"));
  struct stat st;
  REQUIRE(stat(dir.file("state/history").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 1; i <= 100; ++i) (*h)->append(rec(i));
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(1));
  REQUIRE((*h)->flush(5000));
  size_t skipped = 9;
  auto back = parse_history_text(read_text_file((*h)->path()), &skipped);
  CHECK(skipped == 0);
  REQUIRE(back.size() == 100);
  CHECK(back.front() == rec(1));
  CHECK(back.back() == rec(100));
  REQUIRE(stat((*h)->path().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  // Reopened (svcmgr restarted): appends after what is there.
  h->reset();
  auto again = HistoryLog::open(dir.file("state/history"), "alpha");
  REQUIRE(again.ok());
  (*again)->append(rec(101));
  REQUIRE((*again)->flush(5000));
  CHECK(parse_history_text(read_text_file((*again)->path()), nullptr).size() == 101);
}

TEST_CASE("history log: rotation keeps one older file; nothing through a symlink; an open directory refused") {
  ScratchDir dir;
  auto h = HistoryLog::open(dir.file("h"), "alpha", 2000);
  REQUIRE(h.ok());
  for (int i = 1; i <= 60; ++i) {
    (*h)->append(rec(i));
    REQUIRE((*h)->flush(5000));
  }
  const auto now = parse_history_text(read_text_file(dir.file("h/alpha.jsonl")), nullptr);
  const auto older = parse_history_text(read_text_file(dir.file("h/alpha.jsonl.1")), nullptr);
  CHECK(!older.empty());
  CHECK(now.size() + older.size() < 60);  // older rotations are gone
  CHECK(now.back() == rec(60));
  CHECK(older.back().epoch + 1 == now.front().epoch);  // no record lost at the last rotation
  h->reset();

  // A symlink planted at the file: never written through.
  ScratchDir d2;
  REQUIRE(mkdir(d2.file("h").c_str(), 0700) == 0);
  std::ofstream(d2.file("target")) << "";
  REQUIRE(symlink(d2.file("target").c_str(), d2.file("h/alpha.jsonl").c_str()) == 0);
  auto s = HistoryLog::open(d2.file("h"), "alpha");
  REQUIRE(s.ok());
  (*s)->append(rec(1));
  REQUIRE((*s)->flush(5000));
  CHECK(read_text_file(d2.file("target")).empty());
  s->reset();

  // A history directory others may write to is refused.
  REQUIRE(mkdir(d2.file("open").c_str(), 0777) == 0);
  REQUIRE(chmod(d2.file("open").c_str(), 0777) == 0);
  auto o = HistoryLog::open(d2.file("open"), "alpha");
  REQUIRE_FALSE(o.ok());
  CHECK(o.status().code() == Code::refused);
  CHECK_FALSE(HistoryLog::open(d2.file("h"), "../x").ok());
}

TEST_CASE("history log: a FIFO planted at the file neither hangs the writer nor svcmgr's exit") {
  ScratchDir dir;
  REQUIRE(mkdir(dir.file("h").c_str(), 0700) == 0);
  REQUIRE(mkfifo(dir.file("h/alpha.jsonl").c_str(), 0600) == 0);
  const auto t0 = std::chrono::steady_clock::now();
  {
    auto h = HistoryLog::open(dir.file("h"), "alpha");
    REQUIRE(h.ok());
    (*h)->append(rec(1));
    CHECK((*h)->flush(3000));  // written or failed, not stuck: O_NONBLOCK and refused as not a regular file
  }
  CHECK(std::chrono::steady_clock::now() - t0 < HistoryLog::kExitWait + std::chrono::seconds(2));
}
