#include "quorumd/mailbox_record.h"

namespace castor {

const char* mailbox_op_name(MailboxOp op) {
  switch (op) {
    case MailboxOp::none: return "none";
    case MailboxOp::relocate: return "relocate";
    case MailboxOp::enable: return "enable";
    case MailboxOp::disable: return "disable";
    case MailboxOp::restart: return "restart";
    case MailboxOp::freeze: return "freeze";
    case MailboxOp::unfreeze: return "unfreeze";
    case MailboxOp::reset: return "reset";
    case MailboxOp::standby: return "standby";
    case MailboxOp::unstandby: return "unstandby";
  }
  return "?";
}

Status encode_mailbox(const MailboxRecord& mb, const DiskLayout& layout, std::span<std::byte> block) {
  RecordHeader h;
  h.type = RecordType::mailbox;
  h.block_size = layout.block_size();
  h.cluster_uuid = mb.cluster_uuid;
  h.writer_node = mb.node_id;
  h.incarnation = mb.incarnation;
  h.seq = mb.seq;
  h.wall_time_ns = mb.wall_time_ns;
  encode_header(h, block);
  ByteWriter w(block);
  for (uint32_t i = 0; i < kMailboxSlots; ++i) {
    const MailboxEntry& e = mb.entries[i];
    w.seek(kRecordHeaderSize + i * kMailboxEntrySize);
    if (e.kind == MailboxKind::empty) continue;  // stays zero
    w.u8(uint8_t(e.kind));
    w.u8(uint8_t(e.op));
    w.u8(e.result);
    w.u8(0);
    w.u32(e.target_node);
    w.u64(e.request_id);
    w.u64(e.epoch);
    w.i64(e.wall_time_ns);
    w.fixed_string(e.service, kNameWidth);
    std::string reason = e.reason.substr(0, kReasonWidth - 1);
    for (char& c : reason)
      if (c < 0x20 || c > 0x7e) c = '?';
    w.fixed_string(reason, kReasonWidth);
    if (!w.ok()) return Error(Code::invalid_argument, "mailbox entry " + std::to_string(i) + ": a field does not fit");
  }
  seal_block(block);
  return Status::Ok();
}

Result<MailboxRecord> decode_mailbox(std::span<const std::byte> block, const DiskLayout& layout, uint32_t node_id) {
  ASSIGN_OR_RETURN(RecordHeader h, verify_block(block, {RecordType::mailbox, layout.block_size(), node_id}));
  MailboxRecord mb;
  mb.cluster_uuid = h.cluster_uuid;
  mb.node_id = h.writer_node;
  mb.incarnation = h.incarnation;
  mb.seq = h.seq;
  mb.wall_time_ns = h.wall_time_ns;
  auto bad = [&](uint32_t i, const std::string& why) {
    return Error(Code::corrupt, "mailbox of node " + std::to_string(node_id) + ", entry " + std::to_string(i) + ": " + why);
  };
  if (h.block_index != 0 || h.incarnation == 0) return bad(0, "header fields out of range");
  ByteReader r(block);
  for (uint32_t i = 0; i < kMailboxSlots; ++i) {
    MailboxEntry& e = mb.entries[i];
    const size_t base = kRecordHeaderSize + i * kMailboxEntrySize;
    if (block_is_zero(block.subspan(base, kMailboxEntrySize))) continue;
    r.seek(base);
    uint8_t kind = r.u8();
    uint8_t op = r.u8();
    e.result = r.u8();
    uint8_t reserved = r.u8();
    e.target_node = r.u32();
    e.request_id = r.u64();
    e.epoch = r.u64();
    e.wall_time_ns = r.i64();
    e.service = r.fixed_string(kNameWidth);
    // The reason may be empty, which fixed_string accepts; it must still be well formed.
    e.reason = r.fixed_string(kReasonWidth);
    if (!r.ok()) return bad(i, "malformed text field");
    if (kind < 1 || kind > 2) return bad(i, "kind " + std::to_string(kind));
    if (op < 1 || op > kMaxMailboxOp) return bad(i, "operation " + std::to_string(op));
    if (reserved != 0) return bad(i, "reserved byte is not zero");
    if (e.target_node > kNodeCount) return bad(i, "target node " + std::to_string(e.target_node));
    if (e.request_id == 0) return bad(i, "request id 0");
    e.kind = MailboxKind(kind);
    e.op = MailboxOp(op);
  }
  // Bytes after the last slot must be zero.
  const size_t used = kRecordHeaderSize + kMailboxSlots * kMailboxEntrySize;
  if (!block_is_zero(block.subspan(used))) return bad(kMailboxSlots, "trailing bytes are not zero");
  return mb;
}

}  // namespace castor
