// PamHelper: the one part of castor-web that keeps root (review 20b). A child forked at start, before the
// console drops its privileges, holding nothing but its end of a socketpair (no listening socket, no TLS
// key, no other descriptor): it answers "may USER log in with PASSWORD" with PAM (pam_auth.h) and nothing
// else, one request at a time. The web process itself then needs no access to /etc/shadow (the group
// shadow would give a compromised console every password hash). It dies with its parent (PDEATHSIG).
// Never logs a password; a request that is not "user NUL password" is refused. It throttles by user name
// itself (LoginFailures), so a console taken over cannot ask it more often than the console would.
#pragma once

#include <sys/types.h>

#include <memory>
#include <mutex>
#include <string>

#include "common/status.h"
#include "common/unique_fd.h"

namespace castor {

class PamHelper {
 public:
  // Forks the helper (as the current user: root when castor-web starts as root).
  static Result<std::unique_ptr<PamHelper>> start(const std::string& pam_service, gid_t admin_gid);
  ~PamHelper();
  PamHelper(const PamHelper&) = delete;
  PamHelper& operator=(const PamHelper&) = delete;

  // OK when PAM accepts the login and the user is in the admin group; permission_denied (saying which
  // check failed, for the log) otherwise. Blocking; one at a time (callers wait their turn).
  Status login(const std::string& user, const std::string& password);

 private:
  PamHelper(UniqueFd fd, pid_t pid) : fd_(std::move(fd)), pid_(pid) {}
  UniqueFd fd_;
  pid_t pid_ = -1;
  std::mutex mu_;
};

}  // namespace castor
