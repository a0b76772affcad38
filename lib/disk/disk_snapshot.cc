#include "disk/disk_snapshot.h"

#include <algorithm>

#include "common/aligned_buffer.h"

namespace castor {

const Superblock* DiskSnapshot::valid_superblock() const {
  if (superblock.record) return &*superblock.record;
  if (superblock_backup.record) return &*superblock_backup.record;
  return nullptr;
}

int DiskSnapshot::invalid_records() const {
  int n = 0;
  auto count = [&n](const Status& st) {
    if (!st.ok() && st.code() != Code::not_found) ++n;
  };
  count(superblock.status);
  count(superblock_backup.status);
  for (const auto& r : nodes) {
    count(r.heartbeat.status);
    count(r.epoch.status);
    for (const auto& t : r.table) count(t.status);
  }
  return n;
}

namespace {

template <typename T>
void check_cluster(RecordRead<T>& r, const Superblock* sb) {
  if (!r.record || !sb) return;
  if (!(r.record->cluster_uuid == sb->cluster_uuid)) {
    r.status = Error(Code::corrupt, "written for another cluster (UUID " + r.record->cluster_uuid.to_string() +
                                        "), not " + sb->cluster_uuid.to_string());
    r.record.reset();
  }
}

// Epoch and table blocks are written by castor init: an all-zero one is damage (or a disk made by an older
// init, which quorumd upgrades at start), never "not written yet".
template <typename T>
void zeroed_is_damage(RecordRead<T>& r, const std::string& what) {
  if (r.status.code() == Code::not_found)
    r.status = Error(Code::corrupt, what + " is zeroed (castor init writes every epoch and table block: wiped, or "
                                          "a disk made by an older castor init that quorumd has not rewritten yet)");
}

template <typename T>
void take(RecordRead<T>& out, uint64_t offset, Result<T> decoded) {
  out.offset = offset;
  out.status = decoded.status();
  if (decoded.ok()) out.record = std::move(decoded).value();
}

}  // namespace

Result<DiskSnapshot> read_disk_snapshot(BlockDevice& dev, const Clock& clock, Duration io_timeout,
                                        const RecordSeal& seal) {
  ASSIGN_OR_RETURN(DiskLayout layout, DiskLayout::for_sector_size(dev.geometry().logical_sector_size));
  const uint64_t total = layout.required_bytes();
  if (dev.geometry().size_bytes < total)
    return Error(Code::invalid_argument, dev.name() + " is " + std::to_string(dev.geometry().size_bytes) +
                                             " bytes; a quorum disk needs at least " + std::to_string(total));
  AlignedBuffer buf(total, layout.block_size());
  if (!buf.valid()) return Error(Code::internal, "out of memory reading " + dev.name());
  RETURN_IF_ERROR(read_blocking(dev, clock, 0, buf.span(), io_timeout).with_context("reading " + dev.name()));
  const auto all = buf.span();
  auto block_at = [&](uint64_t off) { return std::span<const std::byte>(all.subspan(off, layout.block_size())); };

  DiskSnapshot s;
  s.layout = layout;
  s.seal = seal.mode();
  take(s.superblock, layout.superblock_offset(), decode_superblock(block_at(layout.superblock_offset()), layout, seal));
  take(s.superblock_backup, layout.superblock_backup_offset(),
       decode_superblock(block_at(layout.superblock_backup_offset()), layout, seal));
  const Superblock* sb = s.valid_superblock();
  for (uint32_t id = 1; id <= kNodeCount; ++id) {
    NodeRegionSnapshot& n = s.nodes[id - 1];
    n.node_id = id;
    take(n.heartbeat, layout.heartbeat_offset(id), decode_heartbeat(block_at(layout.heartbeat_offset(id)), layout, id, seal));
    check_cluster(n.heartbeat, sb);
    take(n.epoch, layout.epoch_record_offset(id),
         decode_epoch_record(block_at(layout.epoch_record_offset(id)), layout, id, seal));
    check_cluster(n.epoch, sb);
    zeroed_is_damage(n.epoch, "epoch record of node " + std::to_string(id));
    n.table.resize(kServiceTableBlocks);
    for (uint32_t b = 0; b < kServiceTableBlocks; ++b) {
      uint64_t off = layout.service_table_offset(id) + uint64_t(b) * layout.block_size();
      take(n.table[b], off, decode_service_table(block_at(off), layout, id, b, seal));
      check_cluster(n.table[b], sb);
      zeroed_is_damage(n.table[b], "service table of node " + std::to_string(id) + ", block " + std::to_string(b));
    }
  }
  return s;
}

Result<RecordSeal> carried_epoch_seal(const std::optional<Superblock>& old_sb, const RecordSeal& key_seal) {
  if (!old_sb) return RecordSeal::tag_unchecked();
  if (!old_sb->records_authenticated) return RecordSeal::crc_only();
  if (!key_seal.authenticated())
    return Error(Code::refused,
                 "the disk's records are authenticated: give --authenticate --authkey (its key) to carry its epochs "
                 "over (without the key a forged epoch record cannot be told from a genuine one)");
  return key_seal;
}

Result<HighestEpoch> read_highest_epoch(BlockDevice& dev, const Clock& clock, Duration io_timeout,
                                        const RecordSeal& seal) {
  ASSIGN_OR_RETURN(DiskLayout layout, DiskLayout::for_sector_size(dev.geometry().logical_sector_size));
  const uint64_t total = layout.required_bytes();
  if (dev.geometry().size_bytes < total)
    return Error(Code::invalid_argument, dev.name() + " is too small to hold a quorum disk");
  AlignedBuffer buf(total, layout.block_size());
  if (!buf.valid()) return Error(Code::internal, "out of memory reading " + dev.name());
  RETURN_IF_ERROR(read_blocking(dev, clock, 0, buf.span(), io_timeout).with_context("reading " + dev.name()));
  const auto all = buf.span();
  auto block_at = [&](uint64_t off) { return std::span<const std::byte>(all.subspan(off, layout.block_size())); };

  HighestEpoch h;
  const RecordSeal unchecked = RecordSeal::tag_unchecked();
  // With the key: does a record that failed decode without its tag being checked? Then its tag is wrong.
  auto tag_fails = [&](auto&& decode) { return seal.authenticated() && decode(unchecked).ok(); };
  for (uint32_t id = 1; id <= kNodeCount; ++id) {
    const std::string node = "node " + std::to_string(id);
    const auto ep_block = block_at(layout.epoch_record_offset(id));
    auto ep = decode_epoch_record(ep_block, layout, id, seal);
    if (ep.ok()) {
      ++h.verified_epoch_records;
      h.floors[id - 1] = ep->epoch_floor;
      h.highest = std::max(h.highest, ep->epoch_floor);
    } else if (ep.status().code() != Code::not_found &&
               tag_fails([&](const RecordSeal& s) { return decode_epoch_record(ep_block, layout, id, s); })) {
      h.untrusted.push_back("epoch record of " + node + ": its tag does not verify with the key (ignored)");
    } else {
      h.unreadable.push_back("epoch record of " + node + ": " +
                             (ep.status().code() == Code::not_found ? std::string("zeroed") : ep.status().message()));
    }
    for (uint32_t b = 0; b < kServiceTableBlocks; ++b) {
      auto blk = block_at(layout.service_table_offset(id) + uint64_t(b) * layout.block_size());
      auto t = decode_service_table(blk, layout, id, b, seal);
      if (!t.ok()) {
        if (t.status().code() != Code::not_found &&
            tag_fails([&](const RecordSeal& s) { return decode_service_table(blk, layout, id, b, s); }))
          h.untrusted.push_back("service table of " + node + ", block " + std::to_string(b) +
                                ": its tag does not verify with the key (ignored)");
        else if (t.status().code() != Code::not_found)
          h.unreadable.push_back("service table of " + node + ", block " + std::to_string(b) + ": " + t.status().message());
        continue;
      }
      for (const auto& e : t->entries) {
        if (!e.in_use) continue;
        ++h.entries;
        h.highest_entry = std::max(h.highest_entry, e.epoch);
      }
    }
  }
  h.highest = std::max(h.highest, h.highest_entry);
  return h;
}

}  // namespace castor
