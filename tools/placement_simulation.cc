// The simulation behind `castor simulate` (tools/placement_simulation.h): the status and the event become each
// node's PlacementFacts as that node's svcmgr fills them (svcmgr_supervision.cc, evaluate), and
// decide_placement -- the policy svcmgr runs, not a copy -- is asked node by node until nothing changes.
// Must never decide a placement itself: every "who runs it" here is decide_placement's answer; what is decided
// here is only what svcmgr decides outside the policy (a failure's recovery, after_runner) and the outage.
#include "tools/placement_simulation.h"

#include <algorithm>
#include <cstdio>

#include "common/text_sanitize.h"
#include "control/services_codec.h"
#include "disk/timing.h"
#include "policy/placement_policy.h"

namespace castor {
namespace {

using json = nlohmann::json;

// One node as the simulation sees it once the event has happened.
struct SimNode {
  std::string name;
  uint32_t id = 0;
  bool alive = true;
  bool standby = false;
  PeerView view_of_peer = PeerView::unknown;  // what this node's quorumd says of the other
};

struct SimCluster {
  SimNode n[2];  // [0]: the node whose svcmgr answered, [1]: its peer
  bool definitions_match = true;
  int index(const std::string& name) const { return name == n[0].name ? 0 : name == n[1].name ? 1 : -1; }
};

// What is the same for both nodes' facts about one service (the admin's words travel through the disk).
struct ServiceWords {
  bool enabled = true;
  bool frozen = false;
  std::optional<std::string> relocate_to;
  bool failed_here[2] = {false, false};
};

PlacementFacts facts_for(const SimCluster& c, int me, const ServiceDefinition& def, const ServiceWords& w,
                         bool running_here) {
  const SimNode& m = c.n[me];
  const SimNode& p = c.n[1 - me];
  PlacementFacts f;
  f.def = &def;
  f.me = m.name;
  f.peer = p.name;
  f.me_id = m.id;
  f.peer_id = p.id;
  f.peer_view = m.view_of_peer;
  f.me_standby = m.standby;
  f.peer_standby = p.standby;
  f.running_here = running_here;
  // The simulation asks the owner first: a node that is not the owner sees no running entry of the peer (a
  // dead peer's is voided by the confirmed verdict, as Ownership::peer_up() says).
  f.running_on_peer = false;
  f.enabled = w.enabled;
  f.frozen = w.frozen;
  f.failed_here = w.failed_here[me];
  // As svcmgr: moves need both nodes to hold the same definitions, and a peer that is gone cannot disagree.
  f.definitions_match = m.view_of_peer != PeerView::up || c.definitions_match;
  f.relocate_to = w.relocate_to;
  return f;
}

struct Settled {
  std::string owner;     // "" = nowhere
  std::string rule;      // "NODE: reason" of the decision that settled it
  bool settled = true;   // false: still changing after the rounds allowed
};

// Each alive node's svcmgr asks the policy, the owner first, until no node changes its mind. A release to a
// node is written on the disk as "released to N", which both nodes read as a request that N run it
// (svcmgr/admin_state.h), until the node that takes it writes its own, newer entry.
Settled settle(const SimCluster& c, const ServiceDefinition& def, ServiceWords w, std::string owner) {
  Settled out;
  std::string released_why;
  for (int round = 0; round < 6; ++round) {
    bool changed = false;
    if (const int o = c.index(owner); o >= 0 && c.n[o].alive) {
      const PlacementDecision d = decide_placement(facts_for(c, o, def, w, true));
      if (d.intent == Intent::hold) {
        if (out.rule.empty()) out.rule = c.n[o].name + ": " + d.reason;
      } else {
        released_why = c.n[o].name + ": " + d.reason;
        if (d.target == c.n[0].id || d.target == c.n[1].id) w.relocate_to = c.n[d.target == c.n[0].id ? 0 : 1].name;
        owner.clear();
        changed = true;
      }
    } else {
      owner.clear();
    }
    if (owner.empty()) {
      std::string why;
      for (int i = 0; i < 2 && owner.empty(); ++i) {
        if (!c.n[i].alive) continue;
        const PlacementDecision d = decide_placement(facts_for(c, i, def, w, false));
        if (d.intent == Intent::hold) {
          owner = c.n[i].name;
          out.rule = (released_why.empty() ? "" : released_why + "; then ") + c.n[i].name + ": " + d.reason;
          w.relocate_to.reset();  // its claim is the newest entry: no request stands any more
          changed = true;
        } else {
          why += (why.empty() ? "" : "; ") + c.n[i].name + ": " + d.reason;
        }
      }
      if (owner.empty()) {
        out.rule = released_why.empty() ? why : released_why + (why.empty() ? "" : "; then " + why);
        if (out.rule.empty()) out.rule = "no node is up";
      }
    }
    if (!changed) {
      out.owner = owner;
      return out;
    }
  }
  out.owner = owner;
  out.settled = false;
  return out;
}

std::string ms_text(int64_t ms) { return std::to_string(ms) + "ms"; }

// Non-throwing reads of the quorumd part of the status.
const json* object_at(const json& o, const char* k) {
  auto it = o.find(k);
  return it != o.end() && it->is_object() ? &*it : nullptr;
}
std::optional<std::string> text_at(const json* o, const char* k) {
  if (!o) return std::nullopt;
  auto it = o->find(k);
  return it != o->end() && it->is_string() ? std::optional<std::string>(it->get<std::string>()) : std::nullopt;
}
std::optional<int64_t> int_at(const json* o, const char* k) {
  if (!o) return std::nullopt;
  auto it = o->find(k);
  return it != o->end() && it->is_number_integer() ? std::optional<int64_t>(it->get<int64_t>()) : std::nullopt;
}

// What the local quorumd says of how its peer is fenced: "power" (a power fence answers first), "none" (the
// peer runs without a watchdog: no takeover on the dead time), or "" (the dead time alone).
std::string peer_fence_kind(const json& status) {
  const json* pf = object_at(status, "power_fence");
  if (!pf) return "";
  auto it = pf->find("peer_levels");
  if (it == pf->end() || !it->is_array()) return "";
  std::string kind;
  for (const auto& l : *it) {
    if (!l.is_object()) continue;
    auto k = l.find("kind");
    if (k == l.end() || !k->is_string()) continue;
    if (*k == "none") return "none";
    if (*k == "power" && kind.empty()) kind = "power";
  }
  return kind;
}

// "stop 35ms + start 212ms" with each unknown part said so.
std::string parts_text(std::initializer_list<std::pair<const char*, std::optional<int64_t>>> parts) {
  std::string s;
  for (const auto& [what, v] : parts) {
    if (!s.empty()) s += " + ";
    s += std::string(what) + " " + (v ? ms_text(*v) : std::string("(not measured yet)"));
  }
  return s;
}

void set_outage(ServicePrediction& p, std::initializer_list<std::pair<const char*, std::optional<int64_t>>> parts) {
  std::optional<int64_t> total = 0;
  for (const auto& [what, v] : parts) total = v && total ? std::optional<int64_t>(*total + *v) : std::nullopt;
  p.outage_ms = total;
  int64_t known = 0;
  for (const auto& [what, v] : parts) known += v.value_or(0);
  p.outage = (total ? "~" + ms_text(*total) : known ? "more than " + ms_text(known) : std::string("unknown")) + ": " +
             parts_text(parts);
}

const char* kind_name(SimEvent::Kind k) {
  switch (k) {
    case SimEvent::Kind::none: return "none";
    case SimEvent::Kind::kill: return "kill";
    case SimEvent::Kind::fail: return "fail";
    case SimEvent::Kind::standby: return "standby";
    case SimEvent::Kind::relocate: return "relocate";
  }
  return "?";
}

}  // namespace

std::string describe_event(const SimEvent& e) {
  switch (e.kind) {
    case SimEvent::Kind::none: return "no event (the policy on the state as it is)";
    case SimEvent::Kind::kill: return "kill " + e.node + " (a crash or power cut)";
    case SimEvent::Kind::fail: return "failure of " + e.service;
    case SimEvent::Kind::standby: return "standby " + e.node;
    case SimEvent::Kind::relocate: return "relocate " + e.service + " to " + e.node;
  }
  return "?";
}

Result<SimulationResult> simulate_placement(const json& status, const std::vector<ServiceDefinition>& defs,
                                            const SimEvent& event_in) {
  if (!status.is_object()) return Error(Code::corrupt, "the status is not a JSON object");
  if (text_at(&status, "source") == "disk")
    return Error(Code::corrupt, "the status was read from the quorum disk (quorumd did not answer): it has no services");
  auto sit = status.find("services");
  if (sit == status.end() || !sit->is_object())
    return Error(Code::corrupt, "the status has no services from svcmgr (was svcmgr running?)");
  auto reply = parse_services_reply(sit->dump());
  if (!reply.ok()) return Error(Code::corrupt, "svcmgr's services in the status: " + reply.status().message());
  if (reply->node.empty() || reply->peer.empty() || reply->node == reply->peer)
    return Error(Code::corrupt, "svcmgr's services in the status do not name two nodes");

  SimulationResult r;
  r.event = event_in;
  r.node = reply->node;
  r.peer = reply->peer;
  SimCluster c;
  c.n[0].name = reply->node;
  c.n[1].name = reply->peer;
  c.n[0].standby = reply->standby;
  c.n[1].standby = reply->peer_standby;
  c.definitions_match = reply->definitions_match;
  // Node ids from quorumd's part when it names the same nodes (only the policy's release targets use them).
  c.n[0].id = 1;
  c.n[1].id = 2;
  const json* qnode = object_at(status, "node");
  const json* qpeer = object_at(status, "peer");
  if (text_at(qnode, "name") == c.n[0].name && text_at(qpeer, "name") == c.n[1].name) {
    const auto a = int_at(qnode, "id"), b = int_at(qpeer, "id");
    if (a && b && *a != *b && *a > 0 && *b > 0 && *a < 1000 && *b < 1000) {
      c.n[0].id = uint32_t(*a);
      c.n[1].id = uint32_t(*b);
    }
  }
  // Liveness now: svcmgr's view of its peer; the peer's view of this node (which answered, so it runs) is UP
  // when this node sees the peer UP.
  const PeerView view = reply->peer_view;
  c.n[0].view_of_peer = view;
  c.n[1].view_of_peer = PeerView::up;
  c.n[1].alive = view == PeerView::up || view == PeerView::unknown;
  if (!c.n[1].alive) r.notes.push_back(c.n[1].name + " is " + (view == PeerView::dead ? "DEAD" : "DOWN") + " already");
  if (view == PeerView::unknown)
    r.notes.push_back(c.n[0].name + " does not know yet whether " + c.n[1].name + " runs: nothing starts until it does");
  if (!c.definitions_match) r.notes.push_back("the two nodes hold different service definitions: moves are blocked");

  // The dead time, by quorumd's own formula from io_timeout (lib/disk/timing.h).
  const json* timing = object_at(status, "timing_ms");
  if (auto io = int_at(timing, "io_timeout")) {
    r.io_timeout_ms = *io;
    if (auto t = Timing::from_io_timeout(Millis(*io)); t.ok()) {
      r.dead_ms = t->dead.count();
      if (auto d = int_at(timing, "dead"); d && *d != r.dead_ms)
        r.notes.push_back("the status says dead time " + ms_text(*d) + ", the formula " + ms_text(r.dead_ms) + ": using the formula's");
    } else {
      r.notes.push_back("io_timeout in the status: " + t.status().message());
    }
  } else {
    r.notes.push_back("the status has no timing (quorumd's part): the dead time is unknown");
  }

  // The event, checked against the status.
  SimEvent& ev = r.event;
  auto known_service = [&](const std::string& name) {
    return std::any_of(reply->services.begin(), reply->services.end(), [&](const ServiceStatus& s) { return s.name == name; });
  };
  auto node_list = c.n[0].name + ", " + c.n[1].name;
  if ((ev.kind == SimEvent::Kind::kill || ev.kind == SimEvent::Kind::standby) && c.index(ev.node) < 0)
    return Error(Code::invalid_argument, "unknown node '" + ev.node + "' (the nodes: " + node_list + ")");
  if ((ev.kind == SimEvent::Kind::fail || ev.kind == SimEvent::Kind::relocate) && !known_service(ev.service))
    return Error(Code::invalid_argument, "unknown service '" + ev.service + "' (svcmgr on " + r.node + " does not list it)");
  if (ev.kind == SimEvent::Kind::relocate && !ev.node.empty() && c.index(ev.node) < 0)
    return Error(Code::invalid_argument, "unknown node '" + ev.node + "' (the nodes: " + node_list + ")");

  // Apply the event to the nodes.
  SimCluster after = c;
  const std::string fence_kind = peer_fence_kind(status);
  if (ev.kind == SimEvent::Kind::kill) {
    const int k = after.index(ev.node);
    if (!after.n[k].alive) r.notes.push_back(ev.node + " is not running already: killing it changes nothing");
    after.n[k].alive = false;
    after.n[1 - k].view_of_peer = PeerView::dead;  // once D has passed (or a power fence confirmed)
    if (after.n[1 - k].alive)
      r.notes.push_back(after.n[1 - k].name + " declares " + ev.node + " DEAD after the dead time D = " +
                        (r.dead_ms ? ms_text(r.dead_ms) : std::string("?")) +
                        " without a heartbeat change (from its last one, up to one renew interval before the kill)");
    if (k == 1 && fence_kind == "power")
      r.notes.push_back(ev.node + " has a power fence: " + r.node + " may take over sooner, after the suspicion time and a confirmed power-off");
    if (k == 1 && fence_kind == "none")
      r.notes.push_back(ev.node + " runs without a watchdog: " + r.node +
                        " takes over only after a confirmed power-off, never on the dead time");
  } else if (ev.kind == SimEvent::Kind::standby) {
    const int k = after.index(ev.node);
    if (after.n[k].standby) r.notes.push_back(ev.node + " is in standby already");
    after.n[k].standby = true;
  }

  for (const ServiceStatus& s : reply->services) {
    ServicePrediction p;
    p.name = s.name;
    p.state = s.state;
    p.owner_now = s.owner;
    if (!s.owner.empty() && c.index(s.owner) < 0) {
      p.action = "not simulated";
      p.notes.push_back("its owner '" + s.owner + "' is not one of the two nodes");
      r.services.push_back(std::move(p));
      continue;
    }
    auto def_it = std::find_if(defs.begin(), defs.end(), [&](const ServiceDefinition& d) { return d.name == s.name; });
    if (def_it == defs.end()) {
      p.owner_after = p.owner_now;
      p.action = "not simulated";
      p.notes.push_back("no definition of it was given (its failover domain is not known)");
      r.services.push_back(std::move(p));
      continue;
    }
    const ServiceDefinition& def = *def_it;
    if (s.state == "orphaned" || s.state == "unknown") {
      p.owner_after = p.owner_now;
      p.action = "not simulated";
      p.notes.push_back(s.state == "orphaned" ? "orphaned: svcmgr places it no more until `castor reset`"
                                              : "the peer's entry for it is unknown (corrupt): svcmgr never takes it over");
      r.services.push_back(std::move(p));
      continue;
    }
    ServiceWords w;
    w.enabled = s.state != "disabled";
    w.frozen = s.state == "frozen";
    if (s.pending && s.pending->rfind("relocate to ", 0) == 0) w.relocate_to = s.pending->substr(12);
    // A hard failure on svcmgr's own node keeps it off that node (failed_here) until reset.
    if (s.state == "failed" && s.owner.empty()) w.failed_here[0] = true;

    // The state as it is, through the policy: a status that has not settled says so.
    const Settled before = settle(c, def, w, s.owner);
    if (before.owner != s.owner && ev.kind == SimEvent::Kind::none)
      p.notes.push_back("not settled: the policy puts it " + (before.owner.empty() ? std::string("nowhere") : "on " + before.owner));

    const std::optional<int64_t> start = s.last_start_ms, stop = s.last_stop_ms;
    const int64_t dead = r.dead_ms;
    const std::optional<int64_t> dead_opt = dead ? std::optional<int64_t>(dead) : std::nullopt;

    if (ev.kind == SimEvent::Kind::fail && ev.service == s.name) {
      // svcmgr_supervision.cc, after_runner, case failed: what a failure of the running service leads to.
      const int o = c.index(s.owner);
      if (o < 0 || !c.n[o].alive) {
        p.owner_after = s.owner;
        p.action = "stays down";
        p.rule = "it runs nowhere: nothing to fail";
        p.outage = "-";
      } else if (w.frozen) {
        p.owner_after = s.owner;
        p.action = "stays failed";
        p.rule = s.owner + ": frozen: a failure is only logged, never recovered";
        p.outage = "until it is unfrozen (and reset)";
      } else if (def.recovery == ServiceDefinition::Recovery::disable) {
        w.enabled = false;
        const Settled st = settle(after, def, w, s.owner);
        p.owner_after = st.owner;
        p.action = "stays down";
        p.rule = "recovery = disable: " + st.rule;
        p.outage = "until it is enabled";
      } else {
        // Failures within restart_window: the status has the restarts svcmgr made (they are the failures
        // it recovered in place) and how long ago the last failure was, on svcmgr's own node.
        int64_t failures = s.restarts;
        if (o == 0 && s.last_failure && s.last_failure->ago_ms > def.restart_window.count()) failures = 0;
        if (o == 0 && !s.last_failure) failures = 0;
        // As ServiceSupervisor::failed_here: recovery = relocate makes one failure enough.
        const bool failed_here = def.recovery == ServiceDefinition::Recovery::relocate || failures + 1 > def.max_restarts;
        const std::string count = "failure " + std::to_string(failures + 1) + " within restart_window, max_restarts " +
                                  std::to_string(def.max_restarts);
        if (o == 1) p.notes.push_back("the failures counted are the restarts " + s.owner + " reports; their times are not in the status");
        if (def.recovery == ServiceDefinition::Recovery::restart && !failed_here) {
          p.owner_after = s.owner;
          p.action = "restarts in place";
          p.rule = s.owner + ": recovery = restart, " + count + ": restart in place";
          set_outage(p, {{"stop", stop}, {"start", start}});
        } else {
          w.failed_here[o] = failed_here;
          const Settled st = settle(after, def, w, s.owner);
          p.rule = st.rule + " (" + count + (failed_here ? ": failed here" : "") + ")";
          if (st.owner == s.owner) {
            // The policy keeps it here (not failed here yet): svcmgr stops the failed service and leaves it.
            p.owner_after = "";
            p.action = "stops";
            p.rule = s.owner + ": recovery = relocate, " + count + ": not failed here yet, so the policy keeps it (" +
                     st.rule + ") and svcmgr stops it where it failed";
            p.outage = "until an admin acts (castor reset, relocate, restart)";
          } else if (st.owner.empty()) {
            p.owner_after = "";
            p.action = "stops";
            p.outage = "until " + s.owner + " may run it again (castor reset) or the peer can";
          } else {
            p.owner_after = st.owner;
            p.moves = true;
            p.action = "moves";
            set_outage(p, {{"stop", stop}, {"start", start}});
          }
        }
      }
      r.services.push_back(std::move(p));
      continue;
    }

    if (ev.kind == SimEvent::Kind::relocate && ev.service == s.name) {
      if (ev.node.empty()) {
        if (s.owner.empty())
          return Error(Code::invalid_argument, s.name + " runs nowhere: say where (--to NODE)");
        ev.node = c.n[1 - c.index(s.owner)].name;
      }
      w.relocate_to = ev.node;
      if (ev.node == s.owner) p.notes.push_back("it runs on " + ev.node + " already");
    }

    const Settled st = settle(after, def, w, s.owner);
    p.owner_after = st.owner;
    p.rule = st.rule;
    if (!st.settled) p.notes.push_back("the policy does not settle (it keeps changing its mind)");
    if (ev.kind == SimEvent::Kind::relocate && ev.service == s.name && st.owner != ev.node)
      p.notes.push_back("the relocation to " + ev.node + " is not followed: " + ev.node + " may not run it now");
    const int o = c.index(s.owner);
    if (s.owner.empty()) {
      p.action = st.owner.empty() ? "stays down" : "starts on " + st.owner;
      p.outage = "-";
      if (!st.owner.empty()) p.notes.push_back("it runs nowhere now");
    } else if (st.owner == s.owner) {
      p.action = "stays";
      p.outage = "-";
    } else if (ev.kind == SimEvent::Kind::kill && !after.n[o].alive && c.n[o].alive) {
      if (st.owner.empty()) {
        p.action = "goes down";
        p.outage = "until " + s.owner + " returns";
      } else {
        p.moves = true;
        p.action = "moves";
        if (fence_kind == "none" && o == 1) {
          p.outage = "until " + s.owner + " is confirmed powered off";
        } else {
          set_outage(p, {{"dead time", dead_opt}, {"start", start}});
        }
      }
    } else if (st.owner.empty()) {
      p.action = "stops";
      p.outage = ev.kind == SimEvent::Kind::standby ? "until " + ev.node + " leaves standby or the peer can run it"
                                                     : "until a node may run it";
    } else {
      p.moves = true;
      p.action = "moves";
      set_outage(p, {{"stop", stop}, {"start", start}});
    }
    r.services.push_back(std::move(p));
  }
  if (ev.kind != SimEvent::Kind::none &&
      std::any_of(reply->services.begin(), reply->services.end(),
                  [](const ServiceStatus& s) { return s.last_start_ms || s.last_stop_ms; }))
    r.notes.push_back("start and stop times: each service's last ones on " + r.node + ", as its svcmgr measured them");
  return r;
}

std::string simulation_text(const SimulationResult& r) {
  std::string out;
  if (r.io_timeout_ms)
    out += "  io_timeout " + ms_text(r.io_timeout_ms) + ": dead time D " + (r.dead_ms ? ms_text(r.dead_ms) : std::string("?")) +
           " (quorumd's formula)\n";
  for (const auto& n : r.notes) out += "  note: " + printable(n) + "\n";
  char buf[512];
  std::snprintf(buf, sizeof buf, "\n  %-16s %-10s %-10s %-18s %s\n", "Service", "Now", "After", "Action", "Expected outage");
  out += buf;
  for (const auto& p : r.services) {
    const std::string name = printable(p.name);
    const std::string now = p.owner_now.empty() ? "-" : printable(p.owner_now);
    const std::string aft = p.owner_after.empty() ? "-" : printable(p.owner_after);
    std::snprintf(buf, sizeof buf, "  %-16s %-10s %-10s %-18s ", name.c_str(), now.c_str(), aft.c_str(), p.action.c_str());
    out += buf;
    out += (p.outage.empty() ? std::string("-") : printable(p.outage)) + "\n";
    if (!p.rule.empty()) out += "      why: " + printable(p.rule) + "\n";
    for (const auto& n : p.notes) out += "      note: " + printable(n) + "\n";
  }
  return out;
}

nlohmann::ordered_json simulation_json(const SimulationResult& r) {
  using J = nlohmann::ordered_json;
  J j = J::object();
  J ev = J::object();
  ev["kind"] = kind_name(r.event.kind);
  if (!r.event.node.empty()) ev["node"] = r.event.node;
  if (!r.event.service.empty()) ev["service"] = r.event.service;
  j["event"] = std::move(ev);
  j["node"] = r.node;
  j["peer"] = r.peer;
  j["io_timeout_ms"] = r.io_timeout_ms ? J(r.io_timeout_ms) : J(nullptr);
  j["dead_ms"] = r.dead_ms ? J(r.dead_ms) : J(nullptr);
  j["notes"] = r.notes;
  J services = J::array();
  for (const auto& p : r.services) {
    J s = J::object();
    s["name"] = p.name;
    s["state"] = p.state;
    s["owner_now"] = p.owner_now;
    s["owner_after"] = p.owner_after;
    s["moves"] = p.moves;
    s["action"] = p.action;
    s["rule"] = p.rule;
    s["outage_ms"] = p.outage_ms ? J(*p.outage_ms) : J(nullptr);
    s["outage"] = p.outage;
    s["notes"] = p.notes;
    services.push_back(std::move(s));
  }
  j["services"] = std::move(services);
  return j;
}

}  // namespace castor
