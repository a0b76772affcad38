// AlertConfig: castor.ini's [alert NAME] sections (issue 20): a program svcmgr runs on cluster events, with
// Pacemaker's alert contract in its environment, so the sample agents Debian's pacemaker packages ship
// (alert_file.sh.sample, alert_smtp.sh.sample, alert_snmp.sh.sample) work unchanged.
//
//   [alert log]                       ; NAME: letters, digits, '-', '_' (shown in logs)
//   program = /usr/share/pacemaker/alerts/alert_file.sh.sample   ; an absolute path, root's alone (svcmgr
//                                     ; checks it at start, as it checks agents)
//   recipient = /var/log/castor-alerts.log   ; CRM_alert_recipient (a file, an address: the program's business)
//   kinds = node, fencing, resource, quorum  ; which events run it (default: every kind)
//   timeout_s = 30                    ; each run, 1..600; past it the program's process group is killed
//   timestamp_format = %H:%M:%S.%06N  ; CRM_alert_timestamp (strftime, local time, and %N / %0<digits>N for
//                                     ; the fraction of the second, as Pacemaker's default is)
//
// Kinds: node (the peer up, down, dead), fencing (the peer power-fenced), resource
// (a service started, stopped, failed, recovering, relocated here), quorum (lease at risk, definitions
// differ, a quorum device lost or back). svcmgr skips [fence NODE], quorumd skips [alert NAME].
// The programs run as root (svcmgr's user) and Pacemaker's samples append to a recipient that is a file: a
// recipient that is an absolute path must be in a directory root's alone (check_alert_recipient), or a
// planted symlink there would make root append to any file.
// This unit parses and checks text; check_alert_recipient looks at the recipient's directory, nothing else.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/ini_reader.h"
#include "common/status.h"

namespace castor {

enum class AlertKind : uint8_t { node = 1, fencing = 2, resource = 4, quorum = 8 };
inline constexpr uint8_t kAllAlertKinds = 1 | 2 | 4 | 8;
const char* alert_kind_name(AlertKind k);

struct AlertConfig {
  std::string name;
  std::string program;
  std::optional<std::string> recipient;
  uint8_t kinds = kAllAlertKinds;  // AlertKind bits
  Duration timeout = std::chrono::seconds(30);
  std::string timestamp_format = "%H:%M:%S.%06N";
  std::string file;
  int line = 0;

  bool wants(AlertKind k) const { return (kinds & uint8_t(k)) != 0; }
};

inline constexpr std::string_view kAlertSectionPrefix = "alert ";
inline constexpr size_t kMaxAlerts = 16;

// Ok unless the recipient is an absolute path whose directory anyone but root could change (refused).
Status check_alert_recipient(const AlertConfig& a);

// Whether castor.ini's section `name` is an [alert NAME] section.
bool is_alert_section(std::string_view name);

// Every [alert NAME] section of castor.ini's `text`, adding each error (file:line) to `errors`: a name given
// twice, a section without program, an unknown key, a bad value, more than kMaxAlerts sections.
std::vector<AlertConfig> read_alert_sections(std::string_view text, const std::string& file, std::vector<IniError>& errors);

}  // namespace castor
