#include "tools/web/pam_helper.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "common/errno_status.h"
#include "common/log.h"
#include "common/clock.h"
#include "tools/web/login_failures.h"
#include "tools/web/pam_auth.h"

namespace castor {
namespace {

constexpr size_t kMaxMessage = 8192;

// Every descriptor but `keep` closed: the helper holds nothing of the web server.
void close_all_but(int keep) {
  std::vector<int> fds;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (dirent* e = ::readdir(d)) {
      const int fd = std::atoi(e->d_name);
      if (e->d_name[0] != '.' && fd != keep && fd != ::dirfd(d)) fds.push_back(fd);
    }
    ::closedir(d);
  }
  for (int fd : fds) ::close(fd);
  // stdin/stdout/stderr to /dev/null, so that PAM modules that write find somewhere harmless.
  for (int fd = 0; fd < 3; ++fd)
    if (fd != keep && ::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) < 0) ::_exit(1);
}

[[noreturn]] void serve(int fd, const std::string& service, gid_t admin_gid) {
  std::vector<char> buf(kMaxMessage + 1);
  // Its own throttle, by user name, as the console's: a console taken over (it runs as its own user and asks
  // this root process) gets no more password checks of a name than the console itself would allow.
  LoginFailures failures;
  BootClock clock;
  for (;;) {
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n == 0) ::_exit(0);  // the console is gone
    if (n < 0) {
      if (errno == EINTR) continue;
      ::_exit(1);
    }
    std::string answer;
    const char* nul = static_cast<const char*>(std::memchr(buf.data(), '\0', size_t(n)));
    if (size_t(n) > kMaxMessage || !nul) {
      answer = "malformed request";
    } else {
      const std::string user(buf.data(), size_t(nul - buf.data()));
      std::string password(nul + 1, static_cast<const char*>(buf.data()) + n);
      const TimePoint now = clock.now();
      const bool throttled = failures.full(now) || failures.too_many(user, now);
      Status st = throttled ? Status(Error(Code::permission_denied, "too many failed logins of this user: refused without asking PAM"))
                            : pam_login(service, user, password, admin_gid);
      std::fill(password.begin(), password.end(), '\0');
      if (!throttled && st.code() == Code::permission_denied) failures.note(user, now);  // PAM refused a member of the group
      else if (st.ok()) failures.forget(user);
      // Y: yes; N: PAM refused a member of the admin group; U: not a member, no such user, or a bad name.
      answer = st.ok() ? "Y" : (st.code() == Code::permission_denied ? "N" : "U") + st.message();
    }
    std::fill(buf.begin(), buf.end(), '\0');
    const std::string reply = answer == "malformed request" ? "Umalformed request" : answer;
    if (::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL) < 0) ::_exit(1);
  }
}

}  // namespace

Result<std::unique_ptr<PamHelper>> PamHelper::start(const std::string& pam_service, gid_t admin_gid) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) return errno_status("socketpair", "PAM helper");
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    Status st = errno_status("fork", "PAM helper");
    ::close(sv[0]);
    ::close(sv[1]);
    return st;
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(0);  // the parent died before the line above
    close_all_but(sv[1]);
    serve(sv[1], pam_service, admin_gid);
  }
  ::close(sv[1]);
  timeval tv{60, 0};  // PAM's own delays are seconds; a helper silent for a minute is hung (an LDAP server gone)
  if (::setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0) {
    Status st = errno_status("setsockopt SO_RCVTIMEO", "PAM helper");
    ::close(sv[0]);
    return st;
  }
  return std::unique_ptr<PamHelper>(new PamHelper(UniqueFd(sv[0]), pid));
}

PamHelper::~PamHelper() {
  fd_.reset();  // the helper sees EOF and exits
  if (pid_ > 0) {
    int status = 0;
    for (int i = 0; i < 100 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i) ::usleep(10000);
    if (::waitpid(pid_, &status, WNOHANG) == 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
  }
}

Status PamHelper::login(const std::string& user, const std::string& password) {
  if (user.size() + password.size() + 1 > kMaxMessage)
    return Error(Code::permission_denied, "login refused: user name or password too long");
  std::lock_guard<std::mutex> lock(mu_);
  std::string msg = user;
  msg.push_back('\0');
  msg += password;
  const ssize_t sent = ::send(fd_.get(), msg.data(), msg.size(), MSG_NOSIGNAL);
  std::fill(msg.begin(), msg.end(), '\0');
  if (sent != ssize_t(msg.size())) return errno_status("send", "PAM helper");
  char reply[1024];
  ssize_t n;
  do n = ::recv(fd_.get(), reply, sizeof reply, 0);
  while (n < 0 && errno == EINTR);
  if (n <= 0) {
    // The helper died or hangs (SO_RCVTIMEO): castor-web, no longer root, cannot start another. It exits, so
    // that its service manager restarts it whole, rather than refusing every login from now on.
    log::critical("castor-web: the PAM helper is gone or does not answer: exiting",
                  {{"error", n == 0 ? std::string("closed") : std::string(std::strerror(errno))}});
    log::flush();
    ::_exit(1);
  }
  if (reply[0] == 'Y') return Status::Ok();
  return Error(reply[0] == 'N' ? Code::permission_denied : Code::not_found, std::string(reply + 1, size_t(n - 1)));
}

}  // namespace castor
