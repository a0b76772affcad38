#include <doctest/doctest.h>

#include <signal.h>

#include <string>
#include <vector>

#include "agent/agent_result.h"

using namespace castor;

namespace {

AgentOutcome exited(int code, std::string output = "", std::string reason = "") {
  AgentOutcome o;
  o.exit_code = code;
  o.output_tail = std::move(output);
  o.exit_reason = std::move(reason);
  o.timeout = std::chrono::seconds(20);
  return o;
}

Severity sev(AgentKind k, AgentAction a, int code) { return classify(k, a, exited(code)).severity; }

const std::vector<AgentAction> kAllActions = {AgentAction::start,    AgentAction::stop,     AgentAction::monitor,
                                              AgentAction::probe,    AgentAction::validate, AgentAction::meta_data,
                                              AgentAction::status};

bool monitor_like(AgentAction a) {
  return a == AgentAction::monitor || a == AgentAction::probe || a == AgentAction::status;
}

}  // namespace

TEST_CASE("OCF exit codes graded for every action") {
  for (AgentAction a : kAllActions) {
    CAPTURE(agent_action_arg(a));
    CHECK(sev(AgentKind::ocf, a, 0) == Severity::ok);
    CHECK(sev(AgentKind::ocf, a, 1) == Severity::soft);
    CHECK(sev(AgentKind::ocf, a, 2) == Severity::hard);
    CHECK(sev(AgentKind::ocf, a, 3) == (a == AgentAction::validate ? Severity::ok : Severity::hard));
    CHECK(sev(AgentKind::ocf, a, 4) == Severity::hard);
    CHECK(sev(AgentKind::ocf, a, 5) == Severity::hard);
    CHECK(sev(AgentKind::ocf, a, 6) == Severity::fatal);
    Severity seven = monitor_like(a) ? Severity::not_running : a == AgentAction::stop ? Severity::ok : Severity::soft;
    CHECK(sev(AgentKind::ocf, a, 7) == seven);
    CHECK(sev(AgentKind::ocf, a, 8) == Severity::soft);
    CHECK(sev(AgentKind::ocf, a, 9) == Severity::soft);
    CHECK(sev(AgentKind::ocf, a, 190) == (monitor_like(a) ? Severity::ok : Severity::soft));
    CHECK(sev(AgentKind::ocf, a, 191) == Severity::soft);
    for (int other : {10, 99, 126, 127, 189, 192, 255}) CHECK(sev(AgentKind::ocf, a, other) == Severity::soft);
  }
}

TEST_CASE("LSB status codes and init-script error codes") {
  for (AgentAction a : {AgentAction::status, AgentAction::monitor, AgentAction::probe}) {
    CAPTURE(agent_action_arg(a));
    CHECK(sev(AgentKind::lsb, a, 0) == Severity::ok);
    CHECK(sev(AgentKind::lsb, a, 1) == Severity::not_running);
    CHECK(sev(AgentKind::lsb, a, 2) == Severity::not_running);
    CHECK(sev(AgentKind::lsb, a, 3) == Severity::not_running);
    CHECK(sev(AgentKind::lsb, a, 4) == Severity::soft);
    for (int other : {5, 6, 7, 150, 255}) CHECK(sev(AgentKind::lsb, a, other) == Severity::soft);
  }
  // start/stop: the LSB init-script error codes are the OCF numbers.
  for (AgentAction a : {AgentAction::start, AgentAction::stop}) {
    CAPTURE(agent_action_arg(a));
    CHECK(sev(AgentKind::lsb, a, 0) == Severity::ok);
    CHECK(sev(AgentKind::lsb, a, 1) == Severity::soft);
    CHECK(sev(AgentKind::lsb, a, 2) == Severity::hard);
    CHECK(sev(AgentKind::lsb, a, 3) == Severity::hard);
    CHECK(sev(AgentKind::lsb, a, 4) == Severity::hard);
    CHECK(sev(AgentKind::lsb, a, 5) == Severity::hard);
    CHECK(sev(AgentKind::lsb, a, 6) == Severity::fatal);
    CHECK(sev(AgentKind::lsb, a, 7) == (a == AgentAction::stop ? Severity::ok : Severity::soft));
    CHECK(sev(AgentKind::lsb, a, 42) == Severity::soft);
  }
  CHECK(classify(AgentKind::lsb, AgentAction::status, exited(1)).text == "LSB_STATUS_DEAD_PIDFILE (1)");
  CHECK(classify(AgentKind::lsb, AgentAction::status, exited(4, "status unknown\n")).text ==
        "LSB_STATUS_UNKNOWN (4): status unknown");
  CHECK(classify(AgentKind::lsb, AgentAction::start, exited(5, "no /usr/sbin/foo\n")).text ==
        "exit 5 (program is not installed): no /usr/sbin/foo");
}

