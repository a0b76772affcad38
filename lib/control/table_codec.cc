#include "control/table_codec.h"

#include <algorithm>

#include "control/json_codec.h"
#include "disk/disk_layout.h"
#include "disk/superblock.h"

namespace castor {

using json_codec::Json;

namespace {

std::vector<std::string_view> split_words(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find(' ', i);
    if (j == std::string_view::npos) j = s.size();
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

Result<uint64_t> parse_u64(std::string_view s) {
  if (s.empty() || s.size() > 20) return Error(Code::invalid_argument, "bad number '" + std::string(s) + "'");
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return Error(Code::invalid_argument, "bad number '" + std::string(s) + "'");
    const uint64_t d = uint64_t(c - '0');
    if (v > (UINT64_MAX - d) / 10) return Error(Code::invalid_argument, "number too large '" + std::string(s) + "'");
    v = v * 10 + d;
  }
  return v;
}

// Prefixes where in the reply a field error is ("entries[3]: 'node' is missing").
Status at(const Status& st, const std::string& where) { return st.with_context(where); }

Json entry_json(const TableEntry& t) {
  const ServiceEntry& e = t.entry;
  Json j = Json::object();
  j["name"] = e.name;
  j["state"] = ownership_state_name(e.state);
  j["node"] = e.node;
  j["epoch"] = e.epoch;
  j["ballot"] = e.ballot;
  j["flags"] = unsigned(e.flags);
  j["restarts"] = e.restarts;
  j["digest"] = e.definition_digest;
  j["changed_wall_ns"] = e.changed_wall_ns;
  if (t.block) j["block"] = *t.block;
  if (t.incarnation) j["incarnation"] = *t.incarnation;
  return j;
}

Result<TableEntry> entry_from_json(const Json& j) {
  if (!j.is_object()) return Error(Code::invalid_argument, "an entry is not an object");
  TableEntry t;
  ServiceEntry& e = t.entry;
  e.in_use = true;
  ASSIGN_OR_RETURN(e.name, json_codec::get_string(j, "name"));
  if (e.name.empty() || e.name.size() >= kNameWidth)
    return Error(Code::invalid_argument, "'name' must be 1 to " + std::to_string(kNameWidth - 1) + " bytes");
  ASSIGN_OR_RETURN(std::string state, json_codec::get_string(j, "state"));
  auto st = parse_ownership_state(state);
  if (!st) return Error(Code::invalid_argument, "'state' is not an ownership state: '" + state + "'");
  e.state = *st;
  ASSIGN_OR_RETURN(uint64_t node, json_codec::get_u64(j, "node", kNodeCount));
  e.node = uint32_t(node);
  ASSIGN_OR_RETURN(e.epoch, json_codec::get_u64(j, "epoch"));
  ASSIGN_OR_RETURN(e.ballot, json_codec::get_u64(j, "ballot"));
  ASSIGN_OR_RETURN(uint64_t flags, json_codec::get_u64(j, "flags", 0xFFFF));
  e.flags = uint16_t(flags);
  ASSIGN_OR_RETURN(uint64_t restarts, json_codec::get_u64(j, "restarts", UINT32_MAX));
  e.restarts = uint32_t(restarts);
  ASSIGN_OR_RETURN(e.definition_digest, json_codec::get_u64(j, "digest"));
  ASSIGN_OR_RETURN(e.changed_wall_ns, json_codec::get_i64(j, "changed_wall_ns"));
  if (json_codec::has(j, "block")) {
    ASSIGN_OR_RETURN(uint64_t b, json_codec::get_u64(j, "block", UINT32_MAX));
    t.block = uint32_t(b);
  }
  if (json_codec::has(j, "incarnation")) {
    ASSIGN_OR_RETURN(uint64_t inc, json_codec::get_u64(j, "incarnation"));
    t.incarnation = inc;
  }
  return t;
}

Json entries_json(const std::vector<TableEntry>& entries) {
  Json a = Json::array();
  for (const auto& t : entries) a.push_back(entry_json(t));
  return a;
}

Result<std::vector<TableEntry>> entries_from_json(const Json& reply) {
  ASSIGN_OR_RETURN(const Json* a, json_codec::get_array(reply, "entries"));
  std::vector<TableEntry> out;
  out.reserve(a->size());
  for (size_t i = 0; i < a->size(); ++i) {
    auto t = entry_from_json((*a)[i]);
    if (!t.ok()) return at(t.status(), "entries[" + std::to_string(i) + "]");
    out.push_back(std::move(*t));
  }
  return out;
}

Json corrupt_json(const std::vector<CorruptTableBlock>& blocks) {
  Json a = Json::array();
  for (const auto& c : blocks) {
    Json j = Json::object();
    j["block"] = c.block;
    j["reason"] = c.reason;
    if (c.hash) j["hash"] = *c.hash;
    a.push_back(std::move(j));
  }
  return a;
}

Result<std::vector<CorruptTableBlock>> corrupt_from_json(const Json& reply) {
  ASSIGN_OR_RETURN(const Json* a, json_codec::get_array(reply, "corrupt_blocks"));
  std::vector<CorruptTableBlock> out;
  for (size_t i = 0; i < a->size(); ++i) {
    const Json& j = (*a)[i];
    const std::string where = "corrupt_blocks[" + std::to_string(i) + "]";
    if (!j.is_object()) return Error(Code::invalid_argument, where + ": not an object");
    CorruptTableBlock c;
    auto b = json_codec::get_u64(j, "block", UINT32_MAX);
    if (!b.ok()) return at(b.status(), where);
    c.block = uint32_t(*b);
    auto reason = json_codec::get_string(j, "reason");
    if (!reason.ok()) return at(reason.status(), where);
    c.reason = std::move(*reason);
    if (json_codec::has(j, "hash")) {
      auto h = json_codec::get_u64(j, "hash", UINT32_MAX);
      if (!h.ok()) return at(h.status(), where);
      c.hash = uint32_t(*h);
    }
    out.push_back(std::move(c));
  }
  return out;
}

// The reply object, after its "ok" said true.
Result<Json> ok_reply(std::string_view text) {
  ASSIGN_OR_RETURN(Json j, json_codec::parse_object(text));
  RETURN_IF_ERROR(json_codec::check_ok(j));
  return j;
}

}  // namespace

std::optional<OwnershipState> parse_ownership_state(std::string_view name) {
  for (uint8_t i = 0; i <= kMaxOwnershipState; ++i)
    if (name == ownership_state_name(OwnershipState(i))) return OwnershipState(i);
  return std::nullopt;
}

std::optional<PeerView> parse_peer_view(std::string_view name) {
  for (PeerView v : {PeerView::unknown, PeerView::up, PeerView::dead, PeerView::down})
    if (name == peer_view_name(v)) return v;
  return std::nullopt;
}

// ---- table-set ------------------------------------------------------------------------------------------

TableSetRequest TableSetRequest::from_entry(const ServiceEntry& e) {
  TableSetRequest r;
  r.name = e.name;
  r.state = e.state;
  r.node = e.node;
  r.epoch = e.epoch;
  r.ballot = e.ballot;
  r.flags = e.flags;
  r.restarts = e.restarts;
  r.digest = e.definition_digest;
  return r;
}

ServiceEntry TableSetRequest::to_entry() const {
  ServiceEntry e;
  e.in_use = true;
  e.name = name;
  e.state = state;
  e.node = node;
  e.epoch = epoch;
  e.ballot = ballot;
  e.flags = flags;
  e.restarts = restarts;
  e.definition_digest = digest;
  return e;
}

std::string encode_table_set_args(const TableSetRequest& r) {
  return r.name + " " + ownership_state_name(r.state) + " " + std::to_string(r.node) + " " + std::to_string(r.epoch) +
         " " + std::to_string(r.ballot) + " " + std::to_string(r.flags) + " " + std::to_string(r.restarts) + " " +
         std::to_string(r.digest);
}

std::string encode_table_set_request(const TableSetRequest& r) {
  return std::string(kTableSetVerb) + " " + encode_table_set_args(r);
}

Result<TableSetRequest> parse_table_set_args(std::string_view args) {
  const auto words = split_words(args);
  if (words.size() != 8)
    return Error(Code::invalid_argument, "table-set NAME STATE NODE EPOCH BALLOT FLAGS RESTARTS DIGEST");
  uint64_t n[6];
  for (size_t i = 2; i < 8; ++i) {
    auto v = parse_u64(words[i]);
    if (!v.ok()) return Error(Code::invalid_argument, "table-set: " + v.status().message());
    n[i - 2] = *v;
  }
  TableSetRequest r;
  r.name = std::string(words[0]);
  const auto state = parse_ownership_state(words[1]);
  if (!state || n[0] > kNodeCount || n[3] > 0xFFFF || n[4] > UINT32_MAX || !check_name("service", r.name).ok())
    return Error(Code::invalid_argument, "table-set: a field is out of range");
  r.state = *state;
  r.node = uint32_t(n[0]);
  r.epoch = n[1];
  r.ballot = n[2];
  r.flags = uint16_t(n[3] & ServiceEntry::kKnownFlags);
  r.restarts = uint32_t(n[4]);
  r.digest = n[5];
  return r;
}

std::string encode_table_set_reply(const TableSetReply& r) {
  Json j = Json::object();
  j["ok"] = true;
  j["completed_boottime_ns"] = r.completed_boottime_ns;
  return json_codec::dump(j);
}

Result<TableSetReply> parse_table_set_reply(std::string_view text) {
  ASSIGN_OR_RETURN(Json j, ok_reply(text));
  TableSetReply r;
  ASSIGN_OR_RETURN(r.completed_boottime_ns, json_codec::get_i64(j, "completed_boottime_ns"));
  return r;
}

// ---- table-own ------------------------------------------------------------------------------------------

std::string encode_table_own_reply(const TableOwnReply& r) {
  Json j = Json::object();
  j["ok"] = true;
  j["entries"] = entries_json(r.entries);
  j["own_epoch_floor"] = r.own_epoch_floor;
  if (r.own_epoch_floor_error) j["own_epoch_floor_error"] = *r.own_epoch_floor_error;
  j["corrupt_blocks"] = corrupt_json(r.corrupt_blocks);
  return json_codec::dump(j);
}

Result<TableOwnReply> parse_table_own_reply(std::string_view text) {
  ASSIGN_OR_RETURN(Json j, ok_reply(text));
  TableOwnReply r;
  ASSIGN_OR_RETURN(r.entries, entries_from_json(j));
  ASSIGN_OR_RETURN(r.own_epoch_floor, json_codec::get_u64(j, "own_epoch_floor"));
  if (json_codec::has(j, "own_epoch_floor_error")) {
    ASSIGN_OR_RETURN(std::string e, json_codec::get_string(j, "own_epoch_floor_error"));
    r.own_epoch_floor_error = std::move(e);
  }
  ASSIGN_OR_RETURN(r.corrupt_blocks, corrupt_from_json(j));
  return r;
}

// ---- table-peer -----------------------------------------------------------------------------------------

std::string encode_table_peer_reply(const TablePeerReply& r) {
  Json j = Json::object();
  j["ok"] = true;
  j["read_issued_boottime_ns"] = r.read_issued_boottime_ns;
  j["entries"] = entries_json(r.entries);
  j["corrupt_blocks"] = corrupt_json(r.corrupt_blocks);
  if (r.peer_epoch_floor) {
    j["peer_epoch_floor"] = *r.peer_epoch_floor;
  } else {
    j["peer_epoch_floor"] = nullptr;
    j["peer_epoch_floor_error"] = r.peer_epoch_floor_error;
  }
  j["own_epoch_floor"] = r.own_epoch_floor;
  Json p = Json::object();
  p["view"] = peer_view_name(r.peer.view);
  p["incarnation"] = r.peer.incarnation;
  p["confirmed_boottime_ns"] = r.peer.confirmed_boottime_ns;
  p["digest_known"] = r.peer.digest_known;
  p["services_digest"] = r.peer.services_digest;
  p["standby"] = r.peer.standby;
  p["request"] = peer_request_name(r.peer.request);
  p["request_serial"] = r.peer.request_serial;
  p["takes_requests"] = r.peer.takes_requests;
  p["handled_incarnation"] = r.peer.handled_incarnation;
  p["handled_serial"] = r.peer.handled_serial;
  if (r.peer.started_mark) {
    p["started_mark"] = *r.peer.started_mark;
    p["not_started"] = r.peer.not_started;
  }
  j["peer"] = std::move(p);
  return json_codec::dump(j);
}

bool PeerSummary::started_on_peer(uint64_t epoch) const {
  if (!started_mark) return true;
  return epoch <= *started_mark && std::find(not_started.begin(), not_started.end(), epoch) == not_started.end();
}

Result<TablePeerReply> parse_table_peer_reply(std::string_view text) {
  ASSIGN_OR_RETURN(Json j, ok_reply(text));
  TablePeerReply r;
  ASSIGN_OR_RETURN(r.read_issued_boottime_ns, json_codec::get_i64(j, "read_issued_boottime_ns"));
  ASSIGN_OR_RETURN(r.entries, entries_from_json(j));
  ASSIGN_OR_RETURN(r.corrupt_blocks, corrupt_from_json(j));
  if (!json_codec::has(j, "peer_epoch_floor")) {
    r.peer_epoch_floor = 0;  // a quorumd older than epoch records: no floor to lose
  } else if (j["peer_epoch_floor"].is_null()) {
    r.peer_epoch_floor_error = "the peer's epoch record does not decode";
    if (json_codec::has(j, "peer_epoch_floor_error")) {
      ASSIGN_OR_RETURN(r.peer_epoch_floor_error, json_codec::get_string(j, "peer_epoch_floor_error"));
    }
  } else {
    ASSIGN_OR_RETURN(uint64_t floor, json_codec::get_u64(j, "peer_epoch_floor"));
    r.peer_epoch_floor = floor;
  }
  ASSIGN_OR_RETURN(r.own_epoch_floor, json_codec::get_u64(j, "own_epoch_floor"));
  ASSIGN_OR_RETURN(const Json* p, json_codec::get_object(j, "peer"));
  auto peer = [&]() -> Status {
    ASSIGN_OR_RETURN(std::string view, json_codec::get_string(*p, "view"));
    auto v = parse_peer_view(view);
    if (!v) return Error(Code::invalid_argument, "'view' is not a peer view: '" + view + "'");
    r.peer.view = *v;
    ASSIGN_OR_RETURN(r.peer.incarnation, json_codec::get_u64(*p, "incarnation"));
    ASSIGN_OR_RETURN(r.peer.confirmed_boottime_ns, json_codec::get_i64(*p, "confirmed_boottime_ns"));
    ASSIGN_OR_RETURN(r.peer.digest_known, json_codec::get_bool(*p, "digest_known"));
    ASSIGN_OR_RETURN(r.peer.services_digest, json_codec::get_u64(*p, "services_digest"));
    ASSIGN_OR_RETURN(r.peer.standby, json_codec::get_bool(*p, "standby"));
    if (!json_codec::has(*p, "request")) return Status::Ok();  // a quorumd older than peer requests
    ASSIGN_OR_RETURN(std::string request, json_codec::get_string(*p, "request"));
    // A kind a later quorumd knows and this svcmgr does not reads as none (never a reply refused whole: the
    // rest of it decides takeovers).
    if (request == "standby") r.peer.request = PeerRequest::standby;
    else if (request == "unstandby") r.peer.request = PeerRequest::unstandby;
    ASSIGN_OR_RETURN(r.peer.request_serial, json_codec::get_u64(*p, "request_serial"));
    ASSIGN_OR_RETURN(r.peer.takes_requests, json_codec::get_bool(*p, "takes_requests"));
    ASSIGN_OR_RETURN(r.peer.handled_incarnation, json_codec::get_u64(*p, "handled_incarnation"));
    ASSIGN_OR_RETURN(r.peer.handled_serial, json_codec::get_u64(*p, "handled_serial"));
    if (json_codec::has(*p, "started_mark")) {
      ASSIGN_OR_RETURN(uint64_t mark, json_codec::get_u64(*p, "started_mark"));
      r.peer.started_mark = mark;
      ASSIGN_OR_RETURN(const Json* list, json_codec::get_array(*p, "not_started"));
      for (const Json& e : *list) {
        if (!e.is_number_unsigned()) return Error(Code::invalid_argument, "'not_started' holds a value that is no epoch");
        r.peer.not_started.push_back(e.get<uint64_t>());
      }
    }
    return Status::Ok();
  }();
  if (!peer.ok()) return at(peer, "peer");
  return r;
}

}  // namespace castor
