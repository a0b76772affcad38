#include "tools/drill_report.h"

#include <algorithm>
#include <cstdio>

namespace castor {

using json_codec::Json;

std::vector<std::string> drill_blockers(const ServicesReply& s, const Json* q) {
  std::vector<std::string> why;
  if (s.peer_view != PeerView::up) why.push_back("the peer " + s.peer + " is " + peer_view_name(s.peer_view) + ", not UP");
  if (s.standby) why.push_back(s.node + " is in standby");
  if (s.peer_standby) why.push_back(s.peer + " is in standby");
  if (!s.definitions_match) why.push_back("the service definitions differ between " + s.node + " and " + s.peer);
  for (const auto& e : s.load_errors) why.push_back("a service file does not load: " + e);
  for (const auto& svc : s.services) {
    if (svc.state == "failed" || svc.state == "orphaned" || svc.state == "unknown" || svc.state == "frozen" ||
        svc.state == "starting" || svc.state == "stopping" || svc.state == "recovering")
      why.push_back("service " + svc.name + " is " + svc.state);
    if (svc.pending) why.push_back("service " + svc.name + " has a " + *svc.pending + " pending");
    if (svc.orphaned) why.push_back("service " + svc.name + " is orphaned: " + *svc.orphaned);
  }
  if (!q) {
    why.push_back("quorumd does not answer here");
    return why;
  }
  auto obj = [&](const Json& j, const char* k) -> const Json* {
    return j.is_object() && j.contains(k) && j[k].is_object() ? &j[k] : nullptr;
  };
  if (const Json* lease = obj(*q, "lease"); !lease || !lease->value("valid", false))
    why.push_back(s.node + "'s lease is not valid");
  if (q->contains("fence_reason") && (*q)["fence_reason"].is_string())
    why.push_back("a fence is pending: " + (*q)["fence_reason"].get<std::string>());
  if (q->contains("redundant") && (*q)["redundant"].is_boolean() && !(*q)["redundant"].get<bool>())
    why.push_back("the quorum devices are degraded (a member does not answer)");
  if (const Json* ch = obj(*q, "channels")) {
    if (const Json* disk = obj(*ch, "disk"); disk && !disk->value("up", true)) why.push_back("the quorum disk channel is failing");
    if (ch->contains("lan") && (*ch)["lan"].is_array())
      for (const Json& l : (*ch)["lan"])
        if (l.is_object() && !l.value("up", true))
          why.push_back("LAN link " + l.value("name", std::string("?")) + " is down");
  }
  return why;
}

std::optional<ProbeOutage> probe_outage(const std::vector<ProbeSample>& samples, TimePoint from) {
  std::optional<TimePoint> down;
  int failed = 0;
  for (const ProbeSample& p : samples) {
    if (p.at < from) continue;
    if (!p.ok) {
      if (!down) down = p.at;
      ++failed;
    } else if (down) {
      return ProbeOutage{p.at - *down, failed};
    }
  }
  if (down) return ProbeOutage{Duration::max(), failed};  // never answered again
  return std::nullopt;
}

bool DrillReport::ok() const {
  for (const auto& m : moves)
    if (!m.ok) return false;
  return true;
}

namespace {
std::string seconds(int64_t ms) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f s", double(ms) / 1000.0);
  return b;
}
std::string pad(std::string s, size_t w) {
  if (s.size() < w) s.append(w - s.size(), ' ');
  return s;
}
}  // namespace

std::string render_drill_text(const DrillReport& r) {
  std::string out = "castor drill: cluster " + r.cluster + ", run on " + r.node + " (peer " + r.peer + "), " + r.when +
                    ", io_timeout " + std::to_string(r.io_timeout_ms) + " ms\n";
  out += "  checks before: peer UP, no standby, definitions match, lease valid, devices and channels up, every service healthy\n";
  for (const auto& s : r.skipped) out += "  not moved: " + s + "\n";
  // Columns as wide as their longest text (node names of any length keep the table readable).
  size_t ws = std::string("Service").size(), wm = std::string("Move").size();
  for (const auto& m : r.moves) {
    ws = std::max(ws, m.service.size());
    wm = std::max(wm, m.from.size() + 4 + m.to.size());
  }
  ws += 2;
  wm += 2;
  out += "\n  " + pad("Service", ws) + pad("Move", wm) + pad("Started after", 15) + "Outage seen by the probe\n";
  for (const auto& m : r.moves) {
    std::string outage;
    if (!m.ok) outage = "FAILED: " + m.error;
    else if (m.probe.empty()) outage = "no probe (the service file names none)";
    else if (m.outage_ms && *m.outage_ms == 0)
      outage = "none seen (every probe answered; " + std::to_string(m.probes) + " probes, " + m.probe + ")";
    else if (m.outage_ms)
      outage = seconds(*m.outage_ms) + " (" + std::to_string(m.failed_probes) + " of " + std::to_string(m.probes) +
               " probes failed, " + m.probe + ")";
    out += "  " + pad(m.service, ws) + pad(m.from + " -> " + m.to, wm) +
           pad(m.started_after_ms ? seconds(*m.started_after_ms) : "-", 15) + outage + "\n";
  }
  out += "\n  result: " + std::to_string(r.moves.size()) + " moves, ";
  int done = 0;
  for (const auto& m : r.moves) done += m.ok;
  out += std::to_string(done) + " completed; " +
         (r.ok() ? "every service is back where it was\n" : "NOT every move completed: see above\n");
  return out;
}

std::string render_drill_json(const DrillReport& r) {
  Json moves = Json::array();
  for (const auto& m : r.moves) {
    Json j{{"service", m.service}, {"from", m.from}, {"to", m.to}, {"ok", m.ok}};
    if (!m.error.empty()) j["error"] = m.error;
    j["started_after_ms"] = m.started_after_ms ? Json(*m.started_after_ms) : Json(nullptr);
    j["probe"] = m.probe.empty() ? Json(nullptr) : Json(m.probe);
    j["outage_ms"] = m.outage_ms ? Json(*m.outage_ms) : Json(nullptr);
    j["failed_probes"] = m.failed_probes;
    j["probes"] = m.probes;
    moves.push_back(std::move(j));
  }
  Json j{{"ok", r.ok()},        {"cluster", r.cluster}, {"node", r.node},     {"peer", r.peer},
         {"started", r.when},   {"io_timeout_ms", r.io_timeout_ms}, {"skipped", r.skipped}, {"moves", std::move(moves)}};
  return json_codec::dump(j) + "\n";
}

}  // namespace castor
