#include "common/durable_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/errno_status.h"
#include "common/unique_fd.h"

namespace castor {

namespace {

std::string dir_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

Status replace_file_durably(const std::string& path, std::string_view content, mode_t mode, std::string_view who) {
  const std::string tmp = path + ".tmp";
  struct stat st;
  if (::lstat(tmp.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode) || !(st.st_uid == 0 || st.st_uid == ::geteuid()))
      return Error(Code::refused, tmp + ": a stale temporary file that " + std::string(who) + " did not write (" +
                                      (S_ISREG(st.st_mode) ? "owned by uid " + std::to_string(st.st_uid) : "not a regular file") +
                                      "); remove it by hand");
    if (::unlink(tmp.c_str()) != 0 && errno != ENOENT) return errno_status("unlink", tmp);
  } else if (errno != ENOENT) {
    return errno_status("lstat", tmp);
  }
  {
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
    if (!fd.valid()) return errno_status("open", tmp);
    auto fail = [&](Status failed) {
      (void)::unlink(tmp.c_str());
      return failed;
    };
    size_t done = 0;
    while (done < content.size()) {
      ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        return fail(errno_status("write", tmp));
      }
      done += size_t(n);
    }
    if (::fsync(fd.get()) != 0) return fail(errno_status("fsync", tmp));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status failed = errno_status("rename", tmp);
    (void)::unlink(tmp.c_str());
    return failed;
  }
  const std::string dir = dir_of(path);
  UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dfd.valid()) return errno_status("open", dir);
  if (::fsync(dfd.get()) != 0) return errno_status("fsync", dir);
  return Status::Ok();
}

}  // namespace castor
