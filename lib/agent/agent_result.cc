#include "agent/agent_result.h"

#include <signal.h>
#include <string.h>

#include "common/text_sanitize.h"

namespace castor {
namespace {

constexpr size_t kMaxLineBytes = 512;

// Trimmed, valid UTF-8 (invalid bytes and a character cut by the output cap become U+FFFD), C0/C1 control
// characters (which could forge log lines or terminal escapes) made spaces, capped on a character boundary.
std::string sanitize(std::string_view s) { return clean_text(s, kMaxLineBytes); }

// Calls f(line) for each line of `text`, last line first; stops when f returns true.
template <typename F>
void for_each_line_backwards(std::string_view text, F f) {
  size_t end = text.size();
  for (;;) {
    size_t nl = end == 0 ? std::string_view::npos : text.rfind('\n', end - 1);
    size_t begin = nl == std::string_view::npos ? 0 : nl + 1;
    if (f(text.substr(begin, end - begin))) return;
    if (nl == std::string_view::npos) return;
    end = nl;
  }
}

std::string signal_text(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  std::string s = "signal " + std::to_string(sig);
  if (abbrev) s += std::string(" (SIG") + abbrev + ")";
  return s;
}

std::string_view lsb_error_meaning(int code) {
  switch (code) {
    case 1: return "generic or unspecified error";
    case 2: return "invalid or excess arguments";
    case 3: return "unimplemented feature";
    case 4: return "user had insufficient privilege";
    case 5: return "program is not installed";
    case 6: return "program is not configured";
    case 7: return "program is not running";
    default: return {};
  }
}

bool is_monitor_like(AgentAction a) {
  return a == AgentAction::monitor || a == AgentAction::probe || a == AgentAction::status;
}

// The OCF table (also LSB non-status actions, whose error codes are the same numbers).
Severity grade_ocf(AgentAction action, int code) {
  switch (code) {
    case ocf::kSuccess: return Severity::ok;
    case ocf::kNotRunning:
      if (is_monitor_like(action)) return Severity::not_running;
      if (action == AgentAction::stop) return Severity::ok;  // already stopped: Pacemaker counts it as done
      return Severity::soft;
    case ocf::kDegraded: return is_monitor_like(action) ? Severity::ok : Severity::soft;
    case ocf::kErrUnimplemented:
      // validate-all is optional in the OCF API: an agent without it has nothing to object to.
      return action == AgentAction::validate ? Severity::ok : Severity::hard;
    case ocf::kErrArgs:
    case ocf::kErrPerm:
    case ocf::kErrInstalled: return Severity::hard;
    case ocf::kErrConfigured: return Severity::fatal;
    case ocf::kErrGeneric:
    case ocf::kRunningMaster:  // Castor runs no promotable resources: a master where none should be
    case ocf::kFailedMaster:
    case ocf::kDegradedMaster:
    default: return Severity::soft;
  }
}

Severity grade_lsb_status(int code) {
  switch (code) {
    case 0: return Severity::ok;
    case 1:
    case 2:
    case 3: return Severity::not_running;
    default: return Severity::soft;  // 4 "unknown", and anything outside the spec
  }
}

std::string with_detail(std::string head, const std::string& detail) {
  if (!detail.empty()) {
    head += ": ";
    head += detail;
  }
  return head;
}

}  // namespace

std::string parse_exit_reason(std::string_view output) {
  std::string found;
  for_each_line_backwards(output, [&](std::string_view line) {
    std::string_view l = line;
    while (!l.empty() && (l.front() == ' ' || l.front() == '\t')) l.remove_prefix(1);
    if (l.substr(0, kOcfExitReasonPrefix.size()) != kOcfExitReasonPrefix) return false;
    found = sanitize(l.substr(kOcfExitReasonPrefix.size()));
    return !found.empty();
  });
  return found;
}

std::string last_output_line(std::string_view output) {
  std::string found;
  for_each_line_backwards(output, [&](std::string_view line) {
    found = sanitize(line);
    return !found.empty();
  });
  return found;
}

Classified classify(AgentKind kind, AgentAction action, const AgentOutcome& o) {
  // Reason for a failure: what the agent said why, else its last words.
  auto reason = [&] { return o.exit_reason.empty() ? last_output_line(o.output_tail) : o.exit_reason; };

  if (o.timed_out) {
    std::string how;
    if (o.signal == SIGTERM) {
      how = " (terminated by SIGTERM)";
    } else if (o.signal == SIGKILL) {
      how = " (killed by SIGKILL: it outlived SIGTERM)";
    } else if (o.signal != 0) {
      how = " (killed by " + signal_text(o.signal) + ")";
    } else {
      how = " (exited " + std::to_string(o.exit_code) + " after SIGTERM)";
    }
    return {Severity::soft, with_detail("timed out after " + format_duration(o.timeout) + how, reason())};
  }
  if (o.signal != 0 || o.exit_code < 0) {
    return {Severity::soft, with_detail("killed by " + signal_text(o.signal), reason())};
  }

  const int code = o.exit_code;
  Severity sev = Severity::soft;
  std::string head;
  switch (kind) {
    case AgentKind::ocf:
      sev = grade_ocf(action, code);
      head = std::string(ocf_code_name(code)) + " (" + std::to_string(code) + ")";
      if (action == AgentAction::validate && code == ocf::kErrUnimplemented) {
        head += " - the agent has no validate-all; treated as passed";
      } else if (action == AgentAction::stop && code == ocf::kNotRunning) {
        head += " - already stopped";
      }
      break;
    case AgentKind::lsb:
      if (is_monitor_like(action)) {
        sev = grade_lsb_status(code);
        head = std::string(lsb_status_name(code)) + " (" + std::to_string(code) + ")";
      } else {
        sev = grade_ocf(action, code);
        head = "exit " + std::to_string(code);
        std::string_view meaning = lsb_error_meaning(code);
        if (code != 0 && !meaning.empty()) head += " (" + std::string(meaning) + ")";
      }
      break;
    case AgentKind::exec:
      if (code == 0) {
        sev = Severity::ok;
      } else if (is_monitor_like(action) && code == 7) {
        sev = Severity::not_running;
      } else {
        sev = Severity::soft;
      }
      head = "exit " + std::to_string(code);
      if (sev == Severity::not_running) head += " (not running)";
      break;
  }
  // A success carries only what the agent chose to say (meta-data's last line is XML, not news).
  std::string detail = sev == Severity::ok || sev == Severity::not_running ? o.exit_reason : reason();
  return {sev, with_detail(std::move(head), detail)};
}

std::string_view ocf_code_name(int code) {
  switch (code) {
    case ocf::kSuccess: return "OCF_SUCCESS";
    case ocf::kErrGeneric: return "OCF_ERR_GENERIC";
    case ocf::kErrArgs: return "OCF_ERR_ARGS";
    case ocf::kErrUnimplemented: return "OCF_ERR_UNIMPLEMENTED";
    case ocf::kErrPerm: return "OCF_ERR_PERM";
    case ocf::kErrInstalled: return "OCF_ERR_INSTALLED";
    case ocf::kErrConfigured: return "OCF_ERR_CONFIGURED";
    case ocf::kNotRunning: return "OCF_NOT_RUNNING";
    case ocf::kRunningMaster: return "OCF_RUNNING_MASTER";
    case ocf::kFailedMaster: return "OCF_FAILED_MASTER";
    case ocf::kDegraded: return "OCF_DEGRADED";
    case ocf::kDegradedMaster: return "OCF_DEGRADED_MASTER";
    default: return "OCF_UNKNOWN";
  }
}

std::string_view lsb_status_name(int code) {
  switch (code) {
    case 0: return "LSB_STATUS_RUNNING";
    case 1: return "LSB_STATUS_DEAD_PIDFILE";
    case 2: return "LSB_STATUS_DEAD_LOCKFILE";
    case 3: return "LSB_STATUS_NOT_RUNNING";
    default: return "LSB_STATUS_UNKNOWN";
  }
}

std::string_view severity_name(Severity s) {
  switch (s) {
    case Severity::ok: return "ok";
    case Severity::not_running: return "not_running";
    case Severity::soft: return "soft";
    case Severity::hard: return "hard";
    case Severity::fatal: return "fatal";
  }
  return "?";
}

std::string_view agent_kind_name(AgentKind k) {
  switch (k) {
    case AgentKind::ocf: return "ocf";
    case AgentKind::lsb: return "lsb";
    case AgentKind::exec: return "exec";
  }
  return "?";
}

std::string_view agent_action_arg(AgentAction a) {
  switch (a) {
    case AgentAction::start: return "start";
    case AgentAction::stop: return "stop";
    case AgentAction::monitor:
    case AgentAction::probe: return "monitor";
    case AgentAction::validate: return "validate-all";
    case AgentAction::meta_data: return "meta-data";
    case AgentAction::status: return "status";
  }
  return "?";
}

}  // namespace castor
