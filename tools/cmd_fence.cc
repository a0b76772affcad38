// castor fence-check and castor fence NODE (issue 16): the power fence devices of castor.ini's [fence NODE]
// sections, checked against their agents' metadata and asked for each node's power status without touching
// it; and an admin's fence of the peer, carried out by the local quorumd (which then takes over at once).
// Must never touch power in fence-check, and never fence without the admin's confirmation (or --yes).
#include <iostream>
#include <thread>

#include "agent/fence_agent.h"
#include "common/cli_args.h"
#include "config/quorumd_config.h"
#include "control/control_client.h"
#include "control/json_codec.h"
#include "tools/cli_commands.h"
#include "tools/exit_codes.h"
#include "tools/terminal_output.h"

namespace castor {
namespace {

using json_codec::Json;

constexpr const char* kConfig = "/etc/castor/castor.ini";
constexpr const char* kQuorumdSocketDefault = "/run/castor/quorumd.sock";

// Runs `action` of `d`'s agent to its end (bounded by the device's timeout).
FenceAgentResult run_fence(const FenceDeviceConfig& d, FenceAgentAction action, std::string* output = nullptr) {
  auto cmd = fence_agent_command(d, action);
  if (!cmd.ok()) return {FenceVerdict::failed, std::string(fence_agent_action_name(action)) + ": " + cmd.status().to_string()};
  BootClock clock;
  auto out = run_agent(*cmd, clock);
  if (!out.ok()) return {FenceVerdict::failed, std::string(fence_agent_action_name(action)) + ": " + out.status().to_string()};
  if (output) *output = out->output_tail;
  return interpret_fence_outcome(action, *out);
}

Result<QuorumdConfig> load_config(const std::optional<std::string>& path) {
  QuorumdConfig qc;
  RETURN_IF_ERROR(load_quorumd_ini(path.value_or(kConfig), qc));
  return qc;
}

}  // namespace

int cmd_fence_check(const std::vector<std::string>& argv) {
  auto args = parse_cli_args(argv, {{"--config", true}, {"--no-status", false}});
  if (!args.ok()) return report_error("fence-check", args.status());
  if (args->has("--help")) {
    std::cout << "Usage: castor fence-check [--config FILE] [--no-status]\n"
                 "For each [fence NODE] of castor.ini (default /etc/castor/castor.ini): reads the agent's\n"
                 "metadata and checks every option against it (an option the agent does not take is an error:\n"
                 "agents ignore it), then asks the device for NODE's power status (action=status: never\n"
                 "touches power). Exit 0 when every device answers, 2 for a bad option, 1 when a device\n"
                 "cannot be reached or its agent fails.\n";
    return kExitOk;
  }
  auto qc = load_config(args->value("--config"));
  if (!qc.ok()) return report_error("fence-check", qc.status());
  if (qc->fence.empty()) {
    std::cout << "no [fence NODE] section: the nodes fence themselves only (watchdog); the peer waits the dead "
                 "time D before it takes over\n";
    return kExitOk;
  }
  int rc = kExitOk;
  for (const FenceDeviceConfig& d : qc->fence) {
    std::cout << d.node << ": " << printable(d.describe()) << "\n";
    std::string xml;
    FenceAgentResult meta = run_fence(d, FenceAgentAction::metadata, &xml);
    if (meta.verdict == FenceVerdict::failed) {
      std::cout << "  metadata: FAILED " << printable(meta.text) << "\n";
      if (rc == kExitOk) rc = kExitFailure;  // a bad option (2) anywhere outranks a failed run
      continue;
    }
    Status st = check_fence_options(d, parse_fence_metadata_parameters(xml));
    if (st.ok()) st = check_power_fence_metadata(d, xml);
    if (!st.ok()) {
      std::cout << "  options: FAILED " << printable(st.message()) << "\n";
      rc = kExitUsage;
      continue;
    }
    std::cout << "  options: ok (checked against " << d.agent << "'s metadata)\n";
    if (const int wait_s = fence_agent_power_wait_s(d, xml); wait_s > 0)
      std::cout << "  note: the agent waits power_wait = " << wait_s << " s after its off before it checks the power; "
                << "quorumd's settle (settle_ms = " << std::chrono::duration_cast<std::chrono::milliseconds>(d.settle).count()
                << ") follows the confirmed off, so every power-fenced takeover takes " << wait_s
                << " s longer. Where the device tells the power state at once, option.power_wait = 0 removes that "
                   "(some BMCs need their wait: fence_ilo3's default is 4 s)\n";
    if (args->has("--no-status")) continue;
    FenceAgentResult pw = run_fence(d, FenceAgentAction::status);
    std::cout << "  power: " << printable(pw.text) << "\n";
    if (pw.verdict == FenceVerdict::failed && rc == kExitOk) rc = kExitFailure;
  }
  return rc;
}

// After castor fence --confirm-off: quorumd declares the peer dead at its first read after the settle (or gives
// no verdict: a life of it seen since, which the admin's word does not cover). Follows its status until then.
static int wait_declared_dead(ControlClient& c, const std::string& node, Duration settle) {
  BootClock clock;
  // quorumd's settle is at least `settle` (the worst write latency of the last minute if longer, up to T) and its
  // verdict read comes then: a generous bound, the command only waits.
  const TimePoint deadline = clock.now() + settle + std::chrono::seconds(30);
  std::string view;
  while (clock.now() < deadline) {
    auto s = c.request("status");
    if (s.ok()) {
      const Json j = Json::parse(*s, nullptr, false);
      if (j.is_object() && j.contains("peer") && j["peer"].is_object()) view = j["peer"].value("view", std::string());
      if (view == "DEAD") {
        std::cout << node << ": confirmed off by the admin; declared dead (its services move to this node)\n";
        return kExitOk;
      }
      if (j.is_object() && j.contains("power_fence") && j["power_fence"].is_object() &&
          j["power_fence"].value("phase", std::string()) == "idle") {
        std::cout << node << ": confirmed off by the admin, but NOT declared dead: a write of it landed after the "
                  << "confirmation (it runs, or a write issued before the off landed late); confirm again once its "
                  << "heartbeat stands still for the suspicion time; see castor status\n";
        return kExitFailure;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::cerr << "castor fence: " << node << " confirmed off, but quorumd has not declared it dead in time (peer view "
            << (view.empty() ? "unknown" : view) << "); see castor status\n";
  return kExitIo;
}

int cmd_fence(const std::vector<std::string>& argv) {
  auto args = parse_cli_args(argv, {{"--yes", false}, {"--force", false}, {"--confirm-off", false},
                                    {"--socket", true}, {"--config", true}});
  if (!args.ok()) return report_error("fence", args.status());
  if (args->has("--help")) {
    std::cout << "Usage: castor fence NODE [--yes] [--force | --confirm-off] [--socket PATH] [--config FILE]\n"
                 "Powers NODE off with its [fence NODE] device, through this node's quorumd (run it on the\n"
                 "other node): once the device confirms NODE is off and the settle delay has passed, this node\n"
                 "takes over NODE's services at once. Asks for confirmation unless --yes. Refused when this\n"
                 "node holds no lease (nobody could run the services afterwards) unless --force.\n"
                 "--confirm-off: run no agent; you confirm that NODE is powered off, checked by hand (its power\n"
                 "cords, its BMC's console), for a node no device can confirm: one already off when the fence ran\n"
                 "(the device says off before the off) or whose BMC is unreachable with its power cut. Its\n"
                 "services are then taken over as after a power fence. If NODE still runs, both nodes run them:\n"
                 "quorumd refuses while NODE's heartbeat changed within the suspicion time or a LAN link hears it.\n";
    return kExitOk;
  }
  const bool confirm_off = args->has("--confirm-off");
  if (confirm_off && args->has("--force"))
    return report_error("fence", Error(Code::invalid_argument, "--confirm-off and --force go apart: --confirm-off "
                                                               "runs no agent, and needs this node's lease"));
  if (args->positional.size() != 1) return report_error("fence", Error(Code::invalid_argument, "expected one NODE"));
  const std::string node = args->positional[0];
  auto qc = load_config(args->value("--config"));
  if (!qc.ok()) return report_error("fence", qc.status());
  if (!qc->node.empty() && node == qc->node)
    return report_error("fence", Error(Code::refused, node + " is this node: run castor fence " + node +
                                                          " on its peer, which takes its services over"));
  if (!fence_device_for(qc->fence, node))
    return report_error("fence", Error(Code::not_found, "no [fence " + node + "] section in " +
                                                            args->value("--config").value_or(kConfig)));
  if (!args->has("--yes")) {
    if (confirm_off)
      std::cout << "Confirm that " << node << " is powered off (you checked it by hand)? Its services move to this "
                << "node; if " << node << " still runs, both nodes run them. Type 'yes' to go on: " << std::flush;
    else
      std::cout << "Power off " << node << " now? Its services move to this node. Type 'yes' to go on: " << std::flush;
    std::string answer;
    std::getline(std::cin, answer);
    if (answer != "yes") {
      std::cout << (confirm_off ? "not confirmed\n" : "not fenced\n");
      return kExitRefused;
    }
  }
  const std::string socket = args->value("--socket").value_or(qc->socket_path.empty() ? kQuorumdSocketDefault : qc->socket_path);
  auto c = ControlClient::connect(socket, std::chrono::seconds(5));
  if (!c.ok()) return report_error("fence", c.status());
  // The counts before: the result is the first fence that ends after the request (without them an older
  // fence's result would be reported as this one's).
  auto before = c->request("status");
  if (!before.ok()) return report_error("fence", before.status().with_context("quorumd status"));
  const Json bj = Json::parse(*before, nullptr, false);
  if (!bj.is_object() || !bj.contains("power_fence") || !bj["power_fence"].is_object())
    return report_error("fence", Error(Code::unsupported, "quorumd's status has no power_fence part (an older quorumd?)"));
  const int64_t fences_before = bj["power_fence"].value("fences", int64_t(0));
  const int64_t failures_before = bj["power_fence"].value("failures", int64_t(0));
  // The target is named: quorumd refuses anything but its peer (a castor.ini without node= cannot tell here).
  auto r = c->request("fence-peer " + node + (args->has("--force") ? " force" : confirm_off ? " confirm-off" : ""));
  if (!r.ok()) return report_error("fence", r.status());
  const Json reply = Json::parse(*r, nullptr, false);
  if (!reply.is_object() || !reply.value("ok", false)) {  // quorumd's refusal, in its words
    const std::string why = reply.is_object() ? reply.value("error", std::string("no reason given")) : *r;
    std::cerr << "castor fence: quorumd refused: " << printable(why) << "\n";
    return kExitRefused;
  }
  std::cout << "quorumd: " << printable(reply.value("message", std::string("fencing ") + node)) << "\n";
  const FenceDeviceConfig& d = *fence_device_for(qc->fence, node);
  BootClock clock;
  // A round is three agent calls (status, off, status), each bounded by timeout_s and a kill grace, plus the
  // fence delay before it; then the settle. Every round, the retries too, and a margin.
  const Duration round = 3 * (d.timeout + std::chrono::seconds(2));
  const TimePoint deadline = clock.now() + d.delay + round * (d.retries + 1) + d.settle + std::chrono::seconds(5);
  while (clock.now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto s = c->request("status");
    if (!s.ok()) continue;
    auto j = Json::parse(*s, nullptr, false);
    if (!j.is_object() || !j.contains("power_fence") || !j["power_fence"].is_object()) continue;
    const Json& pf = j["power_fence"];
    const bool done = pf.value("fences", int64_t(0)) > fences_before || pf.value("failures", int64_t(0)) > failures_before;
    if (!done || !pf.contains("last") || !pf["last"].is_object()) continue;
    const Json& last = pf["last"];
    if (confirm_off && last.value("confirmed", false)) return wait_declared_dead(*c, node, d.settle);
    std::cout << node << ": " << (last.value("confirmed", false) ? "powered off (confirmed)" : "NOT fenced") << " in "
              << last.value("took_ms", int64_t(0)) << " ms: " << printable(last.value("result", std::string())) << "\n";
    return last.value("confirmed", false) ? kExitOk : kExitFailure;
  }
  std::cerr << "castor fence: no result from quorumd in time; see castor status\n";
  return kExitIo;
}

}  // namespace castor
