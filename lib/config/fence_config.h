// FenceConfig: how to power-fence each node (issue 16), castor.ini's [fence NODE] sections, read by quorumd
// (which fences its peer) and by `castor fence-check` / `castor fence`; svcmgr skips them.
//
//   [fence beta]                      ; how to power beta off (the section names the node it fences)
//   agent = fence_ipmilan             ; a fence-agents program: a name (looked up in /usr/sbin) or an absolute path
//   option.ip = 10.0.0.12             ; passed to the agent on stdin as "ip=10.0.0.12" (the fence-agents contract:
//   option.username = admin           ;   one key=value a line; the agent's metadata says which keys it takes,
//   option.lanplus = 1                ;   and an option it does not list is refused, since agents ignore it)
//   password_file = /etc/castor/beta.fence-password  ; root-only (mode 0600/0400); its first line is sent
//                                     ; as password=...; or option.password_script = ... (the agent runs it)
//   fence_action = off                ; off (default: the node stays off until an admin or its BMC powers it
//                                     ; on) or reboot (it comes back and rejoins with a new incarnation)
//   timeout_s = 30                    ; each agent call (status, off, on), 1..600
//   retries = 1                       ; further attempts of the whole fence after a failed one, 0..5
//   settle_ms = 1000                  ; after a confirmed off, before the takeover (writes still in flight on
//                                     ; the data disks; docs/design.md "Power fencing"), 0..60000
//   delay_ms = 0                      ; wait this long before fencing this node, then check again that it is
//                                     ; still silent (Pacemaker's pcmk_delay_base: in a fence race the node
//                                     ; fenced with a delay survives), 0..60000
//
// The password is never written in castor.ini: option.password and option.passwd are refused (use
// password_file or option.password_script); option.action / option.option are Castor's (it sets action=).
// Option keys are [a-z0-9_]+ (fence-agents' long option names). A node without a [fence] section has only
// the last, always-present level: its own watchdog (and the peer's dead time D).
// This unit only parses and checks text: it never runs an agent, reads the password file or resolves the
// program (fence_agent.h does, at use).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/ini_reader.h"
#include "common/status.h"

namespace castor {

enum class FenceAction { off, reboot };
const char* fence_action_name(FenceAction a);

struct FenceDeviceConfig {
  std::string node;   // the node this device powers off
  std::string agent;  // "fence_ipmilan" or "/usr/sbin/fence_ipmilan"
  std::vector<std::pair<std::string, std::string>> options;  // in file order, without "option."
  std::optional<std::string> password_file;
  FenceAction action = FenceAction::off;
  Duration timeout = std::chrono::seconds(30);
  int retries = 1;
  Duration settle = std::chrono::milliseconds(1000);
  Duration delay = Duration::zero();
  std::string file;  // where it was read (for messages)
  int line = 0;      // of its [fence NODE] header

  // The agent's path: agent if absolute, else /usr/sbin/<agent>.
  std::string agent_path() const;
  // One line for people: "fence_ipmilan ip=10.0.0.12 username=admin lanplus=1 (password from FILE), off,
  // timeout 30 s, 1 retry, settle 1 s".
  std::string describe() const;
};

inline constexpr std::string_view kFenceSectionPrefix = "fence ";
inline constexpr int kFenceMaxRetries = 5;

// Whether castor.ini's section `name` is a [fence NODE] section (castor_ini.h accepts them for every daemon).
bool is_fence_section(std::string_view name);

// Every [fence NODE] section of castor.ini's `text` (errors name `file`:line). A node named twice, a section
// without agent, an unknown key, a bad value: each is an error, all of them in one Status; nothing is
// returned unless all are valid.
Result<std::vector<FenceDeviceConfig>> parse_fence_sections(std::string_view text, const std::string& file);
// The same, adding each error (file:line) to `errors` (what a daemon's own section reader collects).
std::vector<FenceDeviceConfig> read_fence_sections(std::string_view text, const std::string& file,
                                                   std::vector<IniError>& errors);

// The device that fences `node`, if any.
const FenceDeviceConfig* fence_device_for(const std::vector<FenceDeviceConfig>& devices, std::string_view node);

}  // namespace castor
