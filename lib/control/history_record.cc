#include "control/history_record.h"

#include "control/json_codec.h"

namespace castor {

using json_codec::Json;

namespace {
Json history_json(const HistoryRecord& r) {
  Json j = Json::object();
  j["wall_ns"] = r.wall_ns;
  j["node"] = r.node;
  j["event"] = r.event;
  j["kind"] = r.kind;
  j["service"] = r.service;
  j["epoch"] = r.epoch;
  j["subject"] = r.subject;
  j["desc"] = r.desc;
  j["reason"] = r.reason;
  return j;
}
}  // namespace

std::string encode_history_record(const HistoryRecord& r) { return json_codec::dump(history_json(r)); }
std::string encode_history_record_ascii(const HistoryRecord& r) { return json_codec::dump_ascii(history_json(r)); }

Result<HistoryRecord> parse_history_record(std::string_view line) {
  ASSIGN_OR_RETURN(Json j, json_codec::parse_object(line));
  HistoryRecord r;
  ASSIGN_OR_RETURN(r.wall_ns, json_codec::get_i64(j, "wall_ns"));
  ASSIGN_OR_RETURN(r.node, json_codec::get_string(j, "node"));
  ASSIGN_OR_RETURN(r.event, json_codec::get_string(j, "event"));
  ASSIGN_OR_RETURN(r.kind, json_codec::get_string(j, "kind"));
  ASSIGN_OR_RETURN(r.service, json_codec::get_string(j, "service"));
  ASSIGN_OR_RETURN(r.epoch, json_codec::get_u64(j, "epoch"));
  ASSIGN_OR_RETURN(r.subject, json_codec::get_string(j, "subject"));
  ASSIGN_OR_RETURN(r.desc, json_codec::get_string(j, "desc"));
  ASSIGN_OR_RETURN(r.reason, json_codec::get_string(j, "reason"));
  return r;
}

}  // namespace castor
