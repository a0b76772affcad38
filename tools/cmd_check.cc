// castor check [DIR]: validates service definitions without touching anything, the trust of the files
// (common/trusted_path.h, through load_service_dir) and, with --agents, of the agent programs included;
// castor.ini's [quorumd] and [lan] as quorumd parses them, the LAN links it names, and the authkey's file
// when the disk records or the LAN channel need it.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "common/auth_key.h"
#include "common/group_lookup.h"
#include "common/read_file.h"
#include "config/web_config.h"
#include "config/lan_config.h"
#include "config/quorumd_config.h"
#include "config/svcmgr_config.h"
#include "common/trusted_program.h"
#include "config/service_loader.h"
#include "common/cli_args.h"
#include "tools/cli_commands.h"
#include "tools/exit_codes.h"
#include "tools/terminal_output.h"

namespace castor {
namespace {

// The web console's part (castor-web(8)): [web] itself, its TLS key root's alone, and the groups the daemons
// and the console name, which must exist (a daemon refuses to start on a group that does not). Errors counted.
int check_web_section(const std::string& path, const SvcmgrConfig& sc) {
  int errors = 0;
  QuorumdConfig qc;
  (void)load_quorumd_ini(path, qc);
  for (const auto& [key, group] : {std::pair<std::string, std::string>{"[quorumd] status_group", qc.status_group},
                                   {"[svcmgr] status_group", sc.status_group},
                                   {"[svcmgr] operator_group", sc.operator_group}}) {
    if (group.empty()) continue;
    if (auto gid = lookup_group(group); !gid.ok()) {
      std::cerr << path << ": " << key << ": " << printable(gid.status().message()) << " (the daemon will not start)\n";
      ++errors;
    }
  }
  WebConfig wc;
  auto text = read_file_to_string(path);
  if (!text.ok()) return errors;
  if (Status st = parse_web_ini(*text, path, wc); !st.ok()) {
    std::cerr << printable(st.to_string()) << " (castor-web will not start)\n";
    return errors + 1;
  }
  if (!wc.present) return errors;
  if (wc.https()) {
    struct stat key{};
    if (::stat(wc.private_key.c_str(), &key) != 0) {
      std::cerr << path << ": [web] private_key " << printable(wc.private_key) << ": " << std::strerror(errno) << "\n";
      ++errors;
    } else if (key.st_uid != 0 || (key.st_mode & 077) != 0) {
      std::cerr << path << ": [web] private_key " << printable(wc.private_key)
                << ": must be root's and readable by root only (chown root; chmod 0600)\n";
      ++errors;
    }
    if (::access(wc.certificate.c_str(), R_OK) != 0) {
      std::cerr << path << ": [web] certificate " << printable(wc.certificate) << ": " << std::strerror(errno) << "\n";
      ++errors;
    }
    if (auto gid = lookup_group(wc.admin_group); !gid.ok()) {
      std::cerr << path << ": [web] admin_group: " << printable(gid.status().message()) << " (nobody could log in)\n";
      ++errors;
    }
  }
  if (sc.status_group.empty() || qc.status_group.empty()) {
    std::cerr << path << ": [web]: castor-web reads the daemons as a member of their status_group, which "
              << (qc.status_group.empty() ? "[quorumd]" : "[svcmgr]") << " does not set\n";
    ++errors;
  }
  if (!wc.loopback() && wc.server_names.empty())
    std::cerr << path << ": [web] listen " << printable(wc.listen)
              << " is not loopback and server_names is not set: any Host is answered (DNS rebinding); name the "
                 "console's names and addresses in server_names (a warning)\n";
  std::cout << "web: ok (" << (wc.https() ? "https" : "http, read-only") << " on " << printable(wc.listen) << ":"
            << wc.port << (wc.user.empty() ? "" : ", as " + printable(wc.user)) << ")\n";
  return errors;
}

}  // namespace

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
                 "               with authenticate_disk = yes in [quorumd] or a link in [lan] (the LAN channel\n"
                 "               is always authenticated), the authkey must be a regular file of 32..4096\n"
                 "               bytes owned by root with mode 0600 (quorumd refuses it otherwise); the LAN\n"
                 "               links are printed; each [alert NAME]'s program must be root's alone\n"
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
    } else if (loaded.ok()) {
      if (Status lan = check_quorumd_lan(qc); !lan.ok()) {
        std::cerr << printable(lan.to_string()) << "\n";
        ++errors;
      }
      if (qc.lan.enabled())
        for (const std::string& line : describe_lan_config(qc.lan)) std::cout << "lan: " << printable(line) << "\n";
      if (qc.authenticate_disk || qc.lan.enabled()) {
        const std::string users = qc.authenticate_disk && qc.lan.enabled() ? "the disk records and the LAN channel"
                                  : qc.authenticate_disk                   ? "the disk records"
                                                                           : "the LAN channel";
        if (Status st = check_auth_key_file(qc.authkey); !st.ok()) {
          std::cerr << printable(st.to_string()) << " (needed by " << users << ")\n";
          ++errors;
        } else {
          std::cout << "authkey " << printable(qc.authkey) << ": ok (root-only; for " << users << ")\n";
        }
      }
    }
  }
  {
    // svcmgr's part of the same file: [svcmgr] and the [alert NAME] programs (svcmgr disables an alert whose
    // program others could replace; here it is an error).
    SvcmgrConfig sc;
    const auto explicit_config = args->value("--config");
    Status loaded = load_svcmgr_config(explicit_config.value_or("/etc/castor/castor.ini"), sc);
    if (!loaded.ok() && (explicit_config || loaded.code() != Code::not_found)) {
      std::cerr << printable(loaded.to_string()) << "\n";
      ++errors;
    } else if (loaded.ok()) {
      for (const AlertConfig& a : sc.alerts) {
        Status st = check_trusted_program(a.program);
        if (st.ok()) st = check_alert_recipient(a);
        if (!st.ok()) {
          std::cerr << a.file << ":" << a.line << ": [alert " << printable(a.name) << "]: " << printable(st.to_string())
                    << " (svcmgr disables this alert)\n";
          ++errors;
        } else {
          std::cout << "alert " << printable(a.name) << ": ok (" << printable(a.program) << ")\n";
        }
      }
      errors += check_web_section(explicit_config.value_or("/etc/castor/castor.ini"), sc);
    }
  }
  for (const auto& s : r.services)
    std::cout << s.name << ": ok (" << s.resources.size() << " resources, nodes " << s.nodes.front()
              << (s.nodes.size() > 1 ? "," + s.nodes[1] : "") << ")\n";
  std::cout << r.services.size() << " service(s) valid, " << errors << " error(s)\n";
  return errors == 0 ? kExitOk : kExitUsage;
}

}  // namespace castor
