#include "disk/quorum_disk_init.h"

#include "common/aligned_buffer.h"
#include "disk/disk_snapshot.h"
#include "disk/epoch_record.h"
#include "disk/service_table_record.h"

namespace castor {

Status initialize_quorum_disk(BlockDevice& dev, const Clock& clock, const Superblock& sb, const RecordSeal& seal,
                              Duration io_timeout, uint64_t epoch_floor) {
  if (sb.records_authenticated != seal.authenticated())
    return Error(Code::internal, "the superblock's authentication flag and the seal disagree");
  ASSIGN_OR_RETURN(DiskLayout layout, DiskLayout::for_sector_size(dev.geometry().logical_sector_size));
  if (sb.sector_size != layout.sector_size())
    return Error(Code::internal, "superblock sector size differs from the device's");
  if (dev.geometry().size_bytes < layout.required_bytes())
    return Error(Code::invalid_argument, dev.name() + " is too small for a quorum disk");

  // The quorum area: zeroes (superblocks come last, heartbeats stay "never written"), with each node's
  // epoch record and empty service table.
  AlignedBuffer area(layout.required_bytes(), layout.block_size());
  if (!area.valid()) return Error(Code::internal, "out of memory");
  auto block_at = [&](uint64_t off) { return area.span().subspan(off, layout.block_size()); };
  for (uint32_t id = 1; id <= kNodeCount; ++id) {
    EpochRecord ep;
    ep.cluster_uuid = sb.cluster_uuid;
    ep.node_id = id;
    ep.incarnation = 0;
    ep.seq = 0;
    ep.wall_time_ns = sb.created_wall_ns;
    ep.epoch_floor = epoch_floor;
    RETURN_IF_ERROR(encode_epoch_record(ep, layout, seal, block_at(layout.epoch_record_offset(id))));
    for (uint32_t b = 0; b < kServiceTableBlocks; ++b) {
      ServiceTableRecord t;
      t.cluster_uuid = sb.cluster_uuid;
      t.node_id = id;
      t.block_index = b;
      t.incarnation = 0;
      t.seq = 0;
      t.wall_time_ns = sb.created_wall_ns;
      t.entries.resize(layout.services_per_block());
      RETURN_IF_ERROR(encode_service_table(t, layout, seal, block_at(layout.service_table_offset(id) + uint64_t(b) * layout.block_size())));
    }
  }
  RETURN_IF_ERROR(write_blocking(dev, clock, 0, area.span(), io_timeout).with_context("writing the node regions"));

  AlignedBuffer block(layout.block_size(), layout.block_size());
  if (!block.valid()) return Error(Code::internal, "out of memory");
  RETURN_IF_ERROR(encode_superblock(sb, layout, seal, block.span()));
  RETURN_IF_ERROR(write_blocking(dev, clock, layout.superblock_backup_offset(), block.span(), io_timeout)
                      .with_context("writing the superblock backup"));
  RETURN_IF_ERROR(write_blocking(dev, clock, layout.superblock_offset(), block.span(), io_timeout)
                      .with_context("writing the superblock"));

  // Read everything back: both superblocks equal to `sb`, every epoch and table block valid.
  ASSIGN_OR_RETURN(DiskSnapshot snap, read_disk_snapshot(dev, clock, io_timeout, seal));
  for (const auto* r : {&snap.superblock, &snap.superblock_backup}) {
    if (!r->record) return r->status.with_context("superblock read back at offset " + std::to_string(r->offset));
    if (!(*r->record == sb))
      return Error(Code::io_error, "superblock read back at offset " + std::to_string(r->offset) + " differs from what was written");
  }
  for (const auto& n : snap.nodes) {
    if (!n.epoch.record)
      return n.epoch.status.with_context("epoch record of node " + std::to_string(n.node_id) + " read back");
    if (n.epoch.record->epoch_floor != epoch_floor)
      return Error(Code::io_error, "epoch record of node " + std::to_string(n.node_id) + " read back with another floor");
    for (const auto& t : n.table)
      if (!t.record) return t.status.with_context("service table block read back at offset " + std::to_string(t.offset));
  }
  return Status::Ok();
}

Status initialize_quorum_device_set(const std::vector<BlockDevice*>& devices, const Clock& clock, const Superblock& sb,
                                    const RecordSeal& seal, Duration io_timeout, uint64_t epoch_floor) {
  if (devices.size() != kQuorumDevices || sb.devices.count != kQuorumDevices)
    return Error(Code::internal, "a set of quorum devices has " + std::to_string(kQuorumDevices) + " members");
  for (uint32_t i = 0; i < devices.size(); ++i) {
    Superblock member = sb;
    member.devices.index = i;
    RETURN_IF_ERROR(initialize_quorum_disk(*devices[i], clock, member, seal, io_timeout, epoch_floor)
                        .with_context("quorum device " + std::to_string(i) + " (" + devices[i]->name() + ")"));
  }
  return Status::Ok();
}

}  // namespace castor
