#include "disk/disk_layout.h"

#include <string>

namespace castor {

const char* record_type_name(RecordType t) {
  switch (t) {
    case RecordType::superblock: return "superblock";
    case RecordType::heartbeat: return "heartbeat";
    case RecordType::epoch: return "epoch";
    case RecordType::service_table: return "service table";
  }
  return "unknown record";
}

Result<DiskLayout> DiskLayout::for_sector_size(uint32_t sector_size) {
  if (sector_size < 512 || sector_size > 65536 || (sector_size & (sector_size - 1)) != 0)
    return Error(Code::unsupported, "logical sector size " + std::to_string(sector_size) +
                                        " is not a power of two between 512 and 65536");
  DiskLayout l;
  l.sector_size_ = sector_size;
  l.block_size_ = sector_size > 4096 ? sector_size : 4096;
  static_assert(kServiceTableFirstBlock + kServiceTableBlocks <= kRegionBlocks);
  static_assert((4096 - kRecordHeaderSize) / kServiceEntrySize * kServiceTableBlocks >= kMinServiceSlots);
  return l;
}

uint64_t DiskLayout::region_offset(uint32_t node_id) const {
  return (uint64_t(kHeaderAreaBlocks) + uint64_t(node_id - 1) * kRegionBlocks) * block_size_;
}

uint64_t DiskLayout::required_bytes() const {
  return (uint64_t(kHeaderAreaBlocks) + uint64_t(kNodeCount) * kRegionBlocks) * block_size_;
}

}  // namespace castor
