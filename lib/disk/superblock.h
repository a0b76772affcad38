// Superblock: the identity and the rules of one quorum disk, written once by `castor init` (block 0, and a
// backup copy in block 1). Nodes only read it. Payload after the 64-byte record header:
//
//   Byte layout: docs/ondisk-format.md, section "Superblock (type 1)" — the one spec,
//   held to this code by tests/unit/ondisk_doc_test.cc.
//
// decode_superblock() accepts only a block whose every field is valid: sector size matching the layout,
// names that are non-empty and distinct, ids 1 and 2, timing that follows the formula (lib/disk/timing.h).
// Pure: no I/O.
#pragma once

#include <array>
#include <span>
#include <string>

#include "common/quorum_device_count.h"
#include "common/status.h"
#include "common/uuid.h"
#include "disk/disk_layout.h"
#include "disk/record_header.h"
#include "disk/timing.h"

namespace castor {

struct NodeEntry {
  uint32_t id = 0;
  std::string name;
  friend bool operator==(const NodeEntry&, const NodeEntry&) = default;
};

// One quorum disk may be a set of kQuorumDevices devices, each with a full copy of the node regions (issue
// 17; docs/design.md "Three quorum devices"). Each device's superblock names its place in the set. A single
// device writes none of this (count 1: the fields stay zero, flags bit 1 clear): today's format exactly.
// A heartbeat carries the generation its writer runs in 16 bits (heartbeat_record.h).
inline constexpr uint64_t kMaxDeviceSetGeneration = 0xFFFF;
struct DeviceSet {
  uint32_t count = 1;       // 1 (a single device) or kQuorumDevices
  uint32_t index = 0;       // this device's place in the set, 0-based
  uint64_t generation = 0;  // raised by each `castor disk replace`: a device of an older generation left the set
  std::array<Uuid, kQuorumDevices> members{};  // every member's device id, by index (members[index]: this one)
  // The slot whose member generation `generation` replaced (castor disk replace); 0 at generation 0. A node
  // that starts during or after a replacement counts that member only once its peer no longer counts the
  // old one (docs/design.md "Replacing a quorum device").
  uint32_t changed_slot = 0;
  bool single() const { return count == 1; }
  const Uuid& id() const { return members[index]; }
  friend bool operator==(const DeviceSet&, const DeviceSet&) = default;
};

struct Superblock {
  Uuid cluster_uuid;
  std::string cluster_name;
  uint32_t sector_size = 0;
  std::array<NodeEntry, kNodeCount> nodes;
  Timing timing;
  uint32_t service_slots = 0;
  int64_t created_wall_ns = 0;  // display only
  // Every block of this disk carries an HMAC tag (disk/record_seal.h): flags bit 0 at offset 308. Format
  // version 1 stays: the field was zero; a build without the flag ignores it (docs/ondisk-format.md).
  bool records_authenticated = false;
  // flags bit 1 (offsets 312-375): a member of a set of quorum devices. A build without it refuses the
  // superblock (unknown flag): a node must never run on one device of a set as if it were the whole disk.
  DeviceSet devices;

  // The node entry whose name is `name`, or nullptr.
  const NodeEntry* node_named(const std::string& name) const;
  friend bool operator==(const Superblock&, const Superblock&) = default;
};

// Checks names: 1..63 bytes of [A-Za-z0-9._-], starting with a letter or digit.
Status check_name(const std::string& what, const std::string& name);

// A single device's set (count 1) carries nothing else; a set has kQuorumDevices distinct, non-nil members
// and an index inside it.
Status check_device_set(const DeviceSet& d);

// Encodes into `block` (layout.block_size() bytes). Fails if a field cannot be represented.
Status encode_superblock(const Superblock& sb, const DiskLayout& layout, const RecordSeal& seal,
                         std::span<std::byte> block);
// With RecordSeal::crc_only() or tag_unchecked() the tag is not checked: use that only to learn whether the
// disk is authenticated (records_authenticated), then decode again with the key before trusting anything.
Result<Superblock> decode_superblock(std::span<const std::byte> block, const DiskLayout& layout,
                                     const RecordSeal& seal);

// The timing a superblock copy that decode_superblock() refuses was written with, read from its raw
// io_timeout (offset 272) and dead time (offset 292) fields — for `castor init --force`, which must watch a
// disk it is about to overwrite for at least the dead time its nodes run with, also when the copy was
// written by an older formula (a disk of an older castor init: W = 2T) or fails another semantic check.
// Only a copy whose integrity holds is believed: magic, CRC32C, format version, type superblock, block size
// and writer 0 (verify_block); a damaged copy's fields may be anything, so it gives nothing. Fails also if
// io_timeout is 0 or above Timing::kMaxIoTimeout (the longest a node of any version accepted).
// `dead` is max(6 x io_timeout, the dead field when it is not above 6 x Timing::kMaxIoTimeout).
struct RawSuperblockTiming {
  Millis io_timeout{0};
  Millis dead{0};
};
// The tag is not checked (castor init --force reads the disk it overwrites, which may have another key).
Result<RawSuperblockTiming> raw_superblock_timing(std::span<const std::byte> block, const DiskLayout& layout);

}  // namespace castor
