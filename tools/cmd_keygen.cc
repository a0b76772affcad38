// castor keygen [--force] [PATH]: makes the cluster's authentication key (common/auth_key.h): 32 random
// bytes from libsodium, root-only 0600. Prints where it went and what to do next; never prints the key.
#include <iostream>

#include "common/auth_key.h"
#include "common/cli_args.h"
#include "tools/cli_commands.h"
#include "tools/exit_codes.h"
#include "tools/terminal_output.h"

namespace castor {

int cmd_keygen(const std::vector<std::string>& argv) {
  auto args = parse_cli_args(argv, {{"--force", false}});
  if (!args.ok()) return report_error("keygen", args.status());
  if (args->has("--help")) {
    std::cout << "Usage: castor keygen [--force] [PATH]\n"
                 "Writes a new cluster key to PATH (default /etc/castor/authkey): 32 random bytes, owner root,\n"
                 "mode 0600. The same key must be on both nodes (copy it with mode 0600); quorumd uses it when\n"
                 "castor.ini says authenticate_disk = yes (castor init --authenticate makes such a disk). The\n"
                 "directory must exist. An existing key is never replaced unless --force is given (then the\n"
                 "new key is written to a temporary file and renamed over it, and both nodes need the new key).\n"
                 "Exit 0 when written, 4 if PATH exists (without --force).\n";
    return kExitOk;
  }
  if (args->positional.size() > 1)
    return report_error("keygen", Error(Code::invalid_argument, "expected at most one PATH (see castor keygen --help)"));
  const std::string path = args->positional.empty() ? kDefaultAuthKeyPath : args->positional[0];
  if (Status st = write_new_auth_key(path, args->has("--force")); !st.ok()) return report_error("keygen", st);
  std::cout << "Wrote a new cluster key to " << printable(path) << " (" << kAuthKeyNewBytes
            << " random bytes, owner root, mode 0600).\n"
            << "Copy it to the peer node at the same path with mode 0600 (e.g. install -m 0600 -o root -g root),\n"
            << "then use castor init --authenticate and authenticate_disk = yes in castor.ini on both nodes.\n";
  return kExitOk;
}

}  // namespace castor
