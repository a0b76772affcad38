#include "tools/exit_codes.h"

#include <iostream>

#include "common/text_sanitize.h"
#include "tools/cli_commands.h"

namespace castor {

int report_error(const std::string& verb, const Status& st) {
  std::cerr << "castor " << verb << ": " << printable(st.message()) << "\n";
  return exit_code_for(st);
}

int exit_code_for(const Status& st) {
  switch (st.code()) {
    case Code::ok: return kExitOk;
    case Code::invalid_argument: return kExitUsage;
    case Code::not_found: return kExitNotFound;
    case Code::refused:
    case Code::already_exists: return kExitRefused;
    case Code::busy: return kExitBusy;
    case Code::permission_denied: return kExitPermission;
    case Code::unsupported: return kExitTooSmall;
    case Code::io_error:
    case Code::timeout: return kExitIo;
    case Code::corrupt: return kExitCorrupt;
    case Code::internal: return kExitFailure;
  }
  return kExitFailure;
}

const char* exit_code_help() {
  return "Exit codes:\n"
         "  0  success\n"
         "  1  other failure\n"
         "  2  usage error (bad option or value)\n"
         "  3  device not found (path, LABEL=, UUID=, PARTUUID=)\n"
         "  4  refused: the device holds data (filesystem, RAID member, partition table, a Castor disk); see --force\n"
         "  5  device busy: mounted, active swap, or held by device-mapper/MD\n"
         "  6  permission: read-only device, or not allowed\n"
         "  7  device too small, or unsupported sector size\n"
         "  8  I/O error or timeout on the device\n"
         "  9  corrupt records on the disk, or records of another cluster\n"
         " 10  castor init --force refused: the Castor disk is in use (a node's heartbeat changed while init\n"
         "     watched it for the dead time); stop quorumd on both nodes first\n";
}

}  // namespace castor
