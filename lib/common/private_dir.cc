#include "common/private_dir.h"

#include <sys/stat.h>

#include <cerrno>

#include "common/errno_status.h"
#include "common/trusted_path.h"

namespace castor {

Status make_private_dir(const std::string& dir, std::string_view what) {
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i != dir.size() && dir[i] != '/') continue;
    const std::string part = dir.substr(0, i);
    if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) return errno_status("mkdir", part);
  }
  auto t = check_trusted_path(dir);
  if (!t.ok()) return t.status().with_context("the directory of " + std::string(what));
  if (!S_ISDIR(t->st.st_mode)) return Error(Code::refused, dir + ": not a directory (" + std::string(what) + ")");
  return Status::Ok();
}

}  // namespace castor
