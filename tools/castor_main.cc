// castor: the admin CLI. Dispatches to one verb; see `castor --help`.
#include <iostream>
#include <string>
#include <vector>

#include "tools/cli_commands.h"
#include "tools/exit_codes.h"

namespace castor {

namespace {

void print_help() {
  std::cout << "Usage: castor VERB [ARGS...]   (castor VERB --help for each verb)\n"
               "\n"
               "Castor " CASTOR_VERSION " - two-node failover manager.\n"
               "\n"
               "Verbs:\n"
               "  init DEVICE --cluster NAME --nodes A,B [--io-timeout MS] [--force] [--authenticate]\n"
               "                 write a new quorum disk (--authenticate: records carry an HMAC with the key)\n"
               "  keygen [--force] [PATH]\n"
               "                 write a new cluster key (default /etc/castor/authkey, root-only 0600)\n"
               "  dump DEVICE [--json] [--authkey PATH]\n"
               "                 decode and show every record of a quorum disk (read-only)\n"
               "  status [--json | --prometheus] [--socket PATH] [--device DEVICE]\n"
               "                 both nodes: state, heartbeat age, latency, lease, timing (from quorumd, or\n"
               "                 from the disk when quorumd does not run); --prometheus: metrics\n"
               "  history [FILE...] [--since TIME] [--service NAME] [--json]\n"
               "                 both nodes' event histories in one timeline (what happened, and why)\n"
               "  simulate [--kill NODE | --fail SVC | --standby NODE | --relocate SVC [--to NODE]] [--from FILE] [--json]\n"
               "                 what the placement policy would do after the event, service by service,\n"
               "                 and the expected outage (from the live status or a saved status --json)\n"
               "  drill [--service NAME] [--json]\n"
               "                 a planned failover drill: each service to the other node and back, its\n"
               "                 outage measured by its probe; refused when anything is degraded\n"
               "  check [DIR] [--nodes A,B] [--config FILE]\n"
               "                 validate service definitions (default /etc/castor/services.d) and, with\n"
               "                 authenticate_disk = yes, the authkey's owner and mode; touches nothing\n"
               "  enable SVC [--on NODE] | disable SVC | relocate SVC [--to NODE] | restart SVC\n"
               "  freeze SVC | unfreeze SVC | reset SVC      [--wait[=S]]\n"
               "                 admin requests to svcmgr (castor enable --help)\n"
               "  standby NODE [--wait] | unstandby NODE\n"
               "                 move every service off NODE / allow it again (run on NODE)\n"
               "  fence-check [--config FILE]\n"
               "                 check each [fence NODE] device's options against its agent and ask it for\n"
               "                 the node's power status (never touches power)\n"
               "  disk replace OLD NEW [--force]\n"
               "                 replace a member of a set of three quorum devices while the cluster runs\n"
               "  fence NODE [--yes] [--force]\n"
               "                 power NODE off through its device (run on the peer, which takes over)\n"
               "  export pacemaker [--services DIR] [--format cib|pcs|crmsh] [--config FILE]\n"
               "                 the services and fence devices as Pacemaker configuration (stdout); what\n"
               "                 Pacemaker cannot express is listed on stderr\n"
               "  import pacemaker CIB.xml --out DIR\n"
               "                 a Pacemaker CIB's groups and primitives as service files in DIR; what does\n"
               "                 not map is listed on stderr\n"
               "  --version      print the version\n"
               "\n"
            << exit_code_help();
}

}  // namespace
}  // namespace castor

int main(int argc, char** argv) {
  using namespace castor;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    print_help();
    return kExitUsage;
  }
  const std::string verb = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (verb == "--help" || verb == "-h" || verb == "help") {
    print_help();
    return kExitOk;
  }
  if (verb == "--version" || verb == "version") {
    std::cout << "castor " CASTOR_VERSION "\n";
    return kExitOk;
  }
  if (verb == "init") return cmd_init(rest);
  if (verb == "dump") return cmd_dump(rest);
  if (verb == "status") return cmd_status(rest);
  if (verb == "check") return cmd_check(rest);
  if (verb == "keygen") return cmd_keygen(rest);
  if (verb == "fence-check") return cmd_fence_check(rest);
  if (verb == "fence") return cmd_fence(rest);
  if (verb == "disk") return cmd_disk(rest);
  if (verb == "export") return cmd_export(rest);
  if (verb == "history") return cmd_history(rest);
  if (verb == "simulate") return cmd_simulate(rest);
  if (verb == "drill") return cmd_drill(rest);
  if (verb == "import") return cmd_import(rest);
  if (verb == "standby" || verb == "unstandby") return cmd_node(verb, rest);
  for (const char* v : {"enable", "disable", "relocate", "restart", "freeze", "unfreeze", "reset"})
    if (verb == v) return cmd_service(verb, rest);
  std::cerr << "castor: unknown verb '" << verb << "' (see castor --help)\n";
  return kExitUsage;
}
