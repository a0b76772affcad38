// What one agent action ended with (AgentOutcome) and what that means for the resource (classify).
// Pure functions over values: the OCF / LSB / exec exit-code tables, Pacemaker's soft / hard / fatal
// grading, the ocf-exit-reason: line and a one-line human text for logs and `castor status`.
// Must never run anything, touch the system or decide recovery: it grades a result, the caller (which
// knows whether the resource was expected to run) decides what to do with the grade.
#pragma once

#include <string>
#include <string_view>

#include "common/clock.h"

namespace castor {

// How an agent is called and how its exit codes read.
//   ocf:  OCF resource agent (/usr/lib/ocf/resource.d/PROVIDER/TYPE ACTION), OCF exit codes.
//   lsb:  init script (/etc/init.d/NAME ACTION); `status` has its own codes, other actions use the LSB
//         init-script error codes, which are numerically the OCF ones (1 generic .. 7 not running).
//   exec: a plain command line per action; 0 is success, for a monitor 7 means "not running".
enum class AgentKind { ocf, lsb, exec };

// probe = a one-shot monitor (OCF_RESKEY_CRM_meta_interval=0) asking "is it running here?" about a
// resource whose state is not known yet. status = the LSB status action (for OCF: the deprecated alias of
// monitor, graded like monitor).
enum class AgentAction { start, stop, monitor, probe, validate, meta_data, status };

// ok:          the action did what was asked (for a monitor/probe/status: the resource runs).
// not_running: monitor/probe/status found the resource cleanly stopped. Success for a probe of a resource
//              believed stopped, a failure for a monitor of a started one: the caller decides.
// soft:        failed, but restarting here or moving may help (OCF 1, 8, 9, unknown codes, timeouts,
//              death by a signal).
// hard:        the resource cannot run on THIS node (OCF 2 args, 3 unimplemented, 4 permissions,
//              5 not installed). For a probe it also means "not running here": an agent whose software
//              or parameters are unusable on this node cannot have the resource running on it
//              (Pacemaker masks probe results 2 and 5 as "stopped" for that reason) - but do not start
//              it here either.
// fatal:       the resource cannot run anywhere (OCF 6 not configured): a configuration error.
// A stop that is not `ok` means the resource's state is unknown (it may still hold its resources):
// whatever the grade, the caller must escalate (retry, kill the service's process groups, fence).
enum class Severity { ok, not_running, soft, hard, fatal };

// OCF exit codes (OCF resource agent API 1.1; 190/191 added with Pacemaker 2.1).
namespace ocf {
inline constexpr int kSuccess = 0;
inline constexpr int kErrGeneric = 1;
inline constexpr int kErrArgs = 2;
inline constexpr int kErrUnimplemented = 3;
inline constexpr int kErrPerm = 4;
inline constexpr int kErrInstalled = 5;
inline constexpr int kErrConfigured = 6;
inline constexpr int kNotRunning = 7;
inline constexpr int kRunningMaster = 8;
inline constexpr int kFailedMaster = 9;
inline constexpr int kDegraded = 190;
inline constexpr int kDegradedMaster = 191;
}  // namespace ocf

// The stderr prefix of ocf_exit_reason (ocf-shellfuncs, OCF_EXIT_REASON_PREFIX's default).
inline constexpr std::string_view kOcfExitReasonPrefix = "ocf-exit-reason:";

// How one run of an agent action ended. Filled by AgentProcess (agent_process.h); plain data so that
// classification can be tested without running anything.
struct AgentOutcome {
  bool timed_out = false;  // the deadline passed before the agent exited; it was sent SIGTERM (and maybe
                           // SIGKILL): exit_code/signal then say how it died, the action counts as failed
  int exit_code = -1;      // 0..255 when it exited; -1 when a signal killed it
  int signal = 0;          // the signal that killed it, 0 when it exited
  Duration timeout{0};     // the timeout it was run with (for the text of a timeout)
  Duration elapsed{0};     // from spawn to the moment it was seen to be reaped
  std::string output_tail;  // last 4 KiB of stdout+stderr (merged, in the order written)
  std::string exit_reason;  // text of the last non-empty "ocf-exit-reason:" line (anywhere in the output,
                            // not only the tail); empty if none
};

struct Classified {
  Severity severity = Severity::soft;
  // One human line: "OCF_SUCCESS (0)", "OCF_ERR_CONFIGURED (6): <exit reason>",
  // "exit 1: <last output line>", "timed out after 20.0s (terminated by SIGTERM)",
  // "killed by signal 11 (SIGSEGV)". Reason = the exit reason, else the last non-empty output line.
  std::string text;
};

Classified classify(AgentKind kind, AgentAction action, const AgentOutcome& outcome);

// Text of the last non-empty line that starts with "ocf-exit-reason:" (leading blanks allowed), with the
// prefix removed, made valid UTF-8 (U+FFFD for invalid bytes), C0/C1 control characters made spaces,
// blanks trimmed and capped at 512 bytes on a character boundary (common/text_sanitize.h). "" if none.
std::string parse_exit_reason(std::string_view output);

// Last non-empty line of `output`, trimmed and sanitized like an exit reason; "" if none.
std::string last_output_line(std::string_view output);

// "OCF_SUCCESS", "OCF_ERR_GENERIC", ... ; "OCF_UNKNOWN" for codes outside the table.
std::string_view ocf_code_name(int code);
// "LSB_STATUS_RUNNING", "LSB_STATUS_DEAD_PIDFILE", ... for LSB status codes; "LSB_STATUS_UNKNOWN" otherwise.
std::string_view lsb_status_name(int code);

std::string_view severity_name(Severity s);      // "ok", "not_running", "soft", "hard", "fatal"
std::string_view agent_kind_name(AgentKind k);   // "ocf", "lsb", "exec"
// The action word as agents take it: "start", "stop", "monitor" (also for probe), "validate-all",
// "meta-data", "status".
std::string_view agent_action_arg(AgentAction a);

}  // namespace castor
