// SvcmgrConfig: svcmgr's settings, the [svcmgr] section of castor.ini, read with castor.ini's rules
// (config/castor_ini.h: [quorumd] is quorumd's and skipped; another section, a key outside any section,
// an unknown key, a key given twice, an empty value or a syntax error is an error naming file:line).
//   [svcmgr]
//   services_dir = /etc/castor/services.d   ; one *.ini file per service
//   socket = /run/castor/svcmgr.sock         ; the admin socket
//   quorumd_socket = /run/castor/quorumd.sock
//   ocf_root = /usr/lib/ocf
//   state_dir = /var/lib/castor
//   status_group = castor                   ; may read status over the socket (the web console; none: root only)
//   operator_group = castor-operator        ; may also relocate/enable/disable/freeze/unfreeze/standby
// and the [alert NAME] sections (config/alert_config.h).
// Reading only: never touches the services, sockets, directories or programs it names.
#pragma once

#include <string>

#include <vector>

#include "common/clock.h"
#include "config/alert_config.h"
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
  // Non-root clients of the admin socket (control_server.h, ControlAccess): none by default.
  std::string status_group;    // may read: services, history
  std::string operator_group;  // may ask for the admin actions too (needs status_group)
  Duration connect_timeout = std::chrono::seconds(30);  // waiting for quorumd at start
  std::vector<AlertConfig> alerts;                      // [alert NAME]: programs run on events
};

// Parses the [svcmgr] section of castor.ini's text into `config` (keys not given keep their values).
// invalid_argument with every error as "file:line: message" (joined by "; "). `file_name` names the file
// in messages only.
Status parse_svcmgr_ini(const std::string& text, const std::string& file_name, SvcmgrConfig& config);
// Reads the file and parses it as parse_svcmgr_ini. not_found when the file cannot be read (whatever the
// reason: svcmgr then runs on its defaults unless --config named the file).
Status load_svcmgr_config(const std::string& path, SvcmgrConfig& config);

}  // namespace castor
