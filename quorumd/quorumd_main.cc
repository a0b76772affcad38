// quorumd: the quorum daemon of one node. Parses the command line, sets up logging and runs QuorumDaemon.
// Exit codes: 0 left the cluster cleanly, 1 could not start, 2 bad command line, 3 stopped without a clean
// leave (see quorumd/quorum_daemon.h).
#include <unistd.h>
#include <cstdio>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/test_hooks.h"
#include "config/quorumd_config.h"
#include "quorumd/quorum_daemon.h"

int main(int argc, char** argv) {
  using namespace castor;
  // Before any thread exists (the async logger starts one), so that SIGTERM/SIGINT reach only the signalfd.
  if (Status st = block_daemon_signals(); !st.ok()) {
    std::fprintf(stderr, "quorumd: %s\n", st.to_string().c_str());
    return kQuorumdExitStartup;
  }
  // A release build has no test hooks: asked for one, it refuses rather than run as something else.
  if (Status st = check_no_test_hooks_requested(); !st.ok()) {
    std::fprintf(stderr, "quorumd: %s\n", st.message().c_str());
    return kQuorumdExitStartup;
  }
  std::vector<std::string> args(argv + 1, argv + argc);
  // The version comes from the VERSION file (the Makefile passes it as CASTOR_VERSION), as for castor.
  if (args.size() == 1 && args[0] == "--version") {
    std::fputs("quorumd " CASTOR_VERSION "\n", stdout);
    return 0;
  }
  auto parsed = parse_quorumd_args(args);
  if (!parsed.ok()) {
    std::fprintf(stderr, "quorumd: %s\n%s", parsed.status().message().c_str(), quorumd_usage());
    return kQuorumdExitUsage;
  }
  if (parsed->help) {
    std::fputs(quorumd_usage(), stdout);
    std::fputs("       quorumd --version  prints the version.\n", stdout);
    return 0;
  }

  log::Options lo;
  lo.program = "quorumd";
  lo.node = parsed->node.value_or("");
  lo.async = true;
  lo.to_syslog = ::access("/dev/log", W_OK) == 0;  // syslog and stderr when a syslog daemon listens
  lo.to_stderr = true;
  log::init(lo);

  auto config = load_quorumd_config(*parsed);
  if (!config.ok()) {
    log::error("cannot start: bad configuration", {{"error", config.status().to_string()}});
    log::flush();
    return kQuorumdExitStartup;
  }
  log::set_node(config->node);
  auto daemon = QuorumDaemon::start(*config);
  if (!daemon.ok()) {
    log::error("cannot start", {{"error", daemon.status().to_string()}});
    log::flush();
    return kQuorumdExitStartup;
  }
  int rc = (*daemon)->run();
  daemon->reset();
  log::flush();
  return rc;
}
