// svcmgr: the Castor service manager daemon. See svcmgr/svcmgr_daemon.h and castor-service(5).
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/test_hooks.h"
#include "svcmgr/svcmgr_daemon.h"
#include "svcmgr/svcmgr_exit.h"
#include "common/cli_args.h"

namespace {
const char* kUsage =
    "Usage: svcmgr [--config FILE] [--services DIR] [--socket PATH] [--quorumd-socket PATH] [--ocf-root DIR]\n"
    "  --config FILE          castor.ini (default /etc/castor/castor.ini; its [svcmgr] section)\n"
    "  --services DIR         service definitions (default /etc/castor/services.d)\n"
    "  --socket PATH          the admin socket (default /run/castor/svcmgr.sock)\n"
    "  --quorumd-socket PATH  quorumd's control socket (default /run/castor/quorumd.sock)\n"
    "  --version              print the version and exit\n"
    "Exit: 0 after a clean stop (SIGTERM), 1 start-up failure, 2 usage, 3 fenced or lease lost.\n";
}

int main(int argc, char** argv) {
  using namespace castor;
  // Block the signals the daemon reads from a signalfd before any thread exists (Boost.Log's writer
  // thread would otherwise inherit them unblocked and die of the default action on their behalf).
  const sigset_t mask = svcmgr_signals();
  if (::sigprocmask(SIG_BLOCK, &mask, nullptr) != 0) {
    std::cerr << "svcmgr: sigprocmask SIG_BLOCK: " << std::strerror(errno) << "\n";
    return kSvcmgrExitStartup;
  }
  // A release build has no test hooks: asked for one, it refuses rather than run as something else.
  if (Status st = check_no_test_hooks_requested(); !st.ok()) {
    std::cerr << "svcmgr: " << st.message() << "\n";
    return kSvcmgrExitStartup;
  }
  std::vector<std::string> args(argv + 1, argv + argc);
  // The version comes from the VERSION file (the Makefile passes it as CASTOR_VERSION), as for castor.
  if (args.size() == 1 && args[0] == "--version") {
    std::cout << "svcmgr " CASTOR_VERSION "\n";
    return kSvcmgrExitHelp;
  }
  auto parsed = parse_cli_args(args, {{"--config", true}, {"--services", true}, {"--socket", true},
                                      {"--quorumd-socket", true}, {"--ocf-root", true}});
  if (!parsed.ok() || parsed->has("--help") || !parsed->positional.empty()) {
    if (!parsed.ok()) std::cerr << "svcmgr: " << parsed.status().message() << "\n";
    std::cerr << kUsage;
    return parsed.ok() && parsed->has("--help") ? kSvcmgrExitHelp : kSvcmgrExitUsage;
  }
  SvcmgrConfig config;
  const std::string path = parsed->value("--config").value_or("/etc/castor/castor.ini");
  if (Status st = load_svcmgr_config(path, config); !st.ok() && (parsed->value("--config") || st.code() != Code::not_found)) {
    std::cerr << "svcmgr: " << st.message() << "\n";
    return kSvcmgrExitStartup;
  }
  if (auto v = parsed->value("--services")) config.services_dir = *v;
  if (auto v = parsed->value("--socket")) config.socket = *v;
  if (auto v = parsed->value("--quorumd-socket")) config.quorumd_socket = *v;
  if (auto v = parsed->value("--ocf-root")) config.ocf_root = *v;
  log::Options lo;
  lo.program = "svcmgr";
  lo.async = true;
  lo.to_syslog = ::access("/dev/log", W_OK) == 0;  // syslog and stderr when a syslog daemon listens
  log::init(lo);
  auto d = SvcmgrDaemon::start(config);
  if (!d.ok()) {
    log::error("svcmgr cannot start", {{"reason", d.status().to_string()}});
    log::flush();
    std::cerr << "svcmgr: " << d.status().message() << "\n";
    return kSvcmgrExitStartup;
  }
  int rc = (*d)->run();
  log::flush();
  return rc;
}
