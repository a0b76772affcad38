#include "control/event_codec.h"

#include "control/json_codec.h"
#include "control/table_codec.h"

namespace castor {

using json_codec::Json;

namespace {

constexpr QuorumdEventKind kKinds[] = {QuorumdEventKind::lease_renewed, QuorumdEventKind::lease_at_risk,
                                       QuorumdEventKind::leaving,       QuorumdEventKind::fenced,
                                       QuorumdEventKind::left,          QuorumdEventKind::peer_changed,
                                       QuorumdEventKind::device_changed, QuorumdEventKind::peer_updated};

Result<PeerView> get_view(const Json& j, std::string_view key) {
  ASSIGN_OR_RETURN(std::string s, json_codec::get_string(j, key));
  auto v = parse_peer_view(s);
  if (!v) return Error(Code::invalid_argument, "'" + std::string(key) + "' is not a peer view: '" + s + "'");
  return *v;
}

}  // namespace

const char* quorumd_event_name(QuorumdEventKind k) {
  switch (k) {
    case QuorumdEventKind::lease_renewed: return "lease_renewed";
    case QuorumdEventKind::lease_at_risk: return "lease_at_risk";
    case QuorumdEventKind::leaving: return "leaving";
    case QuorumdEventKind::fenced: return "fenced";
    case QuorumdEventKind::left: return "left";
    case QuorumdEventKind::peer_changed: return "peer_changed";
    case QuorumdEventKind::device_changed: return "device_changed";
    case QuorumdEventKind::peer_updated: return "peer_updated";
  }
  return "?";
}

std::string encode_quorumd_event(const QuorumdEvent& e) {
  Json j = Json::object();
  j["event"] = quorumd_event_name(e.kind);
  j["node"] = e.node;
  j["incarnation"] = e.incarnation;
  j["boottime_ns"] = e.boottime_ns;
  switch (e.kind) {
    case QuorumdEventKind::lease_renewed:
      j["seq"] = e.seq;
      j["lease_expiry_boottime_ns"] = e.lease_expiry_boottime_ns.value_or(0);
      break;
    case QuorumdEventKind::lease_at_risk:
      j["reason"] = e.reason;
      if (e.lease_expiry_boottime_ns) j["lease_expiry_boottime_ns"] = *e.lease_expiry_boottime_ns;
      break;
    case QuorumdEventKind::fenced:
      j["reason"] = e.reason;
      j["fences"] = e.fences;
      break;
    case QuorumdEventKind::leaving:
    case QuorumdEventKind::left:
      j["reason"] = e.reason;
      break;
    case QuorumdEventKind::peer_changed:
      j["peer"] = e.peer;
      j["from"] = peer_view_name(e.from);
      j["to"] = peer_view_name(e.to);
      j["peer_incarnation"] = e.peer_incarnation;
      j["reason"] = e.reason;
      if (e.power_fenced) j["power_fenced"] = true;
      break;
    case QuorumdEventKind::device_changed:
      j["device_index"] = e.device_index;
      j["device"] = e.device;
      j["failing"] = e.failing;
      j["redundant"] = e.redundant;
      j["reason"] = e.reason;
      break;
    case QuorumdEventKind::peer_updated:
      j["peer_incarnation"] = e.peer_incarnation;
      j["reason"] = e.reason;
      break;
  }
  return json_codec::dump(j);
}

namespace {

Result<QuorumdEventKind> kind_of(const Json& j) {
  ASSIGN_OR_RETURN(std::string name, json_codec::get_string(j, "event"));
  for (QuorumdEventKind k : kKinds)
    if (name == quorumd_event_name(k)) return k;
  return Error(Code::unsupported, "unknown event '" + name + "'");
}

}  // namespace

Result<QuorumdEventKind> parse_quorumd_event_kind(std::string_view text) {
  ASSIGN_OR_RETURN(Json j, json_codec::parse_object(text));
  return kind_of(j);
}

bool is_subscription_reply(std::string_view text) {
  auto j = json_codec::parse_object(text);
  return j.ok() && !json_codec::has(*j, "event") && json_codec::has(*j, "subscribed");
}

Result<QuorumdEvent> parse_quorumd_event(std::string_view text) {
  ASSIGN_OR_RETURN(Json j, json_codec::parse_object(text));
  QuorumdEvent e;
  ASSIGN_OR_RETURN(e.kind, kind_of(j));
  ASSIGN_OR_RETURN(e.node, json_codec::get_string(j, "node"));
  ASSIGN_OR_RETURN(e.incarnation, json_codec::get_u64(j, "incarnation"));
  ASSIGN_OR_RETURN(e.boottime_ns, json_codec::get_i64(j, "boottime_ns"));
  if (e.kind != QuorumdEventKind::lease_renewed) {
    ASSIGN_OR_RETURN(e.reason, json_codec::get_string(j, "reason"));
  }
  switch (e.kind) {
    case QuorumdEventKind::lease_renewed: {
      ASSIGN_OR_RETURN(e.seq, json_codec::get_u64(j, "seq"));
      ASSIGN_OR_RETURN(int64_t expiry, json_codec::get_i64(j, "lease_expiry_boottime_ns"));
      e.lease_expiry_boottime_ns = expiry;
      break;
    }
    case QuorumdEventKind::lease_at_risk:
      if (json_codec::has(j, "lease_expiry_boottime_ns")) {
        ASSIGN_OR_RETURN(int64_t expiry, json_codec::get_i64(j, "lease_expiry_boottime_ns"));
        e.lease_expiry_boottime_ns = expiry;
      }
      break;
    case QuorumdEventKind::fenced: {
      ASSIGN_OR_RETURN(e.fences, json_codec::get_u64(j, "fences"));
      break;
    }
    case QuorumdEventKind::leaving:
    case QuorumdEventKind::left: break;
    case QuorumdEventKind::peer_changed: {
      ASSIGN_OR_RETURN(e.peer, json_codec::get_string(j, "peer"));
      ASSIGN_OR_RETURN(e.from, get_view(j, "from"));
      ASSIGN_OR_RETURN(e.to, get_view(j, "to"));
      ASSIGN_OR_RETURN(e.peer_incarnation, json_codec::get_u64(j, "peer_incarnation"));
      if (json_codec::has(j, "power_fenced")) {
        ASSIGN_OR_RETURN(e.power_fenced, json_codec::get_bool(j, "power_fenced"));
      }
      break;
    }
    case QuorumdEventKind::device_changed: {
      ASSIGN_OR_RETURN(e.device_index, json_codec::get_u64(j, "device_index"));
      ASSIGN_OR_RETURN(e.device, json_codec::get_string(j, "device"));
      ASSIGN_OR_RETURN(e.failing, json_codec::get_bool(j, "failing"));
      ASSIGN_OR_RETURN(e.redundant, json_codec::get_bool(j, "redundant"));
      break;
    }
    case QuorumdEventKind::peer_updated: {
      ASSIGN_OR_RETURN(e.peer_incarnation, json_codec::get_u64(j, "peer_incarnation"));
      break;
    }
  }
  return e;
}

}  // namespace castor
