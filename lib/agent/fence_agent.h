// Fence agents (fence-agents' programs: fence_ipmilan, fence_ilo, fence_apc, ...) as Castor calls them:
// the command for one action, with the options on stdin as the fence-agents contract says (one key=value a
// line, `action=` always sent: a missing one makes the agent reboot), what its exit code means, and the
// check of a device's options against the agent's own metadata (an option the agent does not list is
// refused here: agents ignore unknown options and go on with their defaults).
// Must never put a password on a command line or in the environment (only on the agent's stdin), never log
// one, never run a program anyone but root can change (common/trusted_program.h), and never read a password
// file that anyone but root can read.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "agent/agent_process.h"
#include "agent/agent_result.h"
#include "common/status.h"
#include "config/fence_config.h"

namespace castor {

enum class FenceAgentAction { off, on, status, monitor, reboot, metadata };
const char* fence_agent_action_name(FenceAgentAction a);

// The command that runs `action` of `device`'s agent, bounded by device.timeout: argv {agent path}, a
// minimal environment, stdin "action=ACTION\n" + every option + the password (read from password_file).
// Errors: the program not trusted or missing, the password file missing, not root's, readable by group or
// others, empty or over 4 KiB.
Result<AgentCommand> fence_agent_command(const FenceDeviceConfig& device, FenceAgentAction action);

// What one action ended with.
enum class FenceVerdict {
  done,      // off / on / reboot / monitor / metadata succeeded (exit 0)
  power_on,  // status: the node is on (exit 0)
  power_off, // status: the node is off (exit 2)
  failed,    // anything else: the device could not be reached, the agent failed, timed out or was killed
};
struct FenceAgentResult {
  FenceVerdict verdict = FenceVerdict::failed;
  std::string text;  // one line: "off: done in 0.41 s", "status: failed (exit 1: Unable to connect ...)"
};
FenceAgentResult interpret_fence_outcome(FenceAgentAction action, const AgentOutcome& outcome);

// The parameter names of a fence agent's metadata XML (<parameter name="ip" ...>), obsolete spellings too.
std::set<std::string> parse_fence_metadata_parameters(std::string_view xml);
// The default a fence agent's metadata gives `parameter` (<parameter name="power_wait" ...> ...
// <content type="second" default="2"/>); nullopt when the parameter or its default is not there.
std::optional<std::string> fence_metadata_default(std::string_view xml, std::string_view parameter);
// What the agent waits after its own off before it asks for the power status (power_wait, whole seconds:
// the device's option.power_wait, else the metadata's default); 0 when neither says.
int fence_agent_power_wait_s(const FenceDeviceConfig& device, std::string_view xml);
// Each option of `device` must be one of `parameters`, and password_file needs a "password" parameter:
// otherwise invalid_argument naming the section's file:line, the option, and (when close) the right name.
// Also refuses the agents that are no power fence (fence_scsi, fence_mpath, fence_sbd, fence_dummy, ...).
Status check_fence_options(const FenceDeviceConfig& device, const std::set<std::string>& parameters);
// Refuses an agent whose metadata declares an automatic unfencing (a fabric fence: fence_scsi's kind).
Status check_power_fence_metadata(const FenceDeviceConfig& device, std::string_view xml);

}  // namespace castor
