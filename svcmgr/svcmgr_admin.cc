// SvcmgrDaemon, the admin verbs on svcmgr's own socket (castor's requests): services (the status JSON),
// standby/unstandby, and per service enable, disable, relocate, restart, freeze, unfreeze, reset.
// Must never start or stop a service itself beyond recording the request (placement and Ownership act on
// it), and never claim an orphaned service runs nowhere unless the admin says so (reset).
#include <algorithm>
#include <nlohmann/json.hpp>
#include <utility>

#include "common/log.h"
#include "common/names.h"
#include "svcmgr/admin_state.h"
#include "svcmgr/svcmgr_daemon.h"

namespace castor {

std::string SvcmgrDaemon::owner_of(const Service& s) const {
  if (s.own->phase() == OwnershipPhase::running || s.own->phase() == OwnershipPhase::stopping) return node_name_;
  if (s.peer_unknown.empty() && s.peer_entry && (s.peer_entry->state == OwnershipState::owned || s.peer_entry->state == OwnershipState::releasing) &&
      liveness_.view == PeerView::up)
    return peer_name_;
  return "";
}

std::string SvcmgrDaemon::state_of(const Service& s) const {
  using St = ServiceRunner::State;
  if (s.orphaned()) return "orphaned";
  if (s.freeze_request ? *s.freeze_request
                       : admin_state(s.own->mine(), s.peer_entry, node_id_, s.def.autostart).frozen)
    return "frozen";
  const AdminState admin = admin_state(s.own->mine(), s.peer_entry, node_id_, s.def.autostart);
  const bool here = s.own->phase() == OwnershipPhase::running || s.own->phase() == OwnershipPhase::stopping;
  if (here) {
    switch (s.runner->state()) {
      case St::started: return "started";
      case St::starting: return s.restarting() ? "recovering" : "starting";
      case St::stopping: return s.restarting() ? "recovering" : "stopping";
      case St::failed: return "failed";
      case St::stop_failed: return "failed";
      case St::stopped: return s.restarting() ? "recovering" : "stopped";
    }
  }
  if (s.own->phase() == OwnershipPhase::claiming || s.own->phase() == OwnershipPhase::owning) return "starting";
  if (!s.peer_unknown.empty()) return "unknown";  // the peer may run it: its entry does not decode
  if (!owner_of(s).empty()) {
    if (s.peer_entry->state == OwnershipState::releasing) return "stopping";
    // The peer's heartbeat says which of its claims are started (HeartbeatRecord::started_mark); one that
    // does not publish it (an older Castor) is taken at its entry's word, as before.
    if (!peer_summary_.started_on_peer(s.peer_entry->epoch)) return "starting";
    return "started";
  }
  if (!admin.enabled) return "disabled";
  if (!s.last_failure().empty() && s.hard_failure()) return "failed";
  return "stopped";
}

std::string SvcmgrDaemon::services_json(TimePoint now) {
  // ordered_json: the keys in the order castor status has always seen them.
  using Json = nlohmann::ordered_json;
  Json out = Json::object();
  out["ok"] = true;
  out["node"] = node_name_;
  out["peer"] = peer_name_;
  out["peer_view"] = peer_view_name(liveness_.view);
  out["standby"] = me_standby_;
  out["peer_standby"] = peer_standby_;
  out["definitions_match"] = liveness_.view != PeerView::up || !peer_digest_known_ || peer_digest_ == digest_;
  out["load_errors"] = Json::array();
  for (const auto& e : load_errors_) out["load_errors"].push_back(e);
  Json services = Json::array();
  for (auto& [name, s] : services_) {
    Json j = Json::object();
    j["name"] = name;
    j["state"] = state_of(s);
    j["owner"] = owner_of(s);
    uint64_t epoch = s.own->mine().epoch;
    if (s.peer_entry && s.peer_entry->epoch > epoch) epoch = s.peer_entry->epoch;
    const bool peer_runs = owner_of(s) == peer_name_ && s.peer_entry;
    j["epoch"] = epoch;
    j["restarts"] = peer_runs ? int(s.peer_entry->restarts) : s.restarts();
    j["max_restarts"] = s.def.max_restarts;
    j["phase"] = ownership_phase_name(s.own->phase());
    if (!s.peer_unknown.empty()) j["peer_entry"] = "unknown (" + s.peer_unknown + ")";
    if (s.orphaned()) j["orphaned"] = s.orphan_text();
    if (s.metadata_pending) j["waiting_for"] = "agent meta-data";
    if (!s.last_failure().empty())
      j["last_failure"] = Json{{"reason", s.last_failure()}, {"ago_ms", to_ms(now - s.last_failure_at())}};
    const AdminState admin = admin_state(s.own->mine(), s.peer_entry, node_id_, s.def.autostart);
    if (admin.requested_node || s.relocate_to) {
      const uint32_t to = s.relocate_to ? *s.relocate_to : admin.requested_node;
      j["pending"] = "relocate to " + std::string(to == node_id_ ? node_name_ : peer_name_);
      if (auto blocked = relocate_blocker(s, to)) j["pending_blocked"] = *blocked;
    }
    if (s.runner && s.runner->last_start_took()) j["last_start_ms"] = to_ms(*s.runner->last_start_took());
    if (s.runner && s.runner->last_stop_took()) j["last_stop_ms"] = to_ms(*s.runner->last_stop_took());
    services.push_back(std::move(j));
  }
  out["services"] = std::move(services);
  // Never throws: bytes that are not UTF-8 (a file name, an agent's text) are replaced, not an exception.
  return out.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string SvcmgrDaemon::recent_history_json() const {
  // The newest records that fit in kMaxHistoryReply, oldest first; each one JSON object already.
  size_t from = recent_history_.size(), bytes = 0;
  while (from > 0 && bytes + recent_history_[from - 1].size() + 1 <= kMaxHistoryReply) bytes += recent_history_[--from].size() + 1;
  std::string out = "{\"ok\":true,\"records\":[";
  for (size_t i = from; i < recent_history_.size(); ++i) {
    if (i > from) out += ',';
    out += recent_history_[i];
  }
  return out + "]}";
}

void SvcmgrDaemon::set_standby(bool on, const std::string& asked_by, TimePoint now) {
  me_standby_ = on;
  link_->request(std::string("standby ") + (on ? "1" : "0"), [](const Result<std::string>&) {});
  log::notice(std::string(on ? "standby: moving every service away" : "unstandby") + (asked_by.empty() ? "" : " (" + asked_by + ")"),
              {{"node", node_name_}});
  if (!asked_by.empty()) {  // the admin's own requests are recorded by on_request with their answer
    AlertEvent e;
    e.event = "admin_request";
    e.desc = std::string(on ? "standby " : "unstandby ") + node_name_;
    e.reason = "accepted: " + asked_by;
    record(e, "admin");
  }
  for (auto& [n, s] : services_) evaluate(s, now);
}

void SvcmgrDaemon::on_request(ControlServer::ConnId conn, const ControlRequest& req) {
  const AdminReply r = admin_request(req);
  if (req.verb != "services" && req.verb != "history") {  // every request that may change something, with its answer
    AlertEvent e;
    e.event = "admin_request";
    e.desc = req.verb + (req.args.empty() ? "" : " " + req.args);
    e.reason = r.ok ? "accepted" : "refused: " + r.body;
    // Who asked, when not root (an operator: the web console's user, which names the person in its own log).
    if (auto uid = server_ ? server_->peer_uid(conn) : std::nullopt; uid && *uid != 0)
      e.reason += " (asked by uid " + std::to_string(*uid) + ")";
    record(e, "admin");
  }
  if (r.ok) server_->reply(conn, r.body);
  else server_->reply_error(conn, r.body, false);
}

std::optional<std::string> SvcmgrDaemon::relocate_refusal(Service& s, uint32_t target, TimePoint now) {
  // What this node knows for certain would keep placement (lib/policy/placement_policy.h) from ever carrying
  // it out: refused now, not left pending for a `castor relocate --wait` to time out on.
  const std::string& to = target == node_id_ ? node_name_ : peer_name_;
  if (std::find(s.def.nodes.begin(), s.def.nodes.end(), to) == s.def.nodes.end()) {
    std::string nodes;
    for (const std::string& n : s.def.nodes) nodes += (nodes.empty() ? "" : ", ") + n;
    return to + " is not among the nodes that may run " + s.def.name + " (nodes = " + nodes + ")";
  }
  if (target == node_id_) {
    if (me_standby_) return to + " is in standby: `castor unstandby " + to + "` first";
    if (s.failed_here(now)) return s.def.name + " failed on " + to + ": `castor reset " + s.def.name + "` on " + to + " first";
  }
  return std::nullopt;
}

std::optional<std::string> SvcmgrDaemon::relocate_blocker(const Service& s, uint32_t target) const {
  // What keeps it from moving as this node last heard from its peer, which may be a moment old (an unfreeze,
  // an unstandby or a reload on the peer, a peer still joining): the request stays pending and is carried
  // out when that changes; status and `castor relocate --wait` say what it waits for.
  const AdminState admin = admin_state(s.own->mine(), s.peer_entry, node_id_, s.def.autostart);
  if (s.freeze_request ? *s.freeze_request : admin.frozen) return s.def.name + " is frozen";
  if (target != node_id_) {
    if (liveness_.view != PeerView::up) return peer_name_ + " is not up here (" + std::string(peer_view_name(liveness_.view)) + ")";
    if (peer_standby_) return peer_name_ + " is in standby";
  }
  if (liveness_.view == PeerView::up && peer_digest_known_ && peer_digest_ != digest_)
    return "the two nodes hold different service definitions";
  return std::nullopt;
}

SvcmgrDaemon::AdminReply SvcmgrDaemon::admin_request(const ControlRequest& req) {
  const TimePoint now = clock_.now();
  auto reply_ok = [](const std::string& msg) {
    nlohmann::ordered_json j = {{"ok", true}, {"message", msg}};
    return AdminReply{true, j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace)};
  };
  auto reply_error = [](const std::string& msg) { return AdminReply{false, msg}; };
  if (req.verb == "services") return AdminReply{true, services_json(now)};
  if (req.verb == "history") return AdminReply{true, recent_history_json()};
  if (req.verb == "standby" || req.verb == "unstandby") {
    if (req.args == node_name_) {
      if (req.verb == "standby" && peer_standby_ && liveness_.view == PeerView::up)
        return reply_error("standby " + node_name_ + ": " + peer_name_ + " is in standby: with both in standby every "
                           "service would stop; take " + peer_name_ + " out of standby first");
      set_standby(req.verb == "standby", "", now);
      return reply_ok(req.verb + " " + node_name_ + " accepted");
    }
    if (req.args != peer_name_)
      return reply_error(req.verb + " " + req.args + ": no such node (the nodes are " + node_name_ + " and " + peer_name_ + ")");
    // The peer's standby, asked from here: carried in this node's heartbeat; the peer's svcmgr acts on it as
    // on its own admin's (docs/design.md "Standby").
    if (liveness_.view != PeerView::up)
      return reply_error(req.verb + " " + peer_name_ + ": " + peer_name_ + " is not up here (" + peer_view_name(liveness_.view) +
                         "): it could not read the request; run it on " + peer_name_ + " when it is back");
    if (req.verb == "standby" && me_standby_)
      return reply_error("standby " + peer_name_ + ": " + node_name_ + " is in standby itself: with both in standby every "
                         "service would stop; take " + node_name_ + " out of standby first");
    if (!peer_takes_requests_)
      return reply_error(req.verb + " " + peer_name_ + ": " + peer_name_ +
                         " takes no requests from its peer (its svcmgr is not running, or is older): run it on " + peer_name_ + " itself");
    link_->request(std::string("peer-request ") + req.verb, [this, verb = req.verb](const Result<std::string>& r) {
      if (!r.ok()) log::warning("quorumd refused the request for the peer", {{"node", peer_name_}, {"request", verb}, {"reason", r.status().to_string()}});
    });
    log::notice(req.verb + " of the peer asked: carried in the next heartbeat", {{"node", peer_name_}});
    return reply_ok(req.verb + " " + peer_name_ + " asked: " + peer_name_ + " acts on it once it reads this node's next heartbeat");
  }
  // Verbs with a service name, and an optional node.
  std::string name = req.args, node;
  if (auto sp = req.args.find(' '); sp != std::string::npos) {
    name = req.args.substr(0, sp);
    node = req.args.substr(sp + 1);
  }
  // A service name becomes a path (its saved definition copy, its cgroup): never one that could leave its directory.
  if (!is_valid_service_name(name)) return reply_error("'" + name + "' is not a valid service name (1-63 of [A-Za-z0-9._-], starting with a letter or digit)");
  auto it = services_.find(name);
  if (it == services_.end()) {
    return reply_error("no service named '" + name + "'");
  }
  Service& s = it->second;
  if (s.orphaned()) {
    if (req.verb != "reset") {
      return reply_error(name + " is " + s.orphan_text());
    }
    // The admin says it no longer runs here: release its entry, then drop it.
    log::notice("admin reset of an orphaned service: it was stopped by hand; releasing its entry", {{"service", name}});
    if (s.clear_orphan()) {
      // From now on it is the file's definition that runs here: its copy is the one to stop it with.
      if (Status st = definitions_.save(s.file_def, {node_name_, peer_name_}); !st.ok())
        log::warning("no saved copy of the service definition", {{"service", name}, {"reason", st.to_string()}});
    }
    s.own->on_stopped();
    s.own->set_intent(Intent::release, 0);
    drive(s, now);
    return reply_ok("reset " + name + " accepted: its entry is released");
  }
  if (s.adopt_pending) {
    // Its entry is up and whether the file's definition is the one it runs under is not decided yet.
    return reply_error(name + " waits for its agents' meta-data: whether it runs here under this definition is "
                              "not known yet; try again in a moment");
  }
  uint32_t node_id = 0;
  if (!node.empty()) {
    if (node == node_name_) node_id = node_id_;
    else if (node == peer_name_) node_id = peer_id_;
    else {
      return reply_error("no node named '" + node + "'");
    }
  }
  std::string pending;  // what an accepted request still waits for
  if (req.verb == "disable") {
    s.disable_requested = true;
    s.relocate_to.reset();
  } else if (req.verb == "enable") {
    s.disable_requested = false;
    s.own->touch(node_id);
  } else if (req.verb == "relocate") {
    uint32_t target = node_id ? node_id : (owner_of(s) == node_name_ ? peer_id_ : node_id_);
    if (auto why = relocate_refusal(s, target, now)) return reply_error("relocate " + name + ": " + *why);
    if (owner_of(s) == node_name_) s.relocate_to = target;
    else s.own->touch(target);
    if (auto blocked = relocate_blocker(s, target)) pending = "pending while " + *blocked + " (as " + node_name_ + " last heard)";
  } else if (req.verb == "restart") {
    if (owner_of(s) == node_name_) {
      s.restart_in_place(now);
    } else if (!owner_of(s).empty()) {
      s.restart_request = true;  // the owner reads it from my entry
      s.own->refresh();
    } else {
      return reply_error(name + " does not run anywhere: use enable");
    }
  } else if (req.verb == "freeze" || req.verb == "unfreeze") {
    s.freeze_request = req.verb == "freeze";
    s.own->refresh();
  } else if (req.verb == "reset") {
    s.reset_failures();
  } else {
    return reply_error("unknown verb '" + req.verb + "'");
  }
  if (pending.empty()) log::notice("admin request: " + req.verb, {{"service", name}, {"node", node}});
  else log::notice("admin request: " + req.verb + ", pending", {{"service", name}, {"node", node}, {"reason", pending}});
  evaluate(s, now);
  return reply_ok(req.verb + " " + name + " accepted" + (pending.empty() ? "" : "; " + pending));
}

}  // namespace castor
