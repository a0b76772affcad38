// DiskLayout: where every record of the quorum disk lives, for a given logical sector size.
// See docs/ondisk-format.md. Every record occupies one block of max(sector size, 4096) bytes, aligned to
// the block size; each block has exactly one writer (castor init for the header area, node N for region N).
// Pure arithmetic: no I/O.
#pragma once

#include <cstdint>

#include "common/status.h"

namespace castor {

inline constexpr uint32_t kMagic = 0x52545343;  // "CSTR" when read as little-endian bytes
inline constexpr uint16_t kFormatVersion = 1;
inline constexpr uint32_t kNodeCount = 2;         // node ids are 1 and 2
inline constexpr uint32_t kRecordHeaderSize = 64;
inline constexpr uint32_t kHeaderAreaBlocks = 16;  // block 0: superblock, block 1: its backup copy, rest reserved
inline constexpr uint32_t kRegionBlocks = 64;      // per node
inline constexpr uint32_t kHeartbeatBlock = 0;     // within a node region
inline constexpr uint32_t kEpochBlock = 1;         // the node's epoch floor (epoch_record.h)
inline constexpr uint32_t kServiceTableFirstBlock = 2;
inline constexpr uint32_t kServiceTableBlocks = 34;
inline constexpr uint32_t kServiceEntrySize = 128;
inline constexpr uint32_t kMinServiceSlots = 1024;
inline constexpr uint32_t kNameWidth = 64;  // fixed-width, NUL-padded names: at most 63 bytes

// Type 3 (a mailbox that nothing wrote) is retired and never reused.
enum class RecordType : uint16_t { superblock = 1, heartbeat = 2, service_table = 4, epoch = 5 };
const char* record_type_name(RecordType t);

class DiskLayout {
 public:
  // sector_size must be a power of two in [512, 65536].
  static Result<DiskLayout> for_sector_size(uint32_t sector_size);

  uint32_t sector_size() const { return sector_size_; }
  uint32_t block_size() const { return block_size_; }

  uint64_t superblock_offset() const { return 0; }
  uint64_t superblock_backup_offset() const { return block_size_; }
  // node_id is 1 or 2.
  uint64_t region_offset(uint32_t node_id) const;
  uint64_t heartbeat_offset(uint32_t node_id) const { return region_offset(node_id) + kHeartbeatBlock * uint64_t(block_size_); }
  uint64_t epoch_record_offset(uint32_t node_id) const { return region_offset(node_id) + kEpochBlock * uint64_t(block_size_); }
  uint64_t service_table_offset(uint32_t node_id) const {
    return region_offset(node_id) + kServiceTableFirstBlock * uint64_t(block_size_);
  }
  uint64_t service_table_bytes() const { return uint64_t(kServiceTableBlocks) * block_size_; }
  uint32_t services_per_block() const { return (block_size_ - kRecordHeaderSize) / kServiceEntrySize; }
  uint32_t service_slots() const { return services_per_block() * kServiceTableBlocks; }
  // Bytes from the start of the device to the end of the last region: the smallest usable device.
  uint64_t required_bytes() const;

 private:
  uint32_t sector_size_ = 0;
  uint32_t block_size_ = 0;
};

}  // namespace castor
