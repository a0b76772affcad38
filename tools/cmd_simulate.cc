// castor simulate: what the placement policy would do after an event (a node killed, a service failed, a node
// in standby, a relocation), service by service, with the expected outage -- from the live status (this
// node's quorumd and svcmgr over their control sockets, as `castor status --json` reads them) or from a saved
// `castor status --json` output (--from FILE). The prediction is tools/placement_simulation.h's, which runs the
// policy svcmgr runs. Read-only: must never send a request that changes anything, nor read the quorum disk.
#include <unistd.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "common/cli_args.h"
#include "common/read_file.h"
#include "common/text_sanitize.h"
#include "config/quorumd_config.h"
#include "config/service_loader.h"
#include "config/svcmgr_config.h"
#include "control/control_client.h"
#include "tools/cli_commands.h"
#include "tools/exit_codes.h"
#include "tools/placement_simulation.h"
#include "tools/terminal_output.h"

namespace castor {
namespace {

using json = nlohmann::json;

constexpr const char* kDefaultConfig = "/etc/castor/castor.ini";
constexpr size_t kMaxStatusFileBytes = size_t(16) << 20;

const char* kSimulateHelp =
    "Usage: castor simulate [--kill NODE | --fail SERVICE | --standby NODE | --relocate SERVICE [--to NODE]]\n"
    "                       [--from FILE] [--services DIR] [--json] [--config FILE] [--socket PATH]\n"
    "                       [--svcmgr-socket PATH]\n"
    "\n"
    "What Castor would do after an event, service by service: where it runs now, where it runs once the\n"
    "cluster has settled, the placement rule that decides it, and the expected outage. Nothing is changed:\n"
    "the placement policy svcmgr runs is run here on the status, once for each node as its svcmgr would.\n"
    "\n"
    "  --kill NODE        NODE crashes (a power cut): its services go to the peer after the dead time D\n"
    "                     (from io_timeout, by quorumd's formula) plus their start time, or stay down\n"
    "  --fail SERVICE     SERVICE's monitor fails where it runs: a restart in place while restarts remain,\n"
    "                     then a move (recovery = restart), or what its recovery says\n"
    "  --standby NODE     NODE is put in standby: its services move (a stop and a start)\n"
    "  --relocate SERVICE [--to NODE]   SERVICE is relocated (default: to the node not running it)\n"
    "  (no event)         the policy on the state as it is: what is not settled yet\n"
    "  --from FILE        a saved `castor status --json` output (- for stdin) instead of the live status\n"
    "  --services DIR     the service definitions (failover domains, failback, recovery); default [svcmgr]\n"
    "                     services_dir of the config file, /etc/castor/services.d\n"
    "  --json             machine-readable output\n"
    "\n"
    "Start and stop times are the last ones svcmgr measured on the node that answered (last_start_ms,\n"
    "last_stop_ms); a service never started there has none, and its outage is then not a number.\n"
    "Exit 0 when shown, 2 on a bad argument (an unknown node or service, --to without --relocate, a file\n"
    "that is not a status), 3 when svcmgr does not answer or --from or --services cannot be read.\n";

// The status as `castor status --json` prints it: quorumd's reply with svcmgr's services under "services".
Result<json> live_status(const std::string& socket, const std::string& svcmgr_socket) {
  json out = json::object();
  if (auto client = ControlClient::connect(socket, std::chrono::seconds(5)); client.ok()) {
    if (auto reply = client->request("status"); reply.ok()) {
      json s = json::parse(*reply, nullptr, false);
      if (!s.is_discarded() && s.is_object() && s.value("ok", false)) out = std::move(s);
      else std::cerr << "castor simulate: quorumd on " << socket << " gave no usable status: the dead time is unknown\n";
    } else {
      std::cerr << "castor simulate: quorumd on " << socket << " did not answer (" << printable(reply.status().message())
                << "): the dead time is unknown\n";
    }
  } else {
    std::cerr << "castor simulate: quorumd is not running here (" << printable(client.status().message())
              << "): the dead time is unknown\n";
  }
  out["source"] = "daemon";
  const std::string services = services_status_text(svcmgr_socket, true);
  if (services.empty()) return Error(Code::not_found, "svcmgr does not answer on " + svcmgr_socket);
  json sv = json::parse(services, nullptr, false);
  if (sv.is_discarded()) return Error(Code::corrupt, "svcmgr's reply is not JSON");
  out["services"] = std::move(sv);
  return out;
}

Result<json> saved_status(const std::string& path) {
  auto text = path == "-" ? read_fd_to_string(STDIN_FILENO, "stdin", kMaxStatusFileBytes)
                          : read_file_to_string(path, kMaxStatusFileBytes);
  if (!text.ok()) {
    // Every reason a file cannot be read is "not found" for the exit code (3), with the reason said.
    if (text.status().code() == Code::invalid_argument) return text.status();
    return Error(Code::not_found, "cannot read " + path + ": " + text.status().message());
  }
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return Error(Code::invalid_argument, (path == "-" ? std::string("stdin") : path) +
                                             " is not a JSON object (a saved `castor status --json` output)");
  return j;
}

std::vector<std::string> status_nodes(const json& status) {
  std::vector<std::string> nodes;
  auto s = status.find("services");
  if (s == status.end() || !s->is_object()) return nodes;
  for (const char* k : {"node", "peer"}) {
    auto it = s->find(k);
    if (it != s->end() && it->is_string() && !it->get<std::string>().empty()) nodes.push_back(it->get<std::string>());
  }
  return nodes;
}

}  // namespace

int cmd_simulate(const std::vector<std::string>& argv) {
  auto args = parse_cli_args(argv, {{"--kill", true}, {"--fail", true}, {"--standby", true}, {"--relocate", true},
                                    {"--to", true}, {"--from", true}, {"--services", true}, {"--json", false},
                                    {"--config", true}, {"--socket", true}, {"--svcmgr-socket", true}});
  if (!args.ok()) return report_error("simulate", args.status());
  if (args->has("--help")) {
    std::cout << kSimulateHelp;
    return kExitOk;
  }
  if (!args->positional.empty())
    return report_error("simulate", Error(Code::invalid_argument, "unexpected argument '" + args->positional[0] + "'"));
  SimEvent ev;
  int events = 0;
  if (auto v = args->value("--kill")) ev = {SimEvent::Kind::kill, *v, ""}, ++events;
  if (auto v = args->value("--fail")) ev = {SimEvent::Kind::fail, "", *v}, ++events;
  if (auto v = args->value("--standby")) ev = {SimEvent::Kind::standby, *v, ""}, ++events;
  if (auto v = args->value("--relocate")) ev = {SimEvent::Kind::relocate, args->value("--to").value_or(""), *v}, ++events;
  if (events > 1)
    return report_error("simulate", Error(Code::invalid_argument, "one event at a time: --kill, --fail, --standby or --relocate"));
  if (args->has("--to") && ev.kind != SimEvent::Kind::relocate)
    return report_error("simulate", Error(Code::invalid_argument, "--to goes with --relocate SERVICE"));
  for (const char* k : {"--kill", "--fail", "--standby", "--relocate", "--to"})
    if (auto v = args->value(k); v && v->empty())
      return report_error("simulate", Error(Code::invalid_argument, std::string(k) + " needs a name"));

  const std::string config_path = args->value("--config").value_or(kDefaultConfig);
  QuorumdConfig qconfig;
  SvcmgrConfig sconfig;
  if (Status st = load_quorumd_ini(config_path, qconfig); !st.ok() && args->value("--config") && !args->has("--from"))
    return report_error("simulate", st);  // an explicit config file must load (for its sockets)
  (void)load_svcmgr_config(config_path, sconfig);  // a file without [svcmgr] keeps the defaults

  std::string source;
  Result<json> status = Error(Code::internal, "no status");
  if (auto from = args->value("--from")) {
    status = saved_status(*from);
    source = "from " + (*from == "-" ? std::string("stdin") : *from);
  } else {
    const std::string socket = args->value("--socket").value_or(qconfig.socket_path);
    const std::string svcmgr_socket = args->value("--svcmgr-socket").value_or(sconfig.socket);
    status = live_status(socket, svcmgr_socket);
    source = "live";
  }
  if (!status.ok()) return report_error("simulate", status.status());

  const std::string services_dir = args->value("--services").value_or(sconfig.services_dir);
  LoadResult loaded = load_service_dir(services_dir, status_nodes(*status));
  if (loaded.services.empty() && !loaded.errors.empty()) {
    std::cerr << loaded.error_text();
    return report_error("simulate", Error(Code::not_found, "no service definition could be read from " + services_dir));
  }
  for (const auto& e : loaded.errors) std::cerr << "castor simulate: " << printable(e.to_string()) << "\n";

  auto result = simulate_placement(*status, loaded.services, ev);
  if (!result.ok()) {
    Status st = result.status();
    if (args->has("--from") && st.code() == Code::corrupt) st = Error(Code::invalid_argument, *args->value("--from") + ": " + st.message());
    return report_error("simulate", st);
  }
  if (args->has("--json")) {
    nlohmann::ordered_json j = simulation_json(*result);
    j["source"] = source;
    j["services_dir"] = services_dir;
    std::cout << terminal_json(j) << "\n";
  } else {
    std::cout << "castor simulate: " << printable(describe_event(result->event)) << "\n  status: " << printable(source)
              << " (svcmgr of " << printable(result->node) << "); definitions from " << printable(services_dir) << "\n"
              << simulation_text(*result);
  }
  std::cout.flush();
  return std::cout ? kExitOk : kExitIo;
}

}  // namespace castor
