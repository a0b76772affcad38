// PeerRegion: what the peer's region says about its services — every entry of its 34 service-table blocks,
// every table block that failed to decode (with why), and its epoch floor — from blocks 1..35 of its region
// read in one go (the epoch record, then the table). A block that fails to decode for any reason (bad
// CRC, torn, zeroed, written for another cluster, unknown version, wrong node or index) is reported,
// never taken as "no entries": callers must treat what it held as unknown.
// Pure: no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/uuid.h"
#include "disk/disk_layout.h"
#include "disk/record_seal.h"
#include "disk/service_table_record.h"

namespace castor {

// Blocks read for the peer's table: the epoch record and the 34 table blocks, contiguous on disk.
inline constexpr uint32_t kPeerRegionReadBlocks = 1 + kServiceTableBlocks;

struct CorruptBlock {
  uint32_t block;  // table block index, 0..kServiceTableBlocks-1
  std::string reason;
  uint32_t hash = 0;  // CRC32C of the raw bytes: tells one damaged value from another (a change)
};

struct PeerRegion {
  std::vector<ServiceEntry> entries;       // in-use entries of every block that decoded
  std::vector<uint32_t> entry_blocks;      // the table block of each of `entries`
  std::vector<uint64_t> entry_incarnations;  // the incarnation that wrote that block, per entry
  std::vector<CorruptBlock> corrupt;       // table blocks that did not decode
  std::optional<uint64_t> floor;           // the peer's epoch floor, if its record decoded
  std::string floor_error;                 // why not, otherwise
  uint64_t max_epoch() const;              // the highest epoch of `entries` and `floor`
};

// `blocks` holds kPeerRegionReadBlocks blocks from the peer's epoch record on. `table_blocks` is how many
// table blocks to decode: kServiceTableBlocks (only the test-only broken build read_block0 passes 1).
PeerRegion decode_peer_region(std::span<const std::byte> blocks, const DiskLayout& layout, uint32_t peer_id,
                              const Uuid& cluster, const RecordSeal& seal,
                              uint32_t table_blocks = kServiceTableBlocks);

}  // namespace castor
