// An exclusive, non-blocking lock on a file (flock(2)), held while the FileLock lives. The kernel drops it
// when the last descriptor of its open file goes: at destruction, or when the process ends -- after the
// process's asynchronous I/O has drained, so a frozen or unkillable holder (stopped, stuck in D state on a
// stalled path) keeps it. For quorumd's node lock: one process at a time writes a node's blocks.
// Must never block, follow a symlink at PATH, create anything but a regular file, or report a lock it does
// not hold.
#pragma once

#include <string>

#include "common/status.h"
#include "common/unique_fd.h"

namespace castor {

class FileLock {
 public:
  // Opens PATH (created 0600 if missing; its directory must exist) and locks it. Code::busy when another
  // open file holds the lock (another process, or another FileLock of this one).
  static Result<FileLock> acquire(const std::string& path);
  const std::string& path() const { return path_; }

 private:
  FileLock(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  UniqueFd fd_;
  std::string path_;
};

}  // namespace castor
