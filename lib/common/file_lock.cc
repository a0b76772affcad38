#include "common/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "common/errno_status.h"

namespace castor {

namespace {

size_t page_size() {
  const long p = ::sysconf(_SC_PAGESIZE);
  return p > 0 ? size_t(p) : 4096;
}

}  // namespace

Result<FileLock> FileLock::acquire(const std::string& path) {
  // A lock on a file that was deleted or replaced after the open locks nothing anyone else will open: try again.
  for (int attempt = 0; attempt < 8; ++attempt) {
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd.valid()) return errno_status("open", path);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return errno_status("fstat", path);
    if (!S_ISREG(st.st_mode)) return Error(Code::refused, path + ": not a regular file, so not a lock file of ours");
    if (st.st_uid != ::geteuid())
      return Error(Code::refused, path + ": owned by uid " + std::to_string(st.st_uid) + ", not by this process's user");
    while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno == EINTR) continue;
      if (errno == EWOULDBLOCK) return Error(Code::busy, path + ": locked by another process");
      return errno_status("flock", path);
    }
    struct stat now {};
    if (::stat(path.c_str(), &now) != 0) {
      if (errno == ENOENT) continue;
      return errno_status("stat", path);
    }
    if (now.st_dev != st.st_dev || now.st_ino != st.st_ino) continue;
    void* pin = ::mmap(nullptr, page_size(), PROT_NONE, MAP_SHARED, fd.get(), 0);
    if (pin == MAP_FAILED) return errno_status("mmap (pinning the lock to the address space)", path);
    (void)::madvise(pin, page_size(), MADV_DONTFORK);  // a forked child (before its exec) does not share it
    return FileLock(std::move(fd), pin, path);
  }
  return Error(Code::busy, path + ": deleted or replaced each time it was locked");
}

FileLock::FileLock(FileLock&& o) noexcept
    : fd_(std::move(o.fd_)), pin_(std::exchange(o.pin_, nullptr)), path_(std::move(o.path_)) {}

FileLock::~FileLock() {
  if (pin_) ::munmap(pin_, page_size());
}

}  // namespace castor
