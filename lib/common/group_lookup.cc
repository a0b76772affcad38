#include "common/group_lookup.h"

#include <grp.h>
#include <pwd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "common/errno_status.h"

namespace castor {

Result<gid_t> lookup_group(const std::string& name) {
  std::vector<char> buf(16384);
  for (;;) {
    group gr{};
    group* found = nullptr;
    const int rc = ::getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found);
    if (rc == ERANGE && buf.size() < (1u << 22)) {
      buf.resize(buf.size() * 4);
      continue;
    }
    if (rc != 0) return errno_status("getgrnam_r", name, rc);
    if (!found) return Error(Code::not_found, "no group named '" + name + "'");
    return found->gr_gid;
  }
}

Result<bool> user_in_group(const std::string& user, gid_t gid) {
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* found = nullptr;
  for (;;) {
    const int rc = ::getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found);
    if (rc == ERANGE && buf.size() < (1u << 22)) {
      buf.resize(buf.size() * 4);
      continue;
    }
    if (rc != 0) return errno_status("getpwnam_r", user, rc);
    break;
  }
  if (!found) return Error(Code::not_found, "no user named '" + user + "'");
  if (pw.pw_gid == gid) return true;
  std::vector<gid_t> groups(64);
  for (int tries = 0; tries < 8; ++tries) {
    int n = int(groups.size());
    if (::getgrouplist(user.c_str(), pw.pw_gid, groups.data(), &n) >= 0) {
      groups.resize(size_t(n));
      return std::find(groups.begin(), groups.end(), gid) != groups.end();
    }
    groups.resize(size_t(n) > groups.size() ? size_t(n) : groups.size() * 2);
  }
  return Error(Code::io_error, "getgrouplist " + user + ": the group list keeps growing");
}

}  // namespace castor
