#include "tools/prometheus_metrics.h"

#include <cmath>
#include <cstdio>
#include <tuple>
#include <utility>
#include <vector>

namespace castor {
namespace {

using Json = json_codec::Json;
using Labels = std::vector<std::pair<std::string, std::string>>;

// Label values: backslash, double quote and line feed escaped (the text format's rule).
std::string escape_label(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(int64_t(v));
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

// The families in the order first declared, each with its samples (the format wants a family's samples
// together, after its HELP and TYPE).
class Exposition {
 public:
  void family(const std::string& name, const char* type, const std::string& help) {
    for (const auto& f : families_)
      if (f.name == name) return;
    families_.push_back({name, type, help, {}});
  }
  // A sample of the family `name` (declared before), under the series name `series` (name + _bucket, ...).
  void sample(const std::string& name, const std::string& series, const Labels& labels, double value) {
    for (auto& f : families_) {
      if (f.name != name) continue;
      std::string line = series;
      if (!labels.empty()) {
        line += "{";
        for (size_t i = 0; i < labels.size(); ++i) {
          if (i) line += ",";
          line += labels[i].first + "=\"" + escape_label(labels[i].second) + "\"";
        }
        line += "}";
      }
      f.lines.push_back(line + " " + number(value));
      return;
    }
  }
  void sample(const std::string& name, const Labels& labels, double value) { sample(name, name, labels, value); }
  std::string text() const {
    std::string out;
    for (const auto& f : families_) {
      if (f.lines.empty()) continue;
      out += "# HELP " + f.name + " " + f.help + "\n# TYPE " + f.name + " " + f.type + "\n";
      for (const auto& l : f.lines) out += l + "\n";
    }
    return out;
  }

 private:
  struct Family {
    std::string name, type, help;
    std::vector<std::string> lines;
  };
  std::vector<Family> families_;
};

const Json* member(const Json* o, const char* k) {
  if (!o || !o->is_object()) return nullptr;
  auto it = o->find(k);
  return it == o->end() ? nullptr : &*it;
}
std::optional<double> num(const Json* o, const char* k) {
  const Json* v = member(o, k);
  if (!v || !v->is_number()) return std::nullopt;
  return v->get<double>();
}
std::optional<bool> boolean(const Json* o, const char* k) {
  const Json* v = member(o, k);
  if (!v || !v->is_boolean()) return std::nullopt;
  return v->get<bool>();
}
std::optional<std::string> text(const Json* o, const char* k) {
  const Json* v = member(o, k);
  if (!v || !v->is_string()) return std::nullopt;
  return v->get<std::string>();
}

Labels with(Labels l, std::string k, std::string v) {
  l.emplace_back(std::move(k), std::move(v));
  return l;
}

void quorumd_metrics(Exposition& m, const Labels& node, const Json& s) {
  const Json* me = member(&s, "node");
  if (auto id = num(me, "id")) {
    m.family("castor_node_info", "gauge", "The reporting node's id and cluster (always 1).");
    const Json* cl = member(&s, "cluster");
    m.sample("castor_node_info",
             with(with(with(node, "node_id", number(*id)), "cluster", text(cl, "name").value_or("")), "cluster_uuid",
                  text(cl, "uuid").value_or("")),
             1);
  }
  if (auto inc = num(&s, "incarnation")) {
    m.family("castor_node_incarnation", "gauge", "This quorumd's incarnation (its life on the quorum disk).");
    m.sample("castor_node_incarnation", node, *inc);
  }
  if (auto phase = text(&s, "phase")) {
    m.family("castor_node_phase", "gauge", "This quorumd's phase (1 for the current one).");
    m.sample("castor_node_phase", with(node, "phase", *phase), 1);
  }
  if (auto sb = boolean(&s, "standby")) {
    m.family("castor_node_standby", "gauge", "Whether this node is in standby (runs no services).");
    m.sample("castor_node_standby", node, *sb ? 1 : 0);
  }
  const Json* lease = member(&s, "lease");
  if (auto v = boolean(lease, "valid")) {
    m.family("castor_lease_valid", "gauge", "Whether this node's lease is valid (it may run services).");
    m.sample("castor_lease_valid", node, *v ? 1 : 0);
  }
  if (auto r = num(lease, "remaining_ms")) {
    m.family("castor_lease_remaining_seconds", "gauge", "Time left on this node's lease.");
    m.sample("castor_lease_remaining_seconds", node, *r / 1000.0);
  }
  if (auto f = num(&s, "fences")) {
    m.family("castor_fences_total", "counter", "Times this quorumd fenced itself (since it started).");
    m.sample("castor_fences_total", node, *f);
  }
  if (auto w = num(member(&s, "write_latency_us"), "worst")) {
    m.family("castor_heartbeat_write_latency_worst_seconds", "gauge",
             "The worst heartbeat write latency of the last minute.");
    m.sample("castor_heartbeat_write_latency_worst_seconds", node, *w / 1e6);
  }
  if (const Json* h = member(&s, "write_latency_histogram")) {
    const Json* bounds = member(h, "bounds_us");
    const Json* counts = member(h, "counts");
    auto sum = num(h, "sum_us");
    auto count = num(h, "count");
    if (bounds && counts && bounds->is_array() && counts->is_array() && counts->size() == bounds->size() + 1 && sum &&
        count) {
      const std::string name = "castor_heartbeat_write_latency_seconds";
      m.family(name, "histogram", "Latency of this node's completed heartbeat writes (since quorumd started).");
      double cumulative = 0;
      bool ok = true;
      for (size_t i = 0; i < counts->size() && ok; ++i) {
        if (!(*counts)[i].is_number() || (i < bounds->size() && !(*bounds)[i].is_number())) ok = false;
      }
      for (size_t i = 0; i < counts->size() && ok; ++i) {
        cumulative += (*counts)[i].get<double>();
        const std::string le = i < bounds->size() ? number((*bounds)[i].get<double>() / 1e6) : "+Inf";
        m.sample(name, name + "_bucket", with(node, "le", le), cumulative);
      }
      if (ok) {
        m.sample(name, name + "_sum", node, *sum / 1e6);
        m.sample(name, name + "_count", node, *count);
      }
    }
  }
  const Json* peer = member(&s, "peer");
  const std::string peer_name = text(peer, "name").value_or("");
  const Labels peer_labels = with(node, "peer", peer_name);
  if (auto view = text(peer, "view")) {
    m.family("castor_peer_view", "gauge", "This node's verdict on its peer (1 for the current one).");
    bool known = false;
    for (PeerView v : {PeerView::unknown, PeerView::up, PeerView::dead, PeerView::down}) {
      const bool now = *view == peer_view_name(v);
      known = known || now;
      m.sample("castor_peer_view", with(peer_labels, "view", peer_view_name(v)), now ? 1 : 0);
    }
    if (!known) m.sample("castor_peer_view", with(peer_labels, "view", *view), 1);
  }
  if (auto inc = num(peer, "incarnation")) {
    m.family("castor_peer_incarnation", "gauge", "The peer's incarnation as last read from the quorum disk.");
    m.sample("castor_peer_incarnation", peer_labels, *inc);
  }
  if (auto age = num(peer, "heartbeat_age_ms")) {
    m.family("castor_peer_heartbeat_age_seconds", "gauge",
             "Time since this node last saw the peer's heartbeat advance (its own clock).");
    m.sample("castor_peer_heartbeat_age_seconds", peer_labels, *age / 1000.0);
  }
  if (auto w = num(member(peer, "write_latency_us"), "worst")) {
    m.family("castor_peer_heartbeat_write_latency_worst_seconds", "gauge",
             "The worst heartbeat write latency of its last minute, as the peer publishes it.");
    m.sample("castor_peer_heartbeat_write_latency_worst_seconds", peer_labels, *w / 1e6);
  }
  if (auto sb = boolean(peer, "standby")) {
    m.family("castor_peer_standby", "gauge", "Whether the peer is in standby.");
    m.sample("castor_peer_standby", peer_labels, *sb ? 1 : 0);
  }
  // Channels: the quorum disk and each LAN link.
  const Json* channels = member(&s, "channels");
  const Json* disk = member(channels, "disk");
  m.family("castor_channel_up", "gauge", "Whether a channel to the peer works (the quorum disk, each LAN link).");
  if (auto up = boolean(disk, "up")) m.sample("castor_channel_up", with(node, "channel", "disk"), *up ? 1 : 0);
  if (auto age = num(disk, "last_ok_write_age_ms")) {
    m.family("castor_disk_last_ok_write_age_seconds", "gauge", "Time since this node's last heartbeat write that completed.");
    m.sample("castor_disk_last_ok_write_age_seconds", node, *age / 1000.0);
  }
  if (const Json* lan = member(channels, "lan"); lan && lan->is_array()) {
    for (const Json& l : *lan) {
      auto name = text(&l, "name");
      if (!name) continue;
      const Labels ll = with(node, "channel", *name);
      if (auto up = boolean(&l, "up")) m.sample("castor_channel_up", ll, *up ? 1 : 0);
      if (auto rtt = num(&l, "rtt_ms")) {
        m.family("castor_lan_rtt_seconds", "gauge", "Round-trip time of a LAN heartbeat link.");
        m.sample("castor_lan_rtt_seconds", ll, *rtt / 1000.0);
      }
      if (auto loss = num(&l, "loss_pct")) {
        m.family("castor_lan_loss_ratio", "gauge", "Share of the peer's LAN heartbeats lost on a link (0 to 1).");
        m.sample("castor_lan_loss_ratio", ll, *loss / 100.0);
      }
      if (auto n = num(&l, "sent")) {
        m.family("castor_lan_datagrams_sent_total", "counter", "LAN heartbeat datagrams sent on a link.");
        m.sample("castor_lan_datagrams_sent_total", ll, *n);
      }
      if (auto n = num(&l, "send_errors")) {
        m.family("castor_lan_send_errors_total", "counter", "LAN heartbeat datagrams a link failed to send.");
        m.sample("castor_lan_send_errors_total", ll, *n);
      }
      if (auto n = num(&l, "accepted")) {
        m.family("castor_lan_datagrams_accepted_total", "counter", "The peer's LAN heartbeat datagrams accepted on a link.");
        m.sample("castor_lan_datagrams_accepted_total", ll, *n);
      }
      if (const Json* refused = member(&l, "refused"); refused && refused->is_object()) {
        m.family("castor_lan_datagrams_refused_total", "counter", "LAN datagrams refused on a link, by reason.");
        for (auto it = refused->begin(); it != refused->end(); ++it)
          if (it->is_number()) m.sample("castor_lan_datagrams_refused_total", with(ll, "reason", it.key()), it->get<double>());
      }
    }
  }
  if (auto r = boolean(member(&s, "promises"), "riding_through_stall")) {
    m.family("castor_riding_through_storage_stall", "gauge",
             "Whether this node keeps its lease through a shared storage stall on the peer's LAN promise.");
    m.sample("castor_riding_through_storage_stall", node, *r ? 1 : 0);
  }
  // The quorum device set (several devices only).
  if (const Json* devices = member(&s, "devices"); devices && devices->is_array()) {
    if (auto r = boolean(&s, "redundant")) {
      m.family("castor_quorum_devices_redundant", "gauge", "Whether every quorum device answers (one may then fail).");
      m.sample("castor_quorum_devices_redundant", node, *r ? 1 : 0);
    }
    m.family("castor_quorum_device_up", "gauge", "Whether a quorum device answers and is not failing.");
    m.family("castor_quorum_device_io_total", "counter", "I/Os on a quorum device, by operation and result.");
    m.family("castor_quorum_device_invalid_blocks_total", "counter", "Blocks read from a quorum device that did not verify.");
    m.family("castor_quorum_device_worst_latency_seconds", "gauge", "The worst I/O latency of a quorum device in the last minute.");
    for (const Json& d : *devices) {
      auto index = num(&d, "index");
      if (!index) continue;
      const Labels dl = with(with(node, "device", text(&d, "path").value_or("")), "index", number(*index));
      auto answering = boolean(&d, "answering");
      auto failing = boolean(&d, "failing");
      if (answering && failing) m.sample("castor_quorum_device_up", dl, *answering && !*failing ? 1 : 0);
      for (const auto& [key, op, result] : {std::tuple{"writes_ok", "write", "ok"}, std::tuple{"writes_failed", "write", "failed"},
                                            std::tuple{"reads_ok", "read", "ok"}, std::tuple{"reads_failed", "read", "failed"}})
        if (auto n = num(&d, key)) m.sample("castor_quorum_device_io_total", with(with(dl, "op", op), "result", result), *n);
      if (auto n = num(&d, "invalid_blocks")) m.sample("castor_quorum_device_invalid_blocks_total", dl, *n);
      if (auto w = num(&d, "worst_latency_us")) m.sample("castor_quorum_device_worst_latency_seconds", dl, *w / 1e6);
    }
  }
  if (const Json* pf = member(&s, "power_fence")) {
    if (auto n = num(pf, "fences")) {
      m.family("castor_power_fences_total", "counter", "Power fences of the peer this node began.");
      m.sample("castor_power_fences_total", peer_labels, *n);
    }
    if (auto n = num(pf, "failures")) {
      m.family("castor_power_fence_failures_total", "counter", "Power fences of the peer that failed or were not confirmed.");
      m.sample("castor_power_fence_failures_total", peer_labels, *n);
    }
  }
  if (const Json* t = member(&s, "timing_ms"); t && t->is_object()) {
    m.family("castor_timing_seconds", "gauge", "The cluster's timing parameters (io_timeout, lease, dead time, ...).");
    for (auto it = t->begin(); it != t->end(); ++it)
      if (it->is_number()) m.sample("castor_timing_seconds", with(node, "parameter", it.key()), it->get<double>() / 1000.0);
  }
}

void service_metrics(Exposition& m, const Labels& node, const ServicesReply& r) {
  m.family("castor_definitions_match", "gauge", "Whether both nodes hold the same service definitions.");
  m.sample("castor_definitions_match", node, r.definitions_match ? 1 : 0);
  m.family("castor_service_load_errors", "gauge", "Service files svcmgr could not load.");
  m.sample("castor_service_load_errors", node, double(r.load_errors.size()));
  static const char* const kStates[] = {"started", "starting", "stopping", "recovering", "stopped",
                                        "failed",  "disabled", "frozen",   "orphaned",   "unknown"};
  m.family("castor_service_state", "gauge", "A service's state as this node sees it (1 for the current one).");
  m.family("castor_service_owner_info", "gauge", "The node running a service (owner=\"\" when none; always 1).");
  m.family("castor_service_epoch", "gauge", "A service's epoch (its fencing token: every claim raises it).");
  m.family("castor_service_restarts", "gauge", "A service's restarts in its current restart window.");
  m.family("castor_service_max_restarts", "gauge", "The restarts a service may make in its window before it moves.");
  m.family("castor_service_last_start_duration_seconds", "gauge", "How long the service's last start on this node took.");
  m.family("castor_service_last_stop_duration_seconds", "gauge", "How long the service's last stop on this node took.");
  for (const ServiceStatus& s : r.services) {
    const Labels sl = with(node, "service", s.name);
    bool known = false;
    for (const char* st : kStates) {
      known = known || s.state == st;
      m.sample("castor_service_state", with(sl, "state", st), s.state == st ? 1 : 0);
    }
    if (!known) m.sample("castor_service_state", with(sl, "state", s.state), 1);
    m.sample("castor_service_owner_info", with(sl, "owner", s.owner), 1);
    m.sample("castor_service_epoch", sl, double(s.epoch));
    m.sample("castor_service_restarts", sl, double(s.restarts));
    m.sample("castor_service_max_restarts", sl, double(s.max_restarts));
    if (s.last_start_ms) m.sample("castor_service_last_start_duration_seconds", sl, double(*s.last_start_ms) / 1000.0);
    if (s.last_stop_ms) m.sample("castor_service_last_stop_duration_seconds", sl, double(*s.last_stop_ms) / 1000.0);
  }
}

}  // namespace

std::string render_prometheus_metrics(const MetricsInput& in) {
  Exposition m;
  const Labels node = {{"node", in.node}};
  m.family("castor_quorumd_up", "gauge", "Whether the node's quorumd answered.");
  m.sample("castor_quorumd_up", node, in.quorumd ? 1 : 0);
  m.family("castor_svcmgr_up", "gauge", "Whether the node's svcmgr answered.");
  m.sample("castor_svcmgr_up", node, in.services ? 1 : 0);
  if (in.quorumd && in.quorumd->is_object()) quorumd_metrics(m, node, *in.quorumd);
  if (in.services) service_metrics(m, node, *in.services);
  return m.text();
}

std::string metrics_node_name(const json_codec::Json* quorumd, const ServicesReply* services, const std::string& fallback) {
  if (quorumd && quorumd->contains("node") && (*quorumd)["node"].is_object() &&
      (*quorumd)["node"].value("name", json_codec::Json()).is_string())
    return (*quorumd)["node"]["name"].get<std::string>();
  if (!fallback.empty()) return fallback;
  return services ? services->node : std::string();
}

}  // namespace castor
