// EpochRecord: block 1 of a node's region: the node's epoch floor, an upper bound of every service epoch
// (CASTOR_EPOCH) this node has ever granted or seen. Only the region's owner writes it; the peer reads it
// together with the service table. quorumd writes a floor >= e, and waits for that write to complete ok,
// before it submits any service-table write that carries epoch e; so when a table block is lost or
// corrupt, the floor still bounds every epoch that block held, and a new owner's epoch (above both nodes'
// floors) is never one already granted. Block 1 once held a mailbox that nothing wrote; its record type
// (3) stays retired. Payload at offset 64:
//
//   Byte layout: docs/ondisk-format.md, section "Epoch record (type 5, region block 1)" — the one spec,
//   held to this code by tests/unit/ondisk_doc_test.cc.
//
// Pure: no I/O.
#pragma once

#include <cstdint>
#include <span>

#include "common/status.h"
#include "common/uuid.h"
#include "disk/disk_layout.h"
#include "disk/record_seal.h"

namespace castor {

struct EpochRecord {
  Uuid cluster_uuid;
  uint32_t node_id = 0;
  uint64_t incarnation = 0;  // 0 when written by castor init
  uint64_t seq = 0;
  int64_t wall_time_ns = 0;
  uint64_t epoch_floor = 0;
  friend bool operator==(const EpochRecord&, const EpochRecord&) = default;
};

Status encode_epoch_record(const EpochRecord& rec, const DiskLayout& layout, const RecordSeal& seal,
                           std::span<std::byte> block);
// Fails with Code::not_found for an all-zero block, Code::corrupt / Code::unsupported otherwise (see
// verify_block()); the caller checks the cluster UUID.
Result<EpochRecord> decode_epoch_record(std::span<const std::byte> block, const DiskLayout& layout, uint32_t node_id,
                                        const RecordSeal& seal);

}  // namespace castor
