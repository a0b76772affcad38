#include "common/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <cerrno>

#include "common/errno_status.h"

namespace castor {

Result<FileLock> FileLock::acquire(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) return errno_status("open", path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return errno_status("fstat", path);
  if (!S_ISREG(st.st_mode)) return Error(Code::refused, path + ": not a regular file, so not a lock file of ours");
  while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) return Error(Code::busy, path + ": locked by another process");
    return errno_status("flock", path);
  }
  return FileLock(std::move(fd), path);
}

}  // namespace castor
