// PeerRegion: what the peer's region says about its services — every entry of its 34 service-table blocks,
// every table block that failed to decode (with why), and its epoch floor — from blocks 1..35 of its region
// read in one go (the epoch record, then the table). A block that fails to decode for any reason (bad
// CRC, torn, zeroed, written for another cluster, unknown version, wrong node or index) is reported,
// never taken as "no entries": callers must treat what it held as unknown. So is a block that decodes but
// rolls back what this reader already read of it (PeerReadHistory): a record of the same incarnation with
// a lower seq, or castor init's (incarnation 0) after a real incarnation's — honest writes of one block land
// in order, so that is a valid block written back (a replay), not the peer's table.
// Pure: no I/O.
#pragma once

#include <cstdint>
#include <array>
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

// The newest record (incarnation, seq) read of one of the peer's blocks in this reader's life, and the last
// record refused as a replay of it (logged once).
struct PeerBlockSeen {
  bool known = false;
  uint64_t incarnation = 0;
  uint64_t seq = 0;
  bool refused = false;
  uint64_t refused_incarnation = 0;
  uint64_t refused_seq = 0;
};

// What was read of the peer's epoch record and each of its table blocks; kept by the reader across reads.
struct PeerReadHistory {
  PeerBlockSeen epoch;
  std::array<PeerBlockSeen, kServiceTableBlocks> table;
};

// A record (incarnation, seq) read of the block `seen` tracks: the reason it is refused as a replay (same
// incarnation, lower seq; or incarnation 0 after a real one), else nothing and `seen` moves to it. A record
// of another incarnation is taken (the peer restarted, or has not rewritten the block since). `first_refusal`:
// set when this refusal is not the one refused last (log it).
std::optional<std::string> check_replay(PeerBlockSeen& seen, uint64_t incarnation, uint64_t seq,
                                        bool& first_refusal);

struct PeerRegion {
  std::vector<ServiceEntry> entries;       // in-use entries of every block that decoded
  std::vector<uint32_t> entry_blocks;      // the table block of each of `entries`
  std::vector<uint64_t> entry_incarnations;  // the incarnation that wrote that block, per entry
  std::vector<CorruptBlock> corrupt;       // table blocks that did not decode
  std::optional<uint64_t> floor;           // the peer's epoch floor, if its record decoded
  std::string floor_error;                 // why not, otherwise
  std::vector<std::string> new_replays;    // replays refused now and not at the last read (to log once)
  uint64_t max_epoch() const;              // the highest epoch of `entries` and `floor`
};

// `blocks` holds kPeerRegionReadBlocks blocks from the peer's epoch record on. `table_blocks` is how many
// table blocks to decode: kServiceTableBlocks (only the test-only broken build read_block0 passes 1).
// `history` (if given) refuses replays and records what was taken.
PeerRegion decode_peer_region(std::span<const std::byte> blocks, const DiskLayout& layout, uint32_t peer_id,
                              const Uuid& cluster, const RecordSeal& seal,
                              uint32_t table_blocks = kServiceTableBlocks, PeerReadHistory* history = nullptr);

}  // namespace castor
