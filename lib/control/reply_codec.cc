#include "control/reply_codec.h"

#include "control/json_codec.h"
#include "disk/disk_layout.h"

namespace castor {

using json_codec::Json;

std::string encode_error_reply(std::string_view message) {
  Json j = Json::object();
  j["ok"] = false;
  j["error"] = std::string(message);
  return json_codec::dump(j);
}

std::string encode_ok_reply() {
  Json j = Json::object();
  j["ok"] = true;
  return json_codec::dump(j);
}

Status parse_ok_reply(std::string_view text) {
  ASSIGN_OR_RETURN(Json j, json_codec::parse_object(text));
  return json_codec::check_ok(j);
}

namespace {

// {"id": 1..2, "name": "..."} at `key`.
Status read_node(const Json& reply, std::string_view key, uint32_t& id, std::string& name) {
  auto node = json_codec::get_object(reply, key);
  if (!node.ok()) return node.status();
  auto i = json_codec::get_u64(**node, "id", kNodeCount);
  if (!i.ok()) return i.status().with_context(key);
  if (*i == 0) return Error(Code::invalid_argument, std::string(key) + ": 'id' must be 1 or 2");
  auto n = json_codec::get_string(**node, "name");
  if (!n.ok()) return n.status().with_context(key);
  if (n->empty()) return Error(Code::invalid_argument, std::string(key) + ": 'name' is empty");
  id = uint32_t(*i);
  name = std::move(*n);
  return Status::Ok();
}

}  // namespace

Result<QuorumdIdentity> parse_quorumd_identity(std::string_view status_reply) {
  ASSIGN_OR_RETURN(Json j, json_codec::parse_object(status_reply));
  RETURN_IF_ERROR(json_codec::check_ok(j));
  QuorumdIdentity q;
  RETURN_IF_ERROR(read_node(j, "node", q.node_id, q.node_name));
  RETURN_IF_ERROR(read_node(j, "peer", q.peer_id, q.peer_name));
  ASSIGN_OR_RETURN(q.standby, json_codec::get_bool(j, "standby"));
  ASSIGN_OR_RETURN(const Json* timing, json_codec::get_object(j, "timing_ms"));
  auto renew = json_codec::get_u64(*timing, "renew_interval", INT64_MAX);
  if (!renew.ok()) return renew.status().with_context("timing_ms");
  if (*renew == 0) return Error(Code::invalid_argument, "timing_ms: 'renew_interval' must be above 0");
  q.renew_interval_ms = int64_t(*renew);
  if (json_codec::has(j, "sends_peer_updated")) {
    ASSIGN_OR_RETURN(q.sends_peer_updated, json_codec::get_bool(j, "sends_peer_updated"));
  }
  return q;
}

}  // namespace castor