TEST_CASE("exec commands: 0 ok, 7 not running for monitors, anything else soft") {
  for (AgentAction a : kAllActions) {
    CAPTURE(agent_action_arg(a));
    CHECK(sev(AgentKind::exec, a, 0) == Severity::ok);
    CHECK(sev(AgentKind::exec, a, 7) == (monitor_like(a) ? Severity::not_running : Severity::soft));
    for (int other : {1, 2, 3, 4, 5, 6, 8, 9, 126, 127, 255}) CHECK(sev(AgentKind::exec, a, other) == Severity::soft);
  }
  CHECK(classify(AgentKind::exec, AgentAction::start, exited(1, "starting\nport 80 in use\n\n")).text ==
        "exit 1: port 80 in use");
  CHECK(classify(AgentKind::exec, AgentAction::monitor, exited(7)).text == "exit 7 (not running)");
  CHECK(classify(AgentKind::exec, AgentAction::monitor, exited(0, "all fine\n")).text == "exit 0");
}

TEST_CASE("timeouts and signals are soft for every kind and action, whatever the exit code") {
  for (AgentKind k : {AgentKind::ocf, AgentKind::lsb, AgentKind::exec}) {
    for (AgentAction a : kAllActions) {
      CAPTURE(agent_kind_name(k));
      CAPTURE(agent_action_arg(a));
      AgentOutcome t = exited(0);  // handled SIGTERM and exited 0: still a timeout
      t.timed_out = true;
      CHECK(classify(k, a, t).severity == Severity::soft);
      AgentOutcome s;
      s.exit_code = -1;
      s.signal = SIGSEGV;
      CHECK(classify(k, a, s).severity == Severity::soft);
    }
  }
  AgentOutcome t;
  t.timed_out = true;
  t.timeout = std::chrono::milliseconds(200);
  t.signal = SIGTERM;
  CHECK(classify(AgentKind::ocf, AgentAction::start, t).text == "timed out after 200ms (terminated by SIGTERM)");
  t.timeout = std::chrono::seconds(20);
  t.signal = SIGKILL;
  t.output_tail = "waiting for the database\n";
  CHECK(classify(AgentKind::ocf, AgentAction::start, t).text ==
        "timed out after 20.0s (killed by SIGKILL: it outlived SIGTERM): waiting for the database");
  t.signal = 0;
  t.exit_code = 1;
  t.output_tail.clear();
  CHECK(classify(AgentKind::exec, AgentAction::stop, t).text == "timed out after 20.0s (exited 1 after SIGTERM)");

  AgentOutcome s;
  s.exit_code = -1;
  s.signal = SIGSEGV;
  CHECK(classify(AgentKind::ocf, AgentAction::monitor, s).text == "killed by signal 11 (SIGSEGV)");
}

TEST_CASE("classification text: OCF name, code and the reason") {
  CHECK(classify(AgentKind::ocf, AgentAction::start, exited(0)).text == "OCF_SUCCESS (0)");
  // A success does not quote the output (meta-data ends in XML) but does carry an exit reason.
  CHECK(classify(AgentKind::ocf, AgentAction::meta_data, exited(0, "<x/>\n</resource-agent>\n")).text ==
        "OCF_SUCCESS (0)");
  CHECK(classify(AgentKind::ocf, AgentAction::monitor, exited(190, "", "replica lagging")).text ==
        "OCF_DEGRADED (190): replica lagging");
  // The exit reason wins over the last output line.
  CHECK(classify(AgentKind::ocf, AgentAction::start, exited(6, "ERROR: something\n", "ip is required")).text ==
        "OCF_ERR_CONFIGURED (6): ip is required");
  CHECK(classify(AgentKind::ocf, AgentAction::start, exited(1, "line one\r\nDummy(d1): ERROR: boom  \n")).text ==
        "OCF_ERR_GENERIC (1): Dummy(d1): ERROR: boom");
  CHECK(classify(AgentKind::ocf, AgentAction::monitor, exited(7)).text == "OCF_NOT_RUNNING (7)");
  CHECK(classify(AgentKind::ocf, AgentAction::stop, exited(7)).text == "OCF_NOT_RUNNING (7) - already stopped");
  CHECK(classify(AgentKind::ocf, AgentAction::validate, exited(3)).text ==
        "OCF_ERR_UNIMPLEMENTED (3) - the agent has no validate-all; treated as passed");
  CHECK(classify(AgentKind::ocf, AgentAction::start, exited(42)).text == "OCF_UNKNOWN (42)");
}

