#include "disk/device_replacement.h"

#include "common/aligned_buffer.h"
#include "disk/disk_layout.h"

namespace castor {

Superblock next_device_set_generation(const Superblock& set, uint32_t slot, const Uuid& new_id) {
  Superblock next = set;
  next.devices.generation = set.devices.generation + 1;
  next.devices.changed_slot = slot;
  next.devices.members[slot] = new_id;
  return next;
}

Status write_superblock_copies(BlockDevice& dev, const Clock& clock, const Superblock& sb, const RecordSeal& seal,
                               Duration io_timeout) {
  ASSIGN_OR_RETURN(DiskLayout layout, DiskLayout::for_sector_size(dev.geometry().logical_sector_size));
  AlignedBuffer block(layout.block_size(), layout.block_size());
  if (!block.valid()) return Error(Code::internal, "out of memory for a superblock");
  RETURN_IF_ERROR(encode_superblock(sb, layout, seal, block.span()));
  RETURN_IF_ERROR(write_blocking(dev, clock, layout.superblock_backup_offset(), block.span(), io_timeout)
                      .with_context(dev.name() + ": writing the superblock backup"));
  return write_blocking(dev, clock, layout.superblock_offset(), block.span(), io_timeout)
      .with_context(dev.name() + ": writing the superblock");
}

Status prepare_new_member(BlockDevice& dev, const Clock& clock, const Superblock& next, uint32_t slot,
                          const RecordSeal& seal, Duration io_timeout) {
  if (slot >= next.devices.members.size()) return Error(Code::invalid_argument, "no member slot " + std::to_string(slot));
  ASSIGN_OR_RETURN(DiskLayout layout, DiskLayout::for_sector_size(dev.geometry().logical_sector_size));
  if (dev.geometry().size_bytes < layout.required_bytes())
    return Error(Code::invalid_argument, dev.name() + " is smaller than a quorum disk (" +
                                             std::to_string(layout.required_bytes()) + " bytes)");
  AlignedBuffer zero(layout.required_bytes(), layout.block_size());
  if (!zero.valid()) return Error(Code::internal, "out of memory for the quorum area");
  RETURN_IF_ERROR(write_blocking(dev, clock, 0, zero.span(), io_timeout)
                      .with_context(dev.name() + ": zeroing the quorum area"));
  Superblock member = next;
  member.devices.index = slot;
  return write_superblock_copies(dev, clock, member, seal, io_timeout);
}

Status raise_member(BlockDevice& dev, const Clock& clock, const Superblock& next, uint32_t index,
                    const RecordSeal& seal, Duration io_timeout) {
  Superblock member = next;
  member.devices.index = index;
  return write_superblock_copies(dev, clock, member, seal, io_timeout);
}

}  // namespace castor
