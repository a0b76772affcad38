// HistoryLog: svcmgr's event history on the local disk (issue 20), one HistoryRecord a line in
// DIR/NODE.jsonl (DIR = STATE_DIR/history, created 0700 and required to be root's alone, as the saved
// definitions are), rotated at kRotateBytes to NODE.jsonl.1 (one older file kept: the two hold at least
// kRotateBytes of the latest events). Each record is written and fdatasync'ed by a writer thread of its
// own, so that the event loop never waits for the disk (a stalled local disk must not delay a failover):
// append() only queues; at most kMaxQueued records wait, past that a record is dropped and counted, and
// the drop is logged once the writer catches up. Destruction (svcmgr's exit, a fence's included) waits for
// the writer at most kExitWait; a writer stuck in the disk is then left behind (its state is shared with
// it, never freed under it) and the process exits without it.
// Must never block the caller on I/O, never follow a symlink at the file nor open anything but a regular
// file (O_NONBLOCK: a FIFO planted there cannot hang the writer), never write outside DIR, and never stop
// svcmgr for a failure of its own (each failure is logged, once until the next success).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "common/status.h"
#include "control/history_record.h"

namespace castor {

class HistoryLog {
 public:
  static constexpr size_t kMaxQueued = 1024;
  static constexpr uint64_t kRotateBytes = 4u << 20;
  static constexpr std::chrono::seconds kExitWait{2};

  // The directory is made (0700) and checked at once; the file is opened by the writer at each batch.
  // `rotate_bytes`: tests make it small.
  static Result<std::unique_ptr<HistoryLog>> open(const std::string& dir, const std::string& node,
                                                  uint64_t rotate_bytes = kRotateBytes);
  ~HistoryLog();
  HistoryLog(const HistoryLog&) = delete;
  HistoryLog& operator=(const HistoryLog&) = delete;

  void append(const HistoryRecord& r);
  // For tests: waits until every record appended so far is written (or failed), at most `limit_ms`.
  bool flush(int limit_ms);
  const std::string& path() const;

 private:
  struct Shared;  // the queue and the file's names, owned jointly with the writer thread
  explicit HistoryLog(std::shared_ptr<Shared> s) : shared_(std::move(s)) {}
  static void run(std::shared_ptr<Shared> s);

  std::shared_ptr<Shared> shared_;
  std::thread writer_;
};

}  // namespace castor
