#include "quorumd/quorum_disk_init.h"

#include "common/aligned_buffer.h"

namespace castor {

Status initialize_quorum_disk(BlockDevice& dev, const Clock& clock, const Superblock& sb, Duration io_timeout) {
  ASSIGN_OR_RETURN(DiskLayout layout, DiskLayout::for_sector_size(dev.geometry().logical_sector_size));
  if (sb.sector_size != layout.sector_size())
    return Error(Code::internal, "superblock sector size differs from the device's");
  if (dev.geometry().size_bytes < layout.required_bytes())
    return Error(Code::invalid_argument, dev.name() + " is too small for a quorum disk");

  AlignedBuffer zeros(layout.required_bytes(), layout.block_size());
  if (!zeros.valid()) return Error(Code::internal, "out of memory");
  RETURN_IF_ERROR(write_blocking(dev, clock, 0, zeros.span(), io_timeout).with_context("clearing the quorum area"));

  AlignedBuffer block(layout.block_size(), layout.block_size());
  if (!block.valid()) return Error(Code::internal, "out of memory");
  RETURN_IF_ERROR(encode_superblock(sb, layout, block.span()));
  RETURN_IF_ERROR(write_blocking(dev, clock, layout.superblock_backup_offset(), block.span(), io_timeout)
                      .with_context("writing the superblock backup"));
  RETURN_IF_ERROR(write_blocking(dev, clock, layout.superblock_offset(), block.span(), io_timeout)
                      .with_context("writing the superblock"));

  for (uint64_t off : {layout.superblock_offset(), layout.superblock_backup_offset()}) {
    AlignedBuffer back(layout.block_size(), layout.block_size());
    RETURN_IF_ERROR(read_blocking(dev, clock, off, back.span(), io_timeout).with_context("reading back the superblock"));
    auto decoded = decode_superblock(back.span(), layout);
    if (!decoded.ok()) return decoded.status().with_context("superblock read back at offset " + std::to_string(off));
    if (!(*decoded == sb)) return Error(Code::io_error, "superblock read back at offset " + std::to_string(off) + " differs from what was written");
  }
  return Status::Ok();
}

}  // namespace castor
