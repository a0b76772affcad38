#include "quorumd/service_table_store.h"

#include <algorithm>

#include "disk/epoch_record.h"
#include "disk/superblock.h"

namespace castor {

ServiceTableStore::ServiceTableStore(const DiskLayout& layout, const Uuid& cluster, uint32_t node_id,
                                     const RecordSeal& seal)
    : layout_(layout), seal_(seal), cluster_(cluster), node_id_(node_id), blocks_(kServiceTableBlocks) {
  for (uint32_t b = 0; b < kServiceTableBlocks; ++b) {
    ServiceTableRecord& r = blocks_[b].rec;
    r.cluster_uuid = cluster;
    r.node_id = node_id;
    r.block_index = b;
    r.entries.resize(layout.services_per_block());
  }
}

void ServiceTableStore::load(uint32_t b, const ServiceTableRecord& rec) {
  if (b >= blocks_.size() || rec.entries.size() != layout_.services_per_block()) return;
  blocks_[b].rec.entries = rec.entries;
  seq_ = std::max(seq_, rec.seq);
  for (uint32_t i = 0; i < rec.entries.size(); ++i)
    if (rec.entries[i].in_use) {
      slots_[rec.entries[i].name] = {b, i};
      wanted_floor_ = std::max(wanted_floor_, rec.entries[i].epoch);
    }
}

void ServiceTableStore::mark_corrupt(uint32_t b, const std::string& reason) {
  if (b >= blocks_.size()) return;
  corrupt_[b] = reason;
  blocks_[b].rewrite = true;
}

void ServiceTableStore::load_floor(uint64_t floor) {
  durable_floor_ = std::max(durable_floor_, floor);
  wanted_floor_ = std::max(wanted_floor_, floor);
}

void ServiceTableStore::rebuild_floor(uint64_t rebuilt, const std::string& reason) {
  wanted_floor_ = std::max(wanted_floor_, rebuilt);
  floor_error_ = reason;
  epoch_.rewrite = true;
}

void ServiceTableStore::raise_floor(uint64_t e) { wanted_floor_ = std::max(wanted_floor_, e); }

Result<uint32_t> ServiceTableStore::set(const ServiceEntry& e) {
  // Only what decodes again may go in: one bad entry would make its whole block (31 services) unreadable.
  if (!check_name("service name", e.name).ok()) return Error(Code::invalid_argument, "bad service name");
  if (uint8_t(e.state) > kMaxOwnershipState || e.node > kNodeCount || (e.flags & ~ServiceEntry::kKnownFlags) != 0)
    return Error(Code::invalid_argument, "service entry field out of range");
  std::pair<uint32_t, uint32_t> where;
  if (auto it = slots_.find(e.name); it != slots_.end()) {
    where = it->second;
  } else {
    bool found = false;
    for (uint32_t b = 0; b < blocks_.size() && !found; ++b)
      for (uint32_t i = 0; i < blocks_[b].rec.entries.size() && !found; ++i)
        if (!blocks_[b].rec.entries[i].in_use) {
          where = {b, i};
          found = true;
        }
    if (!found) return Error(Code::refused, "the service table is full");
    slots_[e.name] = where;
  }
  ServiceEntry& slot = blocks_[where.first].rec.entries[where.second];
  slot = e;
  slot.in_use = true;
  blocks_[where.first].changed = true;
  wanted_floor_ = std::max(wanted_floor_, e.epoch);
  return where.first;
}

std::vector<ServiceEntry> ServiceTableStore::entries() const {
  std::vector<ServiceEntry> out;
  for (const auto& b : blocks_)
    for (const auto& e : b.rec.entries)
      if (e.in_use) out.push_back(e);
  return out;
}

std::vector<std::string> ServiceTableStore::up_entries() const {
  std::vector<std::string> out;
  for (const auto& b : blocks_)
    for (const auto& e : b.rec.entries)
      if (e.in_use && (e.state == OwnershipState::claiming || e.state == OwnershipState::owned ||
                       e.state == OwnershipState::releasing))
        out.push_back(e.name + " (" + ownership_state_name(e.state) + ")");
  return out;
}

void ServiceTableStore::scrub() {
  epoch_.rewrite = true;
  for (auto& b : blocks_) b.rewrite = true;
}

uint64_t ServiceTableStore::max_epoch(uint32_t b) const {
  uint64_t m = 0;
  for (const auto& e : blocks_[b].rec.entries)
    if (e.in_use) m = std::max(m, e.epoch);
  return m;
}

bool ServiceTableStore::waits_for_floor(uint32_t b) const {
  return b < blocks_.size() && blocks_[b].dirty() && max_epoch(b) > durable_floor_;
}

size_t ServiceTableStore::writes_in_flight() const {
  size_t n = epoch_.in_flight ? 1 : 0;
  for (const auto& b : blocks_) n += b.in_flight ? 1 : 0;
  return n;
}

std::optional<uint32_t> ServiceTableStore::next_dirty() const {
  if (blocked_) return std::nullopt;
  // The epoch record and a table block holding epochs are never in the kernel together: they are the two
  // records that remember an epoch, and one crash tearing both would forget it (docs/design.md, "The epoch
  // only grows").
  if (epoch_.in_flight) return std::nullopt;
  bool epoch_block_in_flight = false;
  for (uint32_t b = 0; b < blocks_.size(); ++b)
    if (blocks_[b].in_flight && blocks_[b].epoch_in_flight > 0) epoch_block_in_flight = true;
  if (epoch_.rewrite || wanted_floor_ > durable_floor_) {
    if (epoch_block_in_flight) return std::nullopt;  // the record waits until they completed
    return kEpochRecord;
  }
  // svcmgr's changes before the store's own rewrites; a block whose epochs the durable floor does not
  // cover yet waits for the epoch record.
  for (int pass = 0; pass < 2; ++pass)
    for (uint32_t b = 0; b < blocks_.size(); ++b) {
      const Block& blk = blocks_[b];
      if (blk.in_flight || !(pass == 0 ? blk.changed : blk.rewrite)) continue;
      if (max_epoch(b) > durable_floor_) continue;
      return b;
    }
  return std::nullopt;
}

Status ServiceTableStore::encode(uint32_t b, uint64_t incarnation, int64_t wall_ns, std::span<std::byte> out) {
  if (b == kEpochRecord) {
    EpochRecord rec;
    rec.cluster_uuid = cluster_;
    rec.node_id = node_id_;
    rec.incarnation = incarnation;
    rec.seq = ++seq_;
    rec.wall_time_ns = wall_ns;
    rec.epoch_floor = std::max(durable_floor_, wanted_floor_);
    RETURN_IF_ERROR(encode_epoch_record(rec, layout_, seal_, out));
    epoch_.rewrite = false;
    epoch_.in_flight = true;
    epoch_.floor_in_flight = rec.epoch_floor;
    return Status::Ok();
  }
  if (b >= blocks_.size()) return Error(Code::invalid_argument, "no table block " + std::to_string(b));
  Block& blk = blocks_[b];
  if (max_epoch(b) > durable_floor_)
    return Error(Code::internal, "table block " + std::to_string(b) + " holds epoch " + std::to_string(max_epoch(b)) +
                                     " above the durable floor " + std::to_string(durable_floor_));
  blk.rec.incarnation = incarnation;
  blk.rec.seq = ++seq_;
  blk.rec.wall_time_ns = wall_ns;
  RETURN_IF_ERROR(encode_service_table(blk.rec, layout_, seal_, out));
  blk.changed = false;
  blk.rewrite = false;
  blk.in_flight = true;
  blk.epoch_in_flight = max_epoch(b);
  return Status::Ok();
}

void ServiceTableStore::write_done(uint32_t b, bool ok, bool timed_out) {
  if (timed_out) blocked_ = true;
  if (b == kEpochRecord) {
    epoch_.in_flight = false;
    if (ok) {
      durable_floor_ = std::max(durable_floor_, epoch_.floor_in_flight);
      floor_error_.reset();
    } else {
      epoch_.rewrite = true;
    }
    return;
  }
  if (b >= blocks_.size()) return;
  Block& blk = blocks_[b];
  blk.in_flight = false;
  if (ok) corrupt_.erase(b);
  else blk.changed = true;
}

void ServiceTableStore::device_quiescent() { blocked_ = false; }

void ServiceTableStore::discard(uint32_t b) {
  if (b < blocks_.size()) blocks_[b].changed = false;
}

}  // namespace castor
