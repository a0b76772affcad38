// castor check [DIR]: validates service definitions without touching anything, the trust of the files
// (common/trusted_path.h, through load_service_dir) and, with --agents, of the agent programs included.
#include <iostream>

#include "common/auth_key.h"
#include "config/quorumd_config.h"
#include "config/service_loader.h"
#include "common/cli_args.h"
#include "tools/cli_commands.h"
#include "tools/exit_codes.h"
#include "tools/terminal_output.h"

namespace castor {

int cmd_check(const std::vector<std::string>& argv) {
  auto args = parse_cli_args(argv, {{"--nodes", true}, {"--agents", false}, {"--config", true}});
  if (!args.ok()) return report_error("check", args.status());
  if (args->has("--help")) {
    std::cout << "Usage: castor check [DIR] [--nodes A,B] [--agents] [--config FILE]\n"
                 "Validates every *.ini service file in DIR (default /etc/castor/services.d): every key, value,\n"
                 "node and name, with file:line for each error. Touches nothing. A file or directory anyone\n"
                 "but root could change (owned by another user, writable by group or others, itself or through\n"
                 "a directory or symlink on the way) is an error: svcmgr refuses it too.\n"
                 "  --nodes A,B  the cluster's node names (else any node name is accepted)\n"
                 "  --agents     also check that the agents the services name are installed here, and that\n"
                 "               only root can change them (svcmgr refuses to run them otherwise)\n"
                 "  --config FILE castor.ini (default /etc/castor/castor.ini, skipped if it does not load):\n"
                 "               with authenticate_disk = yes in [quorumd], the authkey must be a regular file\n"
                 "               of 32..4096 bytes owned by root with mode 0600 (quorumd refuses it otherwise)\n"
                 "Exit 0 when all are valid, 2 when any error was found.\n";
    return kExitOk;
  }
  const std::string dir = args->positional.empty() ? kDefaultServiceDir : args->positional[0];
  std::vector<std::string> nodes;
  if (auto n = args->value("--nodes")) {
    size_t c = n->find(',');
    if (c == std::string::npos) return report_error("check", Error(Code::invalid_argument, "--nodes takes A,B"));
    nodes = {n->substr(0, c), n->substr(c + 1)};
  }
  LoadResult r = load_service_dir(dir, nodes);
  int errors = int(r.errors.size());
  for (const auto& e : r.errors) std::cerr << printable(e.to_string()) << "\n";
  if (args->has("--agents"))
    for (const auto& s : r.services)
      for (const auto& e : check_agents_exist(s)) {
        std::cerr << printable(e.to_string()) << "\n";
        ++errors;
      }
  {
    // The cluster key quorumd will load: an explicit --config must load; the default is checked if present.
    QuorumdConfig qc;
    const auto explicit_config = args->value("--config");
    Status loaded = load_quorumd_ini(explicit_config.value_or("/etc/castor/castor.ini"), qc);
    if (!loaded.ok() && explicit_config) {
      std::cerr << printable(loaded.to_string()) << "\n";
      ++errors;
    } else if (loaded.ok() && qc.authenticate_disk) {
      if (Status st = check_auth_key_file(qc.authkey); !st.ok()) {
        std::cerr << printable(st.to_string()) << "\n";
        ++errors;
      } else {
        std::cout << "authkey " << printable(qc.authkey) << ": ok (root-only)\n";
      }
    }
  }
  for (const auto& s : r.services)
    std::cout << s.name << ": ok (" << s.resources.size() << " resources, nodes " << s.nodes.front()
              << (s.nodes.size() > 1 ? "," + s.nodes[1] : "") << ")\n";
  std::cout << r.services.size() << " service(s) valid, " << errors << " error(s)\n";
  return errors == 0 ? kExitOk : kExitUsage;
}

}  // namespace castor
