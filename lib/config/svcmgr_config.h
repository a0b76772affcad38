// SvcmgrConfig: svcmgr's settings, the [svcmgr] section of castor.ini (other sections are other daemons'
// and are skipped). Reading only: never touches the services it names.
#pragma once

#include <string>

#include "common/clock.h"
#include "common/status.h"

namespace castor {

struct SvcmgrConfig {
  std::string services_dir = "/etc/castor/services.d";
  std::string socket = "/run/castor/svcmgr.sock";
  std::string quorumd_socket = "/run/castor/quorumd.sock";
  std::string ocf_root = "/usr/lib/ocf";
  // svcmgr's own state: saved copies of the service definitions it loaded (DEFINITIONS under
  // state_dir/definitions/NODE/), to stop a service whose file was removed while svcmgr was down.
  std::string state_dir = "/var/lib/castor";
  Duration connect_timeout = std::chrono::seconds(30);  // waiting for quorumd at start
};

// Parses [svcmgr] of castor.ini into `config` (keys not given keep their defaults). not_found when the
// file cannot be read; invalid_argument, with file:line, for an unknown key or a syntax error.
Status load_svcmgr_config(const std::string& path, SvcmgrConfig& config);

}  // namespace castor
