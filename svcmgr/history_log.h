// HistoryLog: svcmgr's event history on the local disk (issue 20), one HistoryRecord a line in
// DIR/NODE.jsonl (DIR = STATE_DIR/history, created 0700 and required to be root's alone, as the saved
// definitions are), rotated at kRotateBytes to NODE.jsonl.1 (one older file kept: the two hold at least
// kRotateBytes of the latest events). Each record is written and fdatasync'ed by a writer thread of its
// own, so that the event loop never waits for the disk (a stalled local disk must not delay a failover):
// append() only queues; at most kMaxQueued records wait, past that a record is dropped and counted, and
// the drop is logged once the writer catches up.
// Must never block the caller on I/O, never follow a symlink at the file, never write outside DIR, and
// never stop svcmgr for a failure of its own (each failure is logged, once until the next success).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/status.h"
#include "control/history_record.h"

namespace castor {

class HistoryLog {
 public:
  static constexpr size_t kMaxQueued = 1024;
  static constexpr uint64_t kRotateBytes = 4u << 20;

  // The directory is made (0700) and checked at once; the file is opened by the writer at its first record.
  // `rotate_bytes`: tests make it small.
  static Result<std::unique_ptr<HistoryLog>> open(const std::string& dir, const std::string& node,
                                                  uint64_t rotate_bytes = kRotateBytes);
  ~HistoryLog();  // writes what is queued (bounded by the disk), then stops the writer
  HistoryLog(const HistoryLog&) = delete;
  HistoryLog& operator=(const HistoryLog&) = delete;

  void append(const HistoryRecord& r);
  // For tests: waits until every record appended so far is written (or failed), at most `limit_ms`.
  bool flush(int limit_ms);
  const std::string& path() const { return path_; }

 private:
  HistoryLog(std::string dir, std::string path, uint64_t rotate_bytes);
  void run();
  Status write_batch(const std::string& text);

  std::string dir_, path_;
  uint64_t rotate_bytes_;
  std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  std::deque<std::string> queue_;  // encoded lines
  uint64_t appended_ = 0, written_ = 0, dropped_ = 0;
  bool stop_ = false;
  bool failing_ = false;  // the last write failed (logged once)
  std::thread writer_;
};

}  // namespace castor
