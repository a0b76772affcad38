#include "quorumd/table_service.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "common/log.h"
#include "disk/heartbeat_record.h"
#include "quorumd/peer_region.h"
#include "quorumd/reply_json.h"

namespace castor {
namespace {

int64_t ns(TimePoint t) { return t.time_since_epoch().count(); }

// `block`/`incarnation`: the peer table block holding the entry and the incarnation that wrote it (table-peer
// only): with changed_wall_ns they tell two writes of equal fields apart.
Json entry_json(const ServiceEntry& e, std::optional<uint32_t> block = std::nullopt,
                std::optional<uint64_t> incarnation = std::nullopt) {
  Json j;
  j["name"] = e.name;
  j["state"] = ownership_state_name(e.state);
  j["node"] = e.node;
  j["epoch"] = e.epoch;
  j["ballot"] = e.ballot;
  j["flags"] = unsigned(e.flags);
  j["restarts"] = e.restarts;
  j["digest"] = e.definition_digest;
  j["changed_wall_ns"] = e.changed_wall_ns;
  if (block) j["block"] = *block;
  if (incarnation) j["incarnation"] = *incarnation;
  return j;
}

}  // namespace

std::vector<std::string> split_words(const std::string& s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find(' ', i);
    if (j == std::string::npos) j = s.size();
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

Result<uint64_t> parse_u64(const std::string& s) {
  if (s.empty() || s.size() > 20) return Error(Code::invalid_argument, "bad number '" + s + "'");
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return Error(Code::invalid_argument, "bad number '" + s + "'");
    uint64_t d = uint64_t(c - '0');
    if (v > (UINT64_MAX - d) / 10) return Error(Code::invalid_argument, "number too large '" + s + "'");
    v = v * 10 + d;
  }
  return v;
}

Result<std::unique_ptr<TableService>> TableService::create(const DiskLayout& layout, const Superblock& sb,
                                                           uint32_t node_id, const DiskSnapshot& snap, Options options,
                                                           TimePoint now, ControlServer& server, BlockDevice& device,
                                                           HeartbeatIo& io) {
  std::unique_ptr<TableService> t(new TableService(layout, sb, node_id, options, server, device, io));
  t->load_own_region(snap);
  RegionWriter::Options wo;
  wo.io_timeout = sb.timing.io_timeout;
  wo.scrub_interval = options.scrub_interval;
  wo.retry_delay = sb.timing.renew_interval / 5;
  t->writer_ = std::make_unique<RegionWriter>(*t->table_, t->layout_, node_id, wo, now);
  t->peer_table_buffer_ = AlignedBuffer(size_t(kPeerRegionReadBlocks) * layout.block_size(), layout.block_size());
  if (!t->peer_table_buffer_.valid()) return Error(Code::internal, "out of memory for table buffers");
  return t;
}

// This node's epoch record and service table, as the startup snapshot found them. A block that does not
// decode (zeroed, torn, bad CRC, another cluster...) starts empty and is rewritten as soon as this node
// holds a lease; a floor that does not decode is rebuilt from every epoch still known (valid entries of
// both nodes, the peer's floor) and rewritten before any table block that needs it.
void TableService::load_own_region(const DiskSnapshot& snap) {
  table_ = std::make_unique<ServiceTableStore>(layout_, superblock_.cluster_uuid, node_id_);
  const NodeRegionSnapshot& mine = snap.nodes[node_id_ - 1];
  const NodeRegionSnapshot& peer = snap.nodes[(node_id_ == 1 ? 2 : 1) - 1];
  std::string zeroed;
  for (uint32_t b = 0; b < kServiceTableBlocks; ++b) {
    const auto& t = mine.table[b];
    if (t.record) {
      table_->load(b, *t.record);
      continue;
    }
    table_->mark_corrupt(b, t.status.to_string());
    if (t.status.code() == Code::not_found)
      zeroed += (zeroed.empty() ? "" : ",") + std::to_string(b);
    else
      log::warning("own service table block does not decode: rewritten once this node holds a lease "
                   "(the entries it held are lost)",
                   {{"block", b}, {"reason", t.status.to_string()}});
  }
  if (!zeroed.empty())
    log::warning("own service table blocks are empty (never written, or zeroed): rewritten once this node "
                 "holds a lease",
                 {{"blocks", zeroed}});
  uint64_t peer_max = 0;
  if (peer.epoch.record) peer_max = peer.epoch.record->epoch_floor;
  for (const auto& t : peer.table)
    if (t.record)
      for (const auto& e : t.record->entries)
        if (e.in_use) peer_max = std::max(peer_max, e.epoch);
  if (mine.epoch.record) {
    table_->load_floor(mine.epoch.record->epoch_floor);
  } else {
    // wanted_floor() already covers every epoch of the own valid entries (load()).
    const uint64_t rebuilt = std::max(table_->wanted_floor(), peer_max);
    table_->rebuild_floor(rebuilt, mine.epoch.status.to_string());
    log::warning("own epoch record does not decode: floor rebuilt from the valid entries of both nodes and the "
                 "peer's floor; rewritten once this node holds a lease",
                 {{"reason", mine.epoch.status.to_string()}, {"floor", rebuilt}});
  }
  table_->raise_floor(peer_max);
  log::info("own region loaded", {{"floor", table_->durable_floor()},
                                  {"wanted_floor", table_->wanted_floor()},
                                  {"entries", table_->entries().size()},
                                  {"corrupt_blocks", table_->corrupt().size()}});
}

void TableService::request(ControlServer::ConnId conn, const ControlRequest& req, const QuorumCore& core,
                           uint64_t generation, TimePoint now) {
  const auto words = split_words(req.args);
  if (req.verb == "table-own") {
    Json j;
    j["ok"] = true;
    j["entries"] = Json::array();
    for (const auto& e : table_->entries()) j["entries"].push_back(entry_json(e));
    j["own_epoch_floor"] = table_->durable_floor();
    if (const auto& fe = table_->floor_error()) j["own_epoch_floor_error"] = *fe;
    j["corrupt_blocks"] = Json::array();  // found corrupt at start, being rewritten
    for (const auto& [b, why] : table_->corrupt()) j["corrupt_blocks"].push_back(Json{{"block", b}, {"reason", why}});
    server_.reply(conn, json_text(j));
  } else if (req.verb == "table-set") {
    table_set(conn, words, core, now);
  } else if (req.verb == "table-peer") {
    // The peer's epoch record and all 34 table blocks, in one read (blocks 1..35 of its region).
    if (!words.empty()) return server_.reply_error(conn, "table-peer takes no arguments", false);
    peer_table_waiters_.push_back(conn);
    if (peer_table_reading_) return;
    Status st = io_.submit_read_into(device_, HeartbeatIo::Purpose::table_read,
                                     layout_.epoch_record_offset(core.peer_id()), peer_table_buffer_.span(), generation,
                                     now, now + superblock_.timing.io_timeout);
    if (!st.ok()) {
      for (auto c : std::exchange(peer_table_waiters_, {}))
        server_.reply_error(c, "reading the peer's table: " + st.message(), false);
      return;
    }
    peer_table_reading_ = true;
  } else {
    server_.reply_error(conn, "unknown verb '" + req.verb + "'", false);
  }
}

void TableService::table_set(ControlServer::ConnId conn, const std::vector<std::string>& words, const QuorumCore& core,
                             TimePoint now) {
  // table-set NAME STATE NODE EPOCH BALLOT FLAGS RESTARTS DIGEST
  if (words.size() != 8)
    return server_.reply_error(conn, "table-set NAME STATE NODE EPOCH BALLOT FLAGS RESTARTS DIGEST", false);
  ServiceEntry e;
  e.in_use = true;
  e.name = words[0];
  bool state_ok = false;
  for (uint8_t i = 0; i <= kMaxOwnershipState; ++i)
    if (words[1] == ownership_state_name(OwnershipState(i))) {
      e.state = OwnershipState(i);
      state_ok = true;
    }
  std::vector<uint64_t> n;
  for (size_t i = 2; i < 8; ++i) {
    auto v = parse_u64(words[i]);
    if (!v.ok()) return server_.reply_error(conn, "table-set: " + v.status().message(), false);
    n.push_back(*v);
  }
  if (!state_ok || n[0] > kNodeCount || n[3] > 0xFFFF || n[4] > 0xFFFFFFFFu || !check_name("service", e.name).ok())
    return server_.reply_error(conn, "table-set: a field is out of range", false);
  e.node = uint32_t(n[0]);
  e.epoch = n[1];
  e.ballot = n[2];
  e.flags = uint16_t(n[3] & ServiceEntry::kKnownFlags);
  e.restarts = uint32_t(n[4]);
  e.definition_digest = n[5];
  e.changed_wall_ns = wall_time_ns();
  if (!core.may_act(now)) return server_.reply_error(conn, "no lease: this node may not write", false);
  const bool up = e.state == OwnershipState::claiming || e.state == OwnershipState::owned ||
                  e.state == OwnershipState::releasing;
  if (up && (core.phase() == CorePhase::leaving_down || core.phase() == CorePhase::left))
    return server_.reply_error(conn, "table-set: this node is writing DOWN; it takes no service", false);
  auto b = writer_->set(e, conn);
  if (!b.ok()) return server_.reply_error(conn, "table-set: " + b.status().message(), false);
  pump(core, now);
}

void TableService::deliver(std::vector<RegionWriter::Reply>& replies) {
  for (const auto& r : replies) {
    if (r.status.ok())
      server_.reply(r.waiter, json_text(Json{{"ok", true}, {"completed_boottime_ns", ns(r.completed)}}));
    else
      server_.reply_error(r.waiter, r.status.message(), false);
  }
  replies.clear();
}

void TableService::pump(const QuorumCore& core, TimePoint now) {
  std::vector<RegionWriter::Reply> replies;
  writer_->pump(device_, now, core.may_act(now), core.config().incarnation, io_.next_tag(), replies);
  deliver(replies);
}

bool TableService::on_region_completion(const IoCompletion& c, const QuorumCore& core, TimePoint now) {
  std::vector<RegionWriter::Reply> replies;
  if (!writer_->on_completion(c, now, replies)) return false;
  deliver(replies);
  pump(core, now);
  return true;
}

void TableService::peer_read_done(const HeartbeatIo::Pending& p, const IoCompletion& c, const QuorumCore& core) {
  peer_table_reading_ = false;
  if (!c.status.ok()) {
    for (auto conn : std::exchange(peer_table_waiters_, {}))
      server_.reply_error(conn, "reading the peer's table failed: " + c.status.to_string(), false);
    return;
  }
  const PeerRegion region =
      decode_peer_region(peer_table_buffer_.span(), layout_, core.peer_id(), superblock_.cluster_uuid,
                         options_.bug_read_block0 ? 1 : kServiceTableBlocks);
  // This node's floor also bounds every epoch it saw: written before its next table write.
  table_->raise_floor(region.max_epoch());
  const PeerMonitor& pm = core.peer();
  Json j;
  j["ok"] = true;
  j["read_issued_boottime_ns"] = ns(p.issued);
  j["entries"] = Json::array();
  for (size_t i = 0; i < region.entries.size(); ++i)
    j["entries"].push_back(entry_json(region.entries[i], region.entry_blocks[i], region.entry_incarnations[i]));
  j["corrupt_blocks"] = Json::array();
  for (const auto& cb : region.corrupt)
    j["corrupt_blocks"].push_back(Json{{"block", cb.block}, {"reason", cb.reason}, {"hash", cb.hash}});
  if (region.floor) {
    j["peer_epoch_floor"] = *region.floor;
  } else {
    j["peer_epoch_floor"] = nullptr;
    j["peer_epoch_floor_error"] = region.floor_error;
  }
  j["own_epoch_floor"] = table_->durable_floor();
  Json peer;
  peer["view"] = peer_view_name(pm.view());
  peer["incarnation"] = pm.incarnation();
  peer["confirmed_boottime_ns"] = ns(pm.confirmed_read_issued());
  const bool known = pm.record().has_value() && pm.record()->services_digest != 0;
  peer["digest_known"] = known;
  peer["services_digest"] = known ? pm.record()->services_digest : uint64_t(0);
  peer["standby"] = pm.record() && (pm.record()->flags & HeartbeatRecord::kStandby) != 0;
  j["peer"] = std::move(peer);
  const std::string text = json_text(j);
  for (auto conn : std::exchange(peer_table_waiters_, {})) server_.reply(conn, text);
}

}  // namespace castor