TEST_CASE("code and enum names") {
  CHECK(ocf_code_name(0) == "OCF_SUCCESS");
  CHECK(ocf_code_name(1) == "OCF_ERR_GENERIC");
  CHECK(ocf_code_name(2) == "OCF_ERR_ARGS");
  CHECK(ocf_code_name(3) == "OCF_ERR_UNIMPLEMENTED");
  CHECK(ocf_code_name(4) == "OCF_ERR_PERM");
  CHECK(ocf_code_name(5) == "OCF_ERR_INSTALLED");
  CHECK(ocf_code_name(6) == "OCF_ERR_CONFIGURED");
  CHECK(ocf_code_name(7) == "OCF_NOT_RUNNING");
  CHECK(ocf_code_name(8) == "OCF_RUNNING_MASTER");
  CHECK(ocf_code_name(9) == "OCF_FAILED_MASTER");
  CHECK(ocf_code_name(190) == "OCF_DEGRADED");
  CHECK(ocf_code_name(191) == "OCF_DEGRADED_MASTER");
  CHECK(ocf_code_name(-1) == "OCF_UNKNOWN");
  CHECK(lsb_status_name(3) == "LSB_STATUS_NOT_RUNNING");
  CHECK(severity_name(Severity::not_running) == "not_running");
  CHECK(severity_name(Severity::fatal) == "fatal");
  CHECK(agent_kind_name(AgentKind::lsb) == "lsb");
  CHECK(agent_action_arg(AgentAction::probe) == "monitor");
  CHECK(agent_action_arg(AgentAction::validate) == "validate-all");
  CHECK(agent_action_arg(AgentAction::meta_data) == "meta-data");
}

TEST_CASE("parse_exit_reason takes the last non-empty ocf-exit-reason line") {
  CHECK(parse_exit_reason("") == "");
  CHECK(parse_exit_reason("no reason here\n") == "");
  CHECK(parse_exit_reason("ocf-exit-reason:disk full\n") == "disk full");
  CHECK(parse_exit_reason("ocf-exit-reason:disk full") == "disk full");  // no final newline
  CHECK(parse_exit_reason("a\nocf-exit-reason:first\nb\nocf-exit-reason: second  \r\nc\n") == "second");
  CHECK(parse_exit_reason("ocf-exit-reason:real\nocf-exit-reason:   \n") == "real");  // empty one skipped
  CHECK(parse_exit_reason("  \tocf-exit-reason:indented\n") == "indented");
  // Only at the start of a line: a log line quoting it does not count.
  CHECK(parse_exit_reason("INFO: saw ocf-exit-reason:nope\n") == "");
  CHECK(parse_exit_reason("OCF-EXIT-REASON:upper\n") == "");
  // Control characters cannot forge log lines or terminal escapes; length is capped.
  CHECK(parse_exit_reason("ocf-exit-reason:a\x1b[31mb\tc\n") == "a [31mb c");
  std::string long_reason = "ocf-exit-reason:" + std::string(2000, 'x') + "\n";
  CHECK(parse_exit_reason(long_reason).size() == 512);
}

TEST_CASE("last_output_line skips blank lines and trims") {
  CHECK(last_output_line("") == "");
  CHECK(last_output_line("\n\n  \n") == "");
  CHECK(last_output_line("one\ntwo\n\n") == "two");
  CHECK(last_output_line("  spaced out \t") == "spaced out");
}
