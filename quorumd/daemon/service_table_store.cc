#include "quorumd/daemon/service_table_store.h"

#include "quorumd/superblock.h"

namespace castor {

ServiceTableStore::ServiceTableStore(const DiskLayout& layout, const Uuid& cluster, uint32_t node_id)
    : layout_(layout), blocks_(kServiceTableBlocks) {
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
    if (rec.entries[i].in_use) slots_[rec.entries[i].name] = {b, i};
}

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
  blocks_[where.first].dirty = true;
  return where.first;
}

std::vector<ServiceEntry> ServiceTableStore::entries() const {
  std::vector<ServiceEntry> out;
  for (const auto& b : blocks_)
    for (const auto& e : b.rec.entries)
      if (e.in_use) out.push_back(e);
  return out;
}

std::optional<uint32_t> ServiceTableStore::next_dirty() const {
  if (blocked_) return std::nullopt;
  for (uint32_t b = 0; b < blocks_.size(); ++b)
    if (blocks_[b].dirty && !blocks_[b].in_flight) return b;
  return std::nullopt;
}

Status ServiceTableStore::encode(uint32_t b, uint64_t incarnation, int64_t wall_ns, std::span<std::byte> out) {
  Block& blk = blocks_[b];
  blk.rec.incarnation = incarnation;
  blk.rec.seq = ++seq_;
  blk.rec.wall_time_ns = wall_ns;
  RETURN_IF_ERROR(encode_service_table(blk.rec, layout_, out));
  blk.dirty = false;
  blk.in_flight = true;
  return Status::Ok();
}

void ServiceTableStore::write_done(uint32_t b, bool ok, bool timed_out) {
  Block& blk = blocks_[b];
  blk.in_flight = false;
  if (!ok) blk.dirty = true;
  if (timed_out) blocked_ = true;
}

void ServiceTableStore::device_quiescent() { blocked_ = false; }

}  // namespace castor
