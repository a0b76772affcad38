#include "quorumd/table_service.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "common/log.h"
#include "control/table_codec.h"
#include "disk/heartbeat_record.h"
#include "quorumd/peer_region.h"

namespace castor {
namespace {

int64_t ns(TimePoint t) { return t.time_since_epoch().count(); }

// The entry as the table replies carry it; `block`/`incarnation` (table-peer only): the peer table block
// holding it and the incarnation that wrote it.
TableEntry table_entry(const ServiceEntry& e, std::optional<uint32_t> block = std::nullopt,
                       std::optional<uint64_t> incarnation = std::nullopt) {
  return TableEntry{e, block, incarnation};
}

}  // namespace

Result<std::unique_ptr<TableService>> TableService::create(const DiskLayout& layout, const Superblock& sb,
                                                           uint32_t node_id, const RecordSeal& seal,
                                                           const DiskSnapshot& snap, Options options,
                                                           TimePoint now, ControlServer& server, BlockDevice& device,
                                                           HeartbeatIo& io) {
  std::unique_ptr<TableService> t(new TableService(layout, sb, node_id, seal, options, server, device, io));
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
  table_ = std::make_unique<ServiceTableStore>(layout_, superblock_.cluster_uuid, node_id_, seal_);
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
  // What the snapshot read of the peer's blocks (checked with this seal) is the first history a replay is
  // measured against.
  bool first = false;
  const bool sealed = snap.seal == seal_.mode();
  if (sealed && peer.epoch.record && peer.epoch.record->cluster_uuid == superblock_.cluster_uuid)
    check_replay(peer_seen_.epoch, peer.epoch.record->incarnation, peer.epoch.record->seq, first);
  for (uint32_t b = 0; sealed && b < kServiceTableBlocks && b < peer.table.size(); ++b)
    if (const auto& r = peer.table[b].record; r && r->cluster_uuid == superblock_.cluster_uuid)
      check_replay(peer_seen_.table[b], r->incarnation, r->seq, first);
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
  if (req.verb == "table-own") {
    TableOwnReply r;
    for (const auto& e : table_->entries()) r.entries.push_back(table_entry(e));
    r.own_epoch_floor = table_->durable_floor();
    r.own_epoch_floor_error = table_->floor_error();
    // Found corrupt at start, being rewritten.
    for (const auto& [b, why] : table_->corrupt()) r.corrupt_blocks.push_back({b, why, std::nullopt});
    server_.reply(conn, encode_table_own_reply(r));
  } else if (req.verb == "table-set") {
    table_set(conn, req.args, core, now);
  } else if (req.verb == "table-peer") {
    // The peer's epoch record and all 34 table blocks, in one read (blocks 1..35 of its region).
    if (req.args.find_first_not_of(' ') != std::string::npos)
      return server_.reply_error(conn, "table-peer takes no arguments", false);
    peer_table_waiters_.push_back(server_.defer(conn));  // answered when the read completes, in request order
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

void TableService::table_set(ControlServer::ConnId conn, const std::string& args, const QuorumCore& core,
                             TimePoint now) {
  auto r = parse_table_set_args(args);  // its errors are the replies
  if (!r.ok()) return server_.reply_error(conn, r.status().message(), false);
  ServiceEntry e = r->to_entry();
  e.changed_wall_ns = wall_time_ns();
  if (!core.may_act(now)) return server_.reply_error(conn, "no lease: this node may not write", false);
  const bool up = e.state == OwnershipState::claiming || e.state == OwnershipState::owned ||
                  e.state == OwnershipState::releasing;
  if (up && (core.phase() == CorePhase::leaving_down || core.phase() == CorePhase::left))
    return server_.reply_error(conn, "table-set: this node is writing DOWN; it takes no service", false);
  const ControlServer::ConnId waiter = server_.defer(conn);  // answered once written, in request order
  auto b = writer_->set(e, waiter);
  if (!b.ok()) return server_.reply_error(waiter, "table-set: " + b.status().message(), false);
  pump(core, now);
}

void TableService::deliver(std::vector<RegionWriter::Reply>& replies) {
  for (const auto& r : replies) {
    if (r.status.ok())
      server_.reply(r.waiter, encode_table_set_reply(TableSetReply{ns(r.completed)}));
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
      decode_peer_region(peer_table_buffer_.span(), layout_, core.peer_id(), superblock_.cluster_uuid, seal_,
                         options_.bug_read_block0 ? 1 : kServiceTableBlocks, &peer_seen_);
  for (const auto& why : region.new_replays)
    log::warning("a block of the peer's region is older than one already read of it (written back): its "
                 "content is unknown, never free",
                 {{"peer", core.peer_id()}, {"reason", why}});
  // This node's floor also bounds every epoch it saw: written before its next table write.
  table_->raise_floor(region.max_epoch());
  const PeerMonitor& pm = core.peer();
  TablePeerReply r;
  r.read_issued_boottime_ns = ns(p.issued);
  for (size_t i = 0; i < region.entries.size(); ++i)
    r.entries.push_back(table_entry(region.entries[i], region.entry_blocks[i], region.entry_incarnations[i]));
  for (const auto& cb : region.corrupt) r.corrupt_blocks.push_back({cb.block, cb.reason, cb.hash});
  r.peer_epoch_floor = region.floor;
  if (!region.floor) r.peer_epoch_floor_error = region.floor_error;
  r.own_epoch_floor = table_->durable_floor();
  r.peer.view = pm.view();
  r.peer.incarnation = pm.incarnation();
  r.peer.confirmed_boottime_ns = ns(pm.confirmed_read_issued());
  r.peer.digest_known = pm.record().has_value() && pm.record()->services_digest != 0;
  r.peer.services_digest = r.peer.digest_known ? pm.record()->services_digest : uint64_t(0);
  r.peer.standby = pm.record() && (pm.record()->flags & HeartbeatRecord::kStandby) != 0;
  if (pm.record()) {
    r.peer.request = pm.record()->peer_request;
    r.peer.request_serial = pm.record()->peer_request_serial;
    r.peer.takes_requests = (pm.record()->features & HeartbeatRecord::kTakesPeerRequests) != 0;
    if (pm.record()->features & HeartbeatRecord::kPublishesStartedMark) {
      r.peer.started_mark = pm.record()->started_mark;
      r.peer.not_started.assign(pm.record()->not_started.begin(), pm.record()->not_started.end());
    }
  }
  r.peer.handled_incarnation = core.handled_request_incarnation();
  r.peer.handled_serial = core.handled_request_serial();
  const std::string text = encode_table_peer_reply(r);
  for (auto conn : std::exchange(peer_table_waiters_, {})) server_.reply(conn, text);
}

}  // namespace castor
