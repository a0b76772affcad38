// DiskSnapshot: every record of a quorum disk, read in one pass and decoded, each with its own status.
// Used by `castor dump` and by `castor status` when the daemons are not running. Reads only: never writes.
#pragma once

#include <array>
#include <optional>
#include <vector>

#include "common/clock.h"
#include "disk/block_device.h"
#include "disk/disk_layout.h"
#include "disk/heartbeat_record.h"
#include "disk/record_seal.h"
#include "disk/epoch_record.h"
#include "disk/service_table_record.h"
#include "disk/superblock.h"

namespace castor {

template <typename T>
struct RecordRead {
  uint64_t offset = 0;
  Status status;            // ok: `record` holds the decoded record; not_found: never written (heartbeat and
                            // superblocks only: a zeroed epoch or table block is reported corrupt); else why not
  std::optional<T> record;
};

struct NodeRegionSnapshot {
  uint32_t node_id = 0;
  RecordRead<HeartbeatRecord> heartbeat;
  RecordRead<EpochRecord> epoch;
  std::vector<RecordRead<ServiceTableRecord>> table;  // kServiceTableBlocks entries
};

struct DiskSnapshot {
  DiskLayout layout;
  RecordSeal::Mode seal = RecordSeal::Mode::crc_only;  // how every record below was checked
  RecordRead<Superblock> superblock;         // block 0
  RecordRead<Superblock> superblock_backup;  // block 1
  std::array<NodeRegionSnapshot, kNodeCount> nodes;

  // The superblock in force: the primary if valid, else the backup if valid, else nullptr.
  const Superblock* valid_superblock() const;
  // Number of records that are neither valid nor never-written.
  int invalid_records() const;
};

// Reads the whole quorum area (DiskLayout::required_bytes) and decodes every record with `seal` (with an
// hmac seal a record whose tag does not verify is Code::corrupt "bad authentication tag"). Records written
// for another cluster UUID than the superblock's are reported as corrupt. Fails only if the read itself
// fails or the device is smaller than the layout needs.
Result<DiskSnapshot> read_disk_snapshot(BlockDevice& dev, const Clock& clock, Duration io_timeout,
                                        const RecordSeal& seal);

// The highest service epoch (CASTOR_EPOCH) recorded on a quorum disk of any cluster: both nodes' epoch
// floors and the epoch of every in-use entry of every service-table block that decodes. The cluster UUID
// is not checked: `castor init --force` carries this into the new disk's epoch records, so that epochs keep
// growing across a re-init (docs/design.md, "The epoch only grows"). Records of another format version
// cannot be decoded and count as unreadable. Records are decoded with `seal` (see carried_epoch_seal): with
// the key, a record whose tag does not verify is ignored and listed in `untrusted` -- a writer without the
// key could otherwise raise the floor to 2^64-1, which a re-init would launder into a genuine, sealed floor
// with no epoch above it (review14c, finding D).
struct HighestEpoch {
  uint64_t highest = 0;                                 // max of the floors and entries below
  std::array<std::optional<uint64_t>, kNodeCount> floors;  // each node's epoch record, if it decoded
  uint64_t highest_entry = 0;                           // of the in-use entries read
  int entries = 0;                                      // in-use entries read
  // One line per epoch record, and per non-zero table block, that did not decode: the epochs it held are
  // unknown, so `highest` may be below an epoch granted before. (An all-zero table block is skipped: an
  // older castor init left unused table blocks zeroed; the epoch record, when it decodes, bounds it.)
  std::vector<std::string> unreadable;
  // One line per record that decodes but whose tag does not verify with the key (forged, or written with
  // another key): ignored. (Only when `seal` is the key's.)
  std::vector<std::string> untrusted;
  int verified_epoch_records = 0;  // epoch records that decoded with `seal`
};
Result<HighestEpoch> read_highest_epoch(BlockDevice& dev, const Clock& clock, Duration io_timeout,
                                        const RecordSeal& seal);

// The seal init --force reads the old disk's epochs with. `old_sb`: its superblock, if one decodes;
// `key_seal`: init's own (the key's when --authenticate, else crc_only). An authenticated old disk is read
// with the key, and without the key init refuses (Code::refused): it cannot tell its genuine
// epochs from forged ones. A CRC-only old disk is read CRC-only (its tag area must be zero). No superblock:
// nothing says how it was written, so tags are not checked (a forged floor there can only be raised; the
// next epoch never wraps: Ownership refuses a claim at 2^64-1, init refuses to write that floor).
Result<RecordSeal> carried_epoch_seal(const std::optional<Superblock>& old_sb, const RecordSeal& key_seal);

}  // namespace castor
