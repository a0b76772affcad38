// ServiceTableRecord: one block of a node's service table (blocks 2..35 of its region), holding
// DiskLayout::services_per_block() entries of 128 bytes from offset 64. The whole table has at least 1024
// slots. Only the region's owner writes it; this is where the ownership protocol (svcmgr) records, per
// service, what this node claims or holds. Entry layout:
//
//   Byte layout: docs/ondisk-format.md, section "Service table (type 4, region blocks 2–35)" — the one spec,
//   held to this code by tests/unit/ondisk_doc_test.cc.
//
// Pure: no I/O.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "disk/disk_layout.h"
#include "disk/record_header.h"

namespace castor {

enum class OwnershipState : uint8_t { none = 0, claiming = 1, owned = 2, releasing = 3, released = 4, disabled = 5 };
inline constexpr uint8_t kMaxOwnershipState = 5;
const char* ownership_state_name(OwnershipState s);

struct ServiceEntry {
  bool in_use = false;
  OwnershipState state = OwnershipState::none;
  uint16_t flags = 0;
  uint32_t node = 0;
  uint64_t epoch = 0;
  uint64_t ballot = 0;
  uint64_t definition_digest = 0;
  int64_t changed_wall_ns = 0;
  uint32_t restarts = 0;
  std::string name;
  static constexpr uint16_t kFrozen = 1;          // the service is frozen (cluster-wide, latest entry wins)
  static constexpr uint16_t kRestartRequest = 2;  // a request that the owner restart it in place
  static constexpr uint16_t kKnownFlags = kFrozen | kRestartRequest;
  friend bool operator==(const ServiceEntry&, const ServiceEntry&) = default;
};

struct ServiceTableRecord {
  Uuid cluster_uuid;
  uint32_t node_id = 0;
  uint32_t block_index = 0;  // 0 .. kServiceTableBlocks-1
  uint64_t incarnation = 0;  // 0 when written by castor init (valid, empty blocks)
  uint64_t seq = 0;
  int64_t wall_time_ns = 0;
  std::vector<ServiceEntry> entries;  // exactly services_per_block() entries
  friend bool operator==(const ServiceTableRecord&, const ServiceTableRecord&) = default;
};

Status encode_service_table(const ServiceTableRecord& rec, const DiskLayout& layout, const RecordSeal& seal,
                            std::span<std::byte> block);
Result<ServiceTableRecord> decode_service_table(std::span<const std::byte> block, const DiskLayout& layout,
                                                uint32_t node_id, uint32_t block_index, const RecordSeal& seal);

}  // namespace castor
