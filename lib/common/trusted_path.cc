#include "common/trusted_path.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "common/errno_status.h"

namespace castor {
namespace {

constexpr int kMaxSymlinks = 40;
constexpr const char* kWhy = "; only root may be able to change a file Castor runs";

std::string mode_text(mode_t m) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", unsigned(m & 07777));
  return buf;
}

std::vector<std::string> split(const std::string& p) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string::npos) j = p.size();
    if (j > i) out.push_back(p.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

// `where` is empty for the object itself, else "directory X" / "symlink X".
Status refuse(const std::string& path, const std::string& where, const std::string& problem) {
  return Error(Code::refused, path + ": " + (where.empty() ? "" : where + " is ") + problem + kWhy);
}

Status check_owner_mode(const std::string& path, const std::string& where, const struct stat& st, bool sticky_ok) {
  if (st.st_uid != 0 && st.st_uid != ::geteuid())
    return refuse(path, where, "owned by uid " + std::to_string(st.st_uid) + ", not root");
  if (S_ISLNK(st.st_mode)) return Status::Ok();
  const bool group_w = st.st_mode & S_IWGRP, other_w = st.st_mode & S_IWOTH;
  if (!group_w && !other_w) return Status::Ok();
  if (sticky_ok && S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX)) return Status::Ok();
  return refuse(path, where,
                std::string("writable by ") + (group_w && other_w ? "group and others" : group_w ? "group" : "others") +
                    " (mode " + mode_text(st.st_mode) + ")");
}

}  // namespace

Result<TrustedObject> check_trusted_path(const std::string& path) {
  if (path.empty()) return Error(Code::invalid_argument, "empty path");
  std::string start;
  if (path[0] != '/') {
    char cwd[4096];
    if (!::getcwd(cwd, sizeof cwd)) return errno_status("getcwd", path);
    start = cwd;
  }
  // `todo` holds the components still to walk, last component at the front of the reversed list.
  std::vector<std::string> todo = split(start + "/" + path);
  std::reverse(todo.begin(), todo.end());
  std::vector<std::string> done;  // resolved components of the current directory
  auto join = [](const std::vector<std::string>& parts) {
    std::string s;
    for (const auto& p : parts) s += "/" + p;
    return s.empty() ? std::string("/") : s;
  };
  struct stat st;
  if (::lstat("/", &st) != 0) return errno_status("lstat", "/");
  RETURN_IF_ERROR(check_owner_mode(path, "directory /", st, /*sticky_ok=*/!todo.empty()));
  int links = 0;
  while (!todo.empty()) {
    std::string name = std::move(todo.back());
    todo.pop_back();
    if (name == ".") {
      if (todo.empty()) {  // the object is the current directory itself: re-check it without the exception
        if (::lstat(join(done).c_str(), &st) != 0) return errno_status("lstat", join(done));
        RETURN_IF_ERROR(check_owner_mode(path, "", st, false));
      }
      continue;
    }
    if (name == "..") {
      if (!done.empty()) done.pop_back();
      if (todo.empty()) {
        if (::lstat(join(done).c_str(), &st) != 0) return errno_status("lstat", join(done));
        RETURN_IF_ERROR(check_owner_mode(path, "", st, false));
      }
      continue;
    }
    done.push_back(name);
    const std::string here = join(done);
    if (::lstat(here.c_str(), &st) != 0) {
      int err = errno;
      if (err == ENOENT) {
        // Missing is "not found" only where nobody but root could create it: in a directory others can
        // write to (a sticky one, accepted on the way) anyone may create it right after this check,
        // before the caller opens or runs it.
        done.pop_back();
        const std::string dir = join(done);
        struct stat dst;
        if (::lstat(dir.c_str(), &dst) != 0) return errno_status("lstat", dir);
        if (dst.st_mode & (S_IWGRP | S_IWOTH))
          return refuse(path, "",
                        here + " does not exist, and its directory " + dir + " is writable by others (mode " +
                            mode_text(dst.st_mode) + "): anyone could create it");
        return Error(Code::not_found, path + ": " + here + " does not exist");
      }
      return errno_status("lstat", here, err);
    }
    const bool last = todo.empty();
    if (S_ISLNK(st.st_mode)) {
      RETURN_IF_ERROR(check_owner_mode(path, "symlink " + here, st, false));
      if (++links > kMaxSymlinks) return Error(Code::refused, path + ": more than 40 symlinks");
      std::vector<char> buf(size_t(st.st_size > 0 ? st.st_size : 4095) + 1);
      ssize_t n = ::readlink(here.c_str(), buf.data(), buf.size());
      if (n < 0) return errno_status("readlink", here);
      if (size_t(n) >= buf.size()) return Error(Code::io_error, path + ": symlink " + here + " changed while read");
      std::string target(buf.data(), size_t(n));
      done.pop_back();
      if (!target.empty() && target[0] == '/') done.clear();
      std::vector<std::string> parts = split(target);
      for (auto it = parts.rbegin(); it != parts.rend(); ++it) todo.push_back(*it);
      if (todo.empty()) {  // a link to "/"
        if (::lstat("/", &st) != 0) return errno_status("lstat", "/");
        RETURN_IF_ERROR(check_owner_mode(path, "", st, false));
      }
      continue;
    }
    if (last) {
      RETURN_IF_ERROR(check_owner_mode(path, "", st, false));
      return TrustedObject{here, st};
    }
    if (!S_ISDIR(st.st_mode)) return Error(Code::not_found, path + ": " + here + " is not a directory");
    RETURN_IF_ERROR(check_owner_mode(path, "directory " + here, st, /*sticky_ok=*/true));
  }
  const std::string here = join(done);
  if (::lstat(here.c_str(), &st) != 0) return errno_status("lstat", here);
  return TrustedObject{here, st};
}

Status check_trusted_open_file(const std::string& path, const struct stat& fd_stat) {
  ASSIGN_OR_RETURN(TrustedObject t, check_trusted_path(path));
  if (t.st.st_dev != fd_stat.st_dev || t.st.st_ino != fd_stat.st_ino)
    return Error(Code::refused, path + ": changed while it was checked (replaced or renamed)");
  return Status::Ok();
}

}  // namespace castor
