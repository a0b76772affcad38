// An exclusive, non-blocking lock on a file (flock(2)), held while the FileLock lives. The lock belongs to the
// open file, which the FileLock also maps (one page, PROT_NONE): the kernel drops the lock only when the last
// reference to that open file goes. At a process's exit the descriptor goes in exit_files, but the mapping only
// in exit_mmap, which runs after exit_aio has waited for the process's asynchronous I/O -- whichever task drops
// the address space last (a reader of /proc/PID/cmdline may hold it past the exit: without the mapping the lock
// went with the descriptor while a write was still pending). So a frozen, killed or unkillable holder (stopped,
// in D state on a stalled path) keeps it until its I/O has drained. For quorumd's node lock: one process at a
// time writes a node's blocks.
// Must never block, follow a symlink at PATH, lock a file that is not a regular file of this user's, report a
// lock it does not hold, or keep a lock on a file no longer at PATH (deleted or replaced: it is taken again).
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
  FileLock(FileLock&& o) noexcept;
  FileLock& operator=(FileLock&&) = delete;
  FileLock(const FileLock&) = delete;
  ~FileLock();
  const std::string& path() const { return path_; }

 private:
  FileLock(UniqueFd fd, void* pin, std::string path) : fd_(std::move(fd)), pin_(pin), path_(std::move(path)) {}
  UniqueFd fd_;
  void* pin_;  // the PROT_NONE mapping of the file (see above); nullptr once moved from
  std::string path_;
};

}  // namespace castor
