// castor status: both nodes at a glance — from the local quorumd over its control socket, or, when it does
// not run, from the quorum disk itself (read-only), saying which.
#include <iostream>
#include <thread>
#include <nlohmann/json.hpp>

#include "disk/aio_block_device.h"
#include "config/quorumd_config.h"
#include "config/svcmgr_config.h"
#include "disk/disk_snapshot.h"
#include "tools/disk_read_auth.h"
#include "common/cli_args.h"
#include "tools/cli_commands.h"
#include "control/control_client.h"
#include "control/json_codec.h"
#include "disk/device_probe.h"
#include "tools/exit_codes.h"
#include "tools/cli_quorum_device.h"
#include "tools/prometheus_metrics.h"
#include "tools/status_channels.h"
#include "tools/terminal_output.h"

namespace castor {
namespace {

// Ordered: --json passes quorumd's reply through with its keys in quorumd's order, and the channels
// block shows the refusal counts in that order.
using json = nlohmann::ordered_json;

const char* kStatusHelp =
    "Usage: castor status [--json | --prometheus] [--watch] [--socket PATH] [--svcmgr-socket PATH] [--config FILE]\n"
    "                     [--device DEVICE] [--authkey PATH]\n"
    "\n"
    "Shows both nodes: state, incarnation, heartbeat age, heartbeat write latency (last and worst of the\n"
    "last minute), lease validity, and the timing parameters; each channel to the peer (the quorum disk,\n"
    "each LAN link: up or down, age, RTT, loss, refused datagrams) with what it tells (a peer alive on the\n"
    "LAN but silent on the disk, a storage stall and how it ends); then the services from svcmgr: state,\n"
    "owner, epoch, restarts against the limit, last failure and pending request (svcmgr's socket: \n"
    "--svcmgr-socket, or [svcmgr] socket in the config file, default /run/castor/svcmgr.sock).\n"
    "Asks the local quorumd (socket default /run/castor/quorumd.sock, or the one in the config file); when\n"
    "it does not answer, reads the quorum disk directly (--device, or the device in the config file,\n"
    "default /etc/castor/castor.ini) and says so: the lease is then unknown. On a disk whose records are\n"
    "authenticated, each heartbeat's tag is verified with the cluster key (--authkey, or authkey in the\n"
    "config file): a forged one is shown INVALID; without the key it says the tags were not verified.\n"
    "\n"
    "  --json     machine-readable output (\"source\": \"daemon\" or \"disk\")\n"
    "  --watch    refresh every second until interrupted\n"
    "  --prometheus  this node's metrics in Prometheus's text format (for node_exporter's textfile\n"
    "             collector): castor_quorumd_up and castor_svcmgr_up say whether each daemon answered;\n"
    "             the quorum disk is not read in its place. Exit 0 whenever the metrics were written.\n"
    "\n"
    "Exit 0 when shown, 3 when neither the daemon nor the device could be reached.\n";

constexpr const char* kDefaultConfig = "/etc/castor/castor.ini";

std::string ms_text(int64_t ms) { return format_duration(Millis(ms)); }

std::string us_text(int64_t us) { return format_duration(std::chrono::microseconds(us)); }

// Non-throwing reads of quorumd's status reply for display: a field that is missing or of another type
// shows as the default ("?", 0) rather than throwing.
const json& object_at(const json& o, const char* k) {
  static const json kEmpty = json::object();
  auto it = o.find(k);  // find() on a non-object is end(): never throws
  return it != o.end() && it->is_object() ? *it : kEmpty;
}
std::string text_at(const json& o, const char* k, const std::string& def) {
  auto it = o.find(k);
  return it != o.end() && it->is_string() ? printable(it->get<std::string>()) : def;
}
int64_t int_at(const json& o, const char* k, int64_t def = 0) {
  auto it = o.find(k);
  return it != o.end() && it->is_number_integer() ? it->get<int64_t>() : def;
}
uint64_t uint_at(const json& o, const char* k) {
  auto it = o.find(k);
  return it != o.end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
}
bool bool_at(const json& o, const char* k) {
  auto it = o.find(k);
  return it != o.end() && it->is_boolean() && it->get<bool>();
}

std::string timing_line(const json& t) {
  return "io_timeout " + ms_text(int_at(t, "io_timeout")) + ": renew " + ms_text(int_at(t, "renew_interval")) +
         ", lease " + ms_text(int_at(t, "lease")) + ", kill grace " + ms_text(int_at(t, "kill_grace")) +
         ", watchdog " + ms_text(int_at(t, "watchdog")) + ", dead time " + ms_text(int_at(t, "dead"));
}

void print_row(const std::string& name, const std::string& id, const std::string& state, const std::string& inc,
               const std::string& hb, const std::string& lat, const std::string& lease) {
  char buf[512];
  std::snprintf(buf, sizeof buf, "  %-14s %-3s %-9s %-21s %-13s %-21s %s\n", name.c_str(), id.c_str(), state.c_str(),
                inc.c_str(), hb.c_str(), lat.c_str(), lease.c_str());
  std::cout << buf;
}

int show_daemon(const json& s, bool as_json, const std::string& svcmgr_socket) {
  if (as_json) {
    json out = s;
    out["source"] = "daemon";
    std::string services = services_status_text(svcmgr_socket, true);
    if (!services.empty()) out["services"] = json::parse(services, nullptr, false);
    std::cout << terminal_json(out) << "\n";
    return kExitOk;
  }
  for (const char* k : {"node", "peer", "lease", "cluster", "timing_ms", "write_latency_us"})
    if (!s.contains(k) || !s[k].is_object())
      return report_error("status", Error(Code::corrupt, std::string("unexpected reply from quorumd: no '") + k + "' object"));
  if (!s.contains("fence_reason"))
    return report_error("status", Error(Code::corrupt, "unexpected reply from quorumd: no 'fence_reason'"));
  const json& node = s["node"];
  const json& peer = s["peer"];
  const json& lease = s["lease"];
  std::cout << "Cluster " << text_at(s["cluster"], "name", "?") << " (UUID " << text_at(s["cluster"], "uuid", "?")
            << "), quorum disk " << text_at(s, "device", "?") << " — from quorumd (pid " << int_at(s, "pid") << ")\n";
  std::cout << "  " << timing_line(s["timing_ms"]) << "\n";
  if (const json& wd = object_at(s, "watchdog"); !wd.empty()) {
    const std::string kind = text_at(wd, "kind", "");
    if (kind == "none-unsafe") std::cout << "  WATCHDOG: none — UNSAFE (allow_unsafe_no_watchdog = yes)\n";
    else if (kind == "test-standin") std::cout << "  watchdog: TEST STAND-IN (not a hardware watchdog)\n";
    else if (kind == "hardware") std::cout << "  watchdog: " << text_at(wd, "device", "?") << "\n";
  }
  std::cout << devices_status_text(s);
  if (s.contains("corrupt_blocks") && s["corrupt_blocks"].is_array() && !s["corrupt_blocks"].empty()) {
    std::cout << "  own region: " << s["corrupt_blocks"].size() << " block(s) found corrupt at start, being rewritten\n";
  }
  std::cout << "\n";
  print_row("Node", "Id", "State", "Incarnation", "Heartbeat", "Write latency (worst)", "Lease");
  std::string phase = text_at(s, "phase", "?");
  for (auto& c : phase) c = char(std::toupper(static_cast<unsigned char>(c)));
  if (bool_at(s, "standby")) phase += ",standby";
  std::string lease_text = bool_at(lease, "valid") ? "valid, " + ms_text(int_at(lease, "remaining_ms")) + " left"
                                                   : "NOT VALID";
  if (s["fence_reason"].is_string()) lease_text += " (fenced: " + printable(s["fence_reason"].get<std::string>()) + ")";
  const json& lat = s["write_latency_us"];
  print_row(text_at(node, "name", "?") + " (local)", std::to_string(int_at(node, "id")), phase,
            std::to_string(uint_at(s, "incarnation")), "-",
            us_text(int_at(lat, "last")) + " (" + us_text(int_at(lat, "worst")) + ")", lease_text);
  std::string peer_state = text_at(peer, "view", "?");
  if (peer_state == "UP") peer_state = text_at(peer, "state", peer_state);
  if (bool_at(peer, "standby")) peer_state += ",standby";
  std::string age = peer.contains("heartbeat_age_ms") && peer["heartbeat_age_ms"].is_number_integer()
                        ? ms_text(peer["heartbeat_age_ms"].get<int64_t>()) + " ago"
                        : "-";
  std::string peer_lat = "-";
  if (const json& pl = object_at(peer, "write_latency_us"); peer.contains("write_latency_us"))
    peer_lat = us_text(int_at(pl, "last")) + " (" + us_text(int_at(pl, "worst")) + ")";
  print_row(text_at(peer, "name", "?"), std::to_string(int_at(peer, "id")), peer_state,
            std::to_string(uint_at(peer, "incarnation")), age, peer_lat, "-");
  std::cout << channels_status_text(s);
  std::cout << services_status_text(svcmgr_socket, false);
  return kExitOk;
}

int show_disk(const std::string& setting, const std::string& why, bool as_json, const CliDiskAuth& authkey) {
  BootClock clock;
  auto dev = open_quorum_disk_for_cli(setting, clock, std::chrono::seconds(10));
  if (!dev.ok()) return report_error("status", dev.status().with_context(why));
  const std::string path = dev->describe;
  auto read = read_disk_for_cli(*dev->device, clock, std::chrono::seconds(10), authkey);
  if (!read.ok()) return report_error("status", read.status());
  const DiskSnapshot* snap = &read->snap;
  const Superblock* sb = snap->valid_superblock();
  if (!sb) return report_error("status", Error(Code::corrupt, path + " has no valid Castor superblock"));
  const int64_t now = wall_time_ns();
  if (as_json) {
    using Json = json_codec::Json;
    const Timing& t = sb->timing;
    Json j = Json::object();
    j["source"] = "disk";
    j["reason"] = why;
    j["device"] = path;
    j["authenticated"] = read->authenticated_disk;
    j["tags_verified"] = read->tags_verified;
    j["tags"] = read->tags;
    j["cluster"] = Json{{"name", sb->cluster_name}, {"uuid", sb->cluster_uuid.to_string()}};
    j["timing_ms"] = Json{{"io_timeout", t.io_timeout.count()}, {"renew_interval", t.renew_interval.count()},
                          {"lease", t.lease.count()},           {"kill_grace", t.kill_grace.count()},
                          {"watchdog", t.watchdog.count()},     {"dead", t.dead.count()}};
    Json nodes = Json::array();
    for (const auto& n : snap->nodes) {
      Json node = Json::object();
      node["id"] = n.node_id;
      node["name"] = sb->nodes[n.node_id - 1].name;
      if (const auto& hb = n.heartbeat.record) {
        node["state"] = node_state_name(hb->state);
        node["incarnation"] = hb->incarnation;
        node["seq"] = hb->seq;
        node["written_wall_age_ms"] = to_ms(Duration(now - hb->wall_time_ns));
        node["write_latency_us"] = Json{{"last", hb->last_io_latency_us}, {"worst", hb->max_io_latency_us}};
      } else {
        node["state"] = n.heartbeat.status.code() == Code::not_found ? "never written" : "invalid";
        if (n.heartbeat.status.code() != Code::not_found) node["error"] = n.heartbeat.status.message();
      }
      nodes.push_back(std::move(node));
    }
    j["nodes"] = std::move(nodes);
    std::cout << terminal_json(j) << "\n";
    return kExitOk;
  }
  std::cout << "Cluster " << printable(sb->cluster_name) << " (UUID " << sb->cluster_uuid.to_string() << "), quorum disk " << path
            << " — read from the disk: " << why << "\n  " << printable(read->tags) << "\n";
  std::cout << "  io_timeout " << format_duration(sb->timing.io_timeout) << ": renew "
            << format_duration(sb->timing.renew_interval) << ", lease " << format_duration(sb->timing.lease)
            << ", kill grace " << format_duration(sb->timing.kill_grace) << ", watchdog "
            << format_duration(sb->timing.watchdog) << ", dead time " << format_duration(sb->timing.dead) << "\n\n";
  print_row("Node", "Id", "State", "Incarnation", "Written", "Write latency (worst)", "Lease");
  for (const auto& n : snap->nodes) {
    const std::string name = printable(sb->nodes[n.node_id - 1].name);
    if (const auto& hb = n.heartbeat.record) {
      print_row(name, std::to_string(n.node_id), node_state_name(hb->state), std::to_string(hb->incarnation),
                format_duration(Duration(now - hb->wall_time_ns)) + " ago*",
                us_text(hb->last_io_latency_us) + " (" + us_text(hb->max_io_latency_us) + ")", "unknown");
    } else {
      print_row(name, std::to_string(n.node_id), n.heartbeat.status.code() == Code::not_found ? "-" : "INVALID", "-",
                "never", "-", "unknown");
    }
  }
  std::cout << "\n  * by the writer's wall clock (display only); liveness is judged by quorumd on its own clock\n";
  return kExitOk;
}

}  // namespace

int status_once(const std::vector<std::string>& argv);

// --prometheus: both daemons asked, each one's absence a metric, never a fallback to the disk (a scrape
// must not read the quorum disk, and a node whose quorumd is down is exactly what the metric must say).
int show_prometheus(const std::string& socket, const std::string& svcmgr_socket, const std::string& config_node) {
  json status;
  bool have_status = false;
  if (auto client = ControlClient::connect(socket, std::chrono::seconds(5)); client.ok()) {
    if (auto reply = client->request("status"); reply.ok()) {
      status = json::parse(*reply, nullptr, false);
      have_status = !status.is_discarded() && status.is_object() && status.value("ok", false);
      if (!have_status) std::cerr << "castor status: quorumd on " << socket << " gave no usable status\n";
    } else {
      std::cerr << "castor status: quorumd on " << socket << " did not answer: " << reply.status().message() << "\n";
    }
  } else {
    std::cerr << "castor status: quorumd is not running here (" << client.status().message() << ")\n";
  }
  std::optional<ServicesReply> services;
  if (auto reply = ControlClient::ask(svcmgr_socket, "services", std::chrono::seconds(5)); reply.ok()) {
    if (auto parsed = parse_services_reply(*reply); parsed.ok()) services = std::move(*parsed);
    else std::cerr << "castor status: svcmgr's reply does not decode: " << parsed.status().message() << "\n";
  }
  MetricsInput in;
  in.quorumd = have_status ? &status : nullptr;
  in.services = services ? &*services : nullptr;
  in.node = metrics_node_name(in.quorumd, in.services, config_node);
  std::cout << render_prometheus_metrics(in);
  std::cout.flush();
  return std::cout ? kExitOk : kExitIo;
}

int cmd_status(const std::vector<std::string>& argv) {
  std::vector<std::string> rest;
  bool watch = false;
  for (const auto& a : argv) {
    if (a == "--watch") watch = true;
    else rest.push_back(a);
  }
  if (!watch) return status_once(rest);
  for (;;) {  // like crm_mon: refresh every second until interrupted
    std::cout << "\033[H\033[2J" << format_wall_time(wall_time_ns()) << "  (castor status --watch; Ctrl-C to stop)\n";
    int rc = status_once(rest);
    std::cout.flush();
    if (rc == kExitUsage) return rc;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

int status_once(const std::vector<std::string>& argv) {
  auto args = parse_cli_args(argv, {{"--json", false}, {"--prometheus", false}, {"--socket", true}, {"--config", true},
                                    {"--device", true}, {"--svcmgr-socket", true}, {"--authkey", true}});
  if (!args.ok()) return report_error("status", args.status());
  if (args->has("--help")) {
    std::cout << kStatusHelp;
    return kExitOk;
  }
  const bool as_json = args->has("--json");
  QuorumdConfig config;
  const std::string config_path = args->value("--config").value_or(kDefaultConfig);
  Status config_status = load_quorumd_ini(config_path, config);
  if (!config_status.ok() && args->value("--config"))
    return report_error("status", config_status);  // an explicit config file must load
  const std::string socket = args->value("--socket").value_or(config.socket_path);
  // svcmgr's socket from the same file ([svcmgr] socket), as quorumd's comes from [quorumd].
  SvcmgrConfig svcmgr_config;
  (void)load_svcmgr_config(config_path, svcmgr_config);  // a file without [svcmgr] keeps the default
  const std::string svcmgr_socket = args->value("--svcmgr-socket").value_or(svcmgr_config.socket);
  if (args->has("--prometheus")) {
    if (as_json) return report_error("status", Error(Code::invalid_argument, "--json and --prometheus: choose one"));
    return show_prometheus(socket, svcmgr_socket, config.node);
  }

  std::string why;
  if (auto client = ControlClient::connect(socket, std::chrono::seconds(5)); client.ok()) {
    auto reply = client->request("status");
    if (reply.ok()) {
      json s = json::parse(*reply, nullptr, false);
      if (!s.is_discarded() && s.value("ok", false)) {
        return show_daemon(s, as_json, svcmgr_socket);
      }
      why = "quorumd on " + socket + " gave no usable status";
    } else {
      why = "quorumd on " + socket + " did not answer: " + reply.status().message();
    }
  } else {
    why = "quorumd is not running here (" + client.status().message() + ")";
  }
  std::string device = args->value("--device").value_or(config.device);
  if (device.empty())
    return report_error("status", Error(Code::not_found, why + "; and no quorum device is known (--device, or " +
                                                             config_path + ")"));
  return show_disk(device, why, as_json, cli_disk_auth(args->value("--authkey"), config_path));
}

}  // namespace castor
