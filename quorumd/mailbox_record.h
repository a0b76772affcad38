// MailboxRecord: block 1 of a node's region: requests this node sends to its peer, and its replies to the
// peer's requests. Only the region's owner writes it; the peer reads it. This is how an admin request aimed
// at a service the peer owns travels with no network between the nodes.
// Payload: kMailboxSlots entries of 128 bytes from offset 64; entry layout:
//
//   off  size  field
//     0     1  kind (0 empty, 1 request, 2 reply)
//     1     1  operation (see MailboxOp)
//     2     1  result (replies: 0 ok, else an error code)
//     3     1  reserved (0)
//     4     4  target node id (0 = none)
//     8     8  request id (replies: the id of the request answered)
//    16     8  service epoch the request refers to (0 = any)
//    24     8  wall time the entry was written (display only)
//    32    64  service name (NUL-padded; empty for node-level requests)
//    96    32  short reason text (NUL-padded)
//
// Pure: no I/O.
#pragma once

#include <array>
#include <span>
#include <string>

#include "common/status.h"
#include "quorumd/disk_layout.h"
#include "quorumd/record_header.h"

namespace castor {

enum class MailboxKind : uint8_t { empty = 0, request = 1, reply = 2 };
enum class MailboxOp : uint8_t { none = 0, relocate = 1, enable = 2, disable = 3, restart = 4, freeze = 5,
                                 unfreeze = 6, reset = 7, standby = 8, unstandby = 9 };
inline constexpr uint8_t kMaxMailboxOp = 9;
inline constexpr size_t kReasonWidth = 32;
const char* mailbox_op_name(MailboxOp op);

struct MailboxEntry {
  MailboxKind kind = MailboxKind::empty;
  MailboxOp op = MailboxOp::none;
  uint8_t result = 0;
  uint32_t target_node = 0;
  uint64_t request_id = 0;
  uint64_t epoch = 0;
  int64_t wall_time_ns = 0;
  std::string service;
  std::string reason;
  friend bool operator==(const MailboxEntry&, const MailboxEntry&) = default;
};

struct MailboxRecord {
  Uuid cluster_uuid;
  uint32_t node_id = 0;
  uint64_t incarnation = 0;
  uint64_t seq = 0;
  int64_t wall_time_ns = 0;
  std::array<MailboxEntry, kMailboxSlots> entries;
  friend bool operator==(const MailboxRecord&, const MailboxRecord&) = default;
};

Status encode_mailbox(const MailboxRecord& mb, const DiskLayout& layout, std::span<std::byte> block);
Result<MailboxRecord> decode_mailbox(std::span<const std::byte> block, const DiskLayout& layout, uint32_t node_id);

}  // namespace castor
