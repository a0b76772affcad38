#include "control/services_codec.h"

#include "control/json_codec.h"
#include "control/table_codec.h"

namespace castor {

using json_codec::Json;

namespace {

Result<std::optional<std::string>> optional_string(const Json& j, std::string_view key) {
  if (!json_codec::has(j, key)) return std::optional<std::string>();
  ASSIGN_OR_RETURN(std::string s, json_codec::get_string(j, key));
  return std::optional<std::string>(std::move(s));
}

Result<std::optional<int64_t>> optional_i64(const Json& j, std::string_view key) {
  if (!json_codec::has(j, key)) return std::optional<int64_t>();
  ASSIGN_OR_RETURN(int64_t v, json_codec::get_i64(j, key));
  return std::optional<int64_t>(v);
}

Result<ServiceStatus> service_from_json(const Json& j) {
  if (!j.is_object()) return Error(Code::invalid_argument, "not an object");
  ServiceStatus s;
  ASSIGN_OR_RETURN(s.name, json_codec::get_string(j, "name"));
  ASSIGN_OR_RETURN(s.state, json_codec::get_string(j, "state"));
  ASSIGN_OR_RETURN(s.owner, json_codec::get_string(j, "owner"));
  ASSIGN_OR_RETURN(s.epoch, json_codec::get_u64(j, "epoch"));
  ASSIGN_OR_RETURN(s.restarts, json_codec::get_i64(j, "restarts"));
  ASSIGN_OR_RETURN(s.max_restarts, json_codec::get_i64(j, "max_restarts"));
  ASSIGN_OR_RETURN(s.phase, json_codec::get_string(j, "phase"));
  ASSIGN_OR_RETURN(s.peer_entry, optional_string(j, "peer_entry"));
  ASSIGN_OR_RETURN(s.orphaned, optional_string(j, "orphaned"));
  if (json_codec::has(j, "last_failure")) {
    ASSIGN_OR_RETURN(const Json* f, json_codec::get_object(j, "last_failure"));
    ServiceStatus::Failure failure;
    auto reason = json_codec::get_string(*f, "reason");
    if (!reason.ok()) return reason.status().with_context("last_failure");
    failure.reason = std::move(*reason);
    auto ago = json_codec::get_i64(*f, "ago_ms");
    if (!ago.ok()) return ago.status().with_context("last_failure");
    failure.ago_ms = *ago;
    s.last_failure = std::move(failure);
  }
  ASSIGN_OR_RETURN(s.pending, optional_string(j, "pending"));
  ASSIGN_OR_RETURN(s.pending_blocked, optional_string(j, "pending_blocked"));
  ASSIGN_OR_RETURN(s.last_start_ms, optional_i64(j, "last_start_ms"));
  ASSIGN_OR_RETURN(s.last_stop_ms, optional_i64(j, "last_stop_ms"));
  return s;
}

}  // namespace

std::string encode_services_reply(const ServicesReply& r) {
  Json j = Json::object();
  j["ok"] = true;
  j["node"] = r.node;
  j["peer"] = r.peer;
  j["peer_view"] = peer_view_name(r.peer_view);
  j["standby"] = r.standby;
  j["peer_standby"] = r.peer_standby;
  j["definitions_match"] = r.definitions_match;
  j["load_errors"] = Json::array();
  for (const auto& e : r.load_errors) j["load_errors"].push_back(e);
  Json services = Json::array();
  for (const auto& s : r.services) {
    Json o = Json::object();
    o["name"] = s.name;
    o["state"] = s.state;
    o["owner"] = s.owner;
    o["epoch"] = s.epoch;
    o["restarts"] = s.restarts;
    o["max_restarts"] = s.max_restarts;
    o["phase"] = s.phase;
    if (s.peer_entry) o["peer_entry"] = *s.peer_entry;
    if (s.orphaned) o["orphaned"] = *s.orphaned;
    if (s.last_failure) o["last_failure"] = Json{{"reason", s.last_failure->reason}, {"ago_ms", s.last_failure->ago_ms}};
    if (s.pending) o["pending"] = *s.pending;
    if (s.pending_blocked) o["pending_blocked"] = *s.pending_blocked;
    if (s.last_start_ms) o["last_start_ms"] = *s.last_start_ms;
    if (s.last_stop_ms) o["last_stop_ms"] = *s.last_stop_ms;
    services.push_back(std::move(o));
  }
  j["services"] = std::move(services);
  return json_codec::dump(j);
}

Result<ServicesReply> parse_services_reply(std::string_view text) {
  ASSIGN_OR_RETURN(Json j, json_codec::parse_object(text));
  RETURN_IF_ERROR(json_codec::check_ok(j));
  ServicesReply r;
  ASSIGN_OR_RETURN(r.node, json_codec::get_string(j, "node"));
  ASSIGN_OR_RETURN(r.peer, json_codec::get_string(j, "peer"));
  ASSIGN_OR_RETURN(std::string view, json_codec::get_string(j, "peer_view"));
  auto v = parse_peer_view(view);
  if (!v) return Error(Code::invalid_argument, "'peer_view' is not a peer view: '" + view + "'");
  r.peer_view = *v;
  ASSIGN_OR_RETURN(r.standby, json_codec::get_bool(j, "standby"));
  ASSIGN_OR_RETURN(r.peer_standby, json_codec::get_bool(j, "peer_standby"));
  ASSIGN_OR_RETURN(r.definitions_match, json_codec::get_bool(j, "definitions_match"));
  ASSIGN_OR_RETURN(const Json* errors, json_codec::get_array(j, "load_errors"));
  for (const auto& e : *errors) {
    if (!e.is_string()) return Error(Code::invalid_argument, "'load_errors' must hold strings");
    r.load_errors.push_back(e.get<std::string>());
  }
  ASSIGN_OR_RETURN(const Json* services, json_codec::get_array(j, "services"));
  for (size_t i = 0; i < services->size(); ++i) {
    auto s = service_from_json((*services)[i]);
    if (!s.ok()) return s.status().with_context("services[" + std::to_string(i) + "]");
    r.services.push_back(std::move(*s));
  }
  return r;
}

std::string encode_admin_reply(std::string_view message) {
  Json j = Json::object();
  j["ok"] = true;
  j["message"] = std::string(message);
  return json_codec::dump(j);
}

Result<std::string> parse_admin_reply(std::string_view text) {
  ASSIGN_OR_RETURN(Json j, json_codec::parse_object(text));
  RETURN_IF_ERROR(json_codec::check_ok(j));
  return json_codec::get_string(j, "message");
}

}  // namespace castor
