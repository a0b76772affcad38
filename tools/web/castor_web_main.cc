// castor-web: the web console (issue 20) — a separate process, never part of quorumd or svcmgr. Reads
// castor.ini's [web] section, forks its PAM helper (the only part that keeps root), binds its port (and
// loads its TLS key) and then, started as root, drops to the [web] user before it serves anything; it
// refuses to serve as root. It reads the daemons over their
// status sockets ([quorumd]/[svcmgr] status_group) and asks svcmgr for the admin actions (operator_group).
#include <grp.h>
#include <pwd.h>
#include <sodium.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "common/cli_args.h"
#include "common/group_lookup.h"
#include "common/log.h"
#include "tools/web/cluster_poller.h"
#include "tools/web/pam_helper.h"
#include "config/web_config.h"
#include "tools/web/web_server.h"

namespace {

constexpr const char* kUsage =
    "usage: castor-web [--config FILE] [--listen ADDRESS] [--port N] [--user NAME]\n"
    "  The web console of this node (castor.ini [web]; default config /etc/castor/castor.ini).\n"
    "  Started as root it drops to [web] user (or --user) once the port is bound; it never serves as root.\n";

// Becomes `user` for good (its groups included): setuid back to root must fail afterwards.
castor::Status drop_privileges(const std::string& user) {
  errno = 0;
  const passwd* pw = ::getpwnam(user.c_str());
  if (!pw) return castor::Error(castor::Code::not_found, "no user named '" + user + "' to run as");
  if (pw->pw_uid == 0) return castor::Error(castor::Code::refused, "[web] user '" + user + "' is root");
  const uid_t uid = pw->pw_uid;
  const gid_t gid = pw->pw_gid;
  if (::initgroups(user.c_str(), gid) != 0) return castor::Error(castor::Code::io_error, "initgroups " + user + ": " + std::strerror(errno));
  if (::setgid(gid) != 0) return castor::Error(castor::Code::io_error, "setgid: " + std::string(std::strerror(errno)));
  if (::setuid(uid) != 0) return castor::Error(castor::Code::io_error, "setuid: " + std::string(std::strerror(errno)));
  if (::setuid(0) == 0) return castor::Error(castor::Code::internal, "dropped to " + user + " but could become root again");
  return castor::Status::Ok();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace castor;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 1 && args[0] == "--version") {
    std::cout << "castor-web " CASTOR_VERSION "\n";
    return 0;
  }
  auto parsed = parse_cli_args(args, {{"--config", true}, {"--listen", true}, {"--port", true}, {"--user", true}});
  if (!parsed.ok() || parsed->has("--help") || !parsed->positional.empty()) {
    if (!parsed.ok()) std::cerr << "castor-web: " << parsed.status().message() << "\n";
    std::cerr << kUsage;
    return parsed.ok() && parsed->has("--help") ? 0 : 2;
  }
  if (sodium_init() < 0) {
    std::cerr << "castor-web: libsodium cannot start\n";
    return 1;
  }
  WebConfig config;
  const std::string path = parsed->value("--config").value_or("/etc/castor/castor.ini");
  if (Status st = load_web_config(path, config); !st.ok()) {
    std::cerr << "castor-web: " << st.message() << "\n";
    return 1;
  }
  if (auto v = parsed->value("--listen")) config.listen = *v;
  if (auto v = parsed->value("--port")) {
    auto port = parse_int(*v, 0, 65535, "--port");
    if (!port.ok()) {
      std::cerr << "castor-web: " << port.status().message() << "\n";
      return 2;
    }
    config.port = uint16_t(*port);
  }
  if (auto v = parsed->value("--user")) config.user = *v;
  log::Options lo;
  lo.program = "castor-web";
  lo.to_syslog = ::access("/dev/log", W_OK) == 0;
  log::init(lo);
  // The admin group matters only where one can log in (HTTPS); plain HTTP is read-only for everyone.
  gid_t admin_gid = gid_t(-1);
  if (config.https()) {
    auto gid = lookup_group(config.admin_group);
    if (!gid.ok()) {
      std::cerr << "castor-web: [web] admin_group: " << gid.status().message() << "\n";
      return 1;
    }
    admin_gid = *gid;
  }
  // The PAM helper first, before any thread or socket exists: it keeps root (when started so) and nothing
  // else; the console asks it for each login (tools/web/pam_helper.h).
  std::unique_ptr<PamHelper> pam;
  if (config.https()) {
    auto helper = PamHelper::start(config.pam_service, admin_gid);
    if (!helper.ok()) {
      std::cerr << "castor-web: " << helper.status().message() << "\n";
      return 1;
    }
    pam = std::move(*helper);
  }
  PamHelper* pam_ptr = pam.get();
  auto server = WebServer::create(config, admin_gid, [pam_ptr](const std::string& user, const std::string& password) {
    return pam_ptr ? pam_ptr->login(user, password) : Status(Code::permission_denied, "no login over plain HTTP");
  });
  if (!server.ok()) {
    std::cerr << "castor-web: " << server.status().message() << "\n";
    return 1;
  }
  if (::geteuid() == 0 || ::getuid() == 0) {
    if (config.user.empty()) {
      std::cerr << "castor-web: refusing to serve as root: set [web] user (or --user) to an unprivileged user in "
                   "the status group\n";
      return 1;
    }
    if (Status st = drop_privileges(config.user); !st.ok()) {
      std::cerr << "castor-web: " << st.message() << "\n";
      return 1;
    }
  }
  const std::string url = std::string(config.https() ? "https" : "http") + "://" +
                          (config.listen.find(':') != std::string::npos ? "[" + config.listen + "]" : config.listen) +
                          ":" + std::to_string((*server)->port()) + "/";
  log::notice("castor-web: serving", {{"url", url}, {"uid", uint64_t(::getuid())}, {"https", config.https() ? "yes" : "no"}});
  std::cout << "castor-web: the console is at " << url << std::endl;
  WebServer& web = **server;
  ClusterPoller poller(config.quorumd_socket, config.svcmgr_socket, std::chrono::milliseconds(250),
                       [&web](std::shared_ptr<const ClusterView> view) { web.publish(std::move(view)); });
  poller.start();
  web.run();
  poller.stop();
  log::notice("castor-web: stopped", {});
  log::flush();
  return 0;
}
