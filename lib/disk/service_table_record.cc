#include "disk/service_table_record.h"

#include "common/names.h"

namespace castor {

const char* ownership_state_name(OwnershipState s) {
  switch (s) {
    case OwnershipState::none: return "none";
    case OwnershipState::claiming: return "claiming";
    case OwnershipState::owned: return "owned";
    case OwnershipState::releasing: return "releasing";
    case OwnershipState::released: return "released";
    case OwnershipState::disabled: return "disabled";
  }
  return "?";
}

Status encode_service_table(const ServiceTableRecord& rec, const DiskLayout& layout, const RecordSeal& seal,
                            std::span<std::byte> block) {
  if (rec.entries.size() != layout.services_per_block())
    return Error(Code::internal, "service table block needs exactly " + std::to_string(layout.services_per_block()) +
                                     " entries");
  if (rec.block_index >= kServiceTableBlocks) return Error(Code::internal, "service table block index out of range");
  RecordHeader h;
  h.type = RecordType::service_table;
  h.block_size = layout.block_size();
  h.cluster_uuid = rec.cluster_uuid;
  h.writer_node = rec.node_id;
  h.block_index = rec.block_index;
  h.incarnation = rec.incarnation;
  h.seq = rec.seq;
  h.wall_time_ns = rec.wall_time_ns;
  encode_header(h, block);
  ByteWriter w(block);
  for (size_t i = 0; i < rec.entries.size(); ++i) {
    const ServiceEntry& e = rec.entries[i];
    if (!e.in_use) continue;  // a free slot is all zeros
    w.seek(kRecordHeaderSize + i * kServiceEntrySize);
    w.u8(1);
    w.u8(uint8_t(e.state));
    w.u16(e.flags);
    w.u32(e.node);
    w.u64(e.epoch);
    w.u64(e.ballot);
    w.u64(e.definition_digest);
    w.i64(e.changed_wall_ns);
    w.u32(e.restarts);
    w.zeros(20);
    w.fixed_string(e.name, kNameWidth);
    if (!w.ok() || e.name.empty())
      return Error(Code::invalid_argument, "service table entry '" + e.name + "': name must be 1 to 63 characters");
  }
  seal_block(block, seal);
  return Status::Ok();
}

Result<ServiceTableRecord> decode_service_table(std::span<const std::byte> block, const DiskLayout& layout,
                                                uint32_t node_id, uint32_t block_index, const RecordSeal& seal) {
  ASSIGN_OR_RETURN(RecordHeader h,
                   verify_block(block, {RecordType::service_table, layout.block_size(), node_id}, seal));
  auto bad = [&](const std::string& why) {
    return Error(Code::corrupt, "service table of node " + std::to_string(node_id) + ", block " +
                                    std::to_string(block_index) + ": " + why);
  };
  if (h.block_index != block_index) return bad("holds block " + std::to_string(h.block_index));
  ServiceTableRecord rec;
  rec.cluster_uuid = h.cluster_uuid;
  rec.node_id = h.writer_node;
  rec.block_index = h.block_index;
  rec.incarnation = h.incarnation;
  rec.seq = h.seq;
  rec.wall_time_ns = h.wall_time_ns;
  const uint32_t n = layout.services_per_block();
  rec.entries.resize(n);
  ByteReader r(block);
  for (uint32_t i = 0; i < n; ++i) {
    const size_t base = kRecordHeaderSize + size_t(i) * kServiceEntrySize;
    if (block_is_zero(block.subspan(base, kServiceEntrySize))) continue;
    ServiceEntry& e = rec.entries[i];
    r.seek(base);
    uint8_t in_use = r.u8();
    uint8_t state = r.u8();
    e.flags = r.u16();
    e.node = r.u32();
    e.epoch = r.u64();
    e.ballot = r.u64();
    e.definition_digest = r.u64();
    e.changed_wall_ns = r.i64();
    e.restarts = r.u32();
    std::byte reserved[20];
    r.bytes(reserved);
    e.name = r.fixed_string(kNameWidth);
    const std::string where = "entry " + std::to_string(i);
    if (!r.ok() || e.name.empty()) return bad(where + ": malformed name");
    if (!is_valid_service_name(e.name)) return bad(where + ": not a valid service name");  // it becomes a path
    if (in_use != 1) return bad(where + ": in-use flag " + std::to_string(in_use));
    if (state > kMaxOwnershipState) return bad(where + ": state " + std::to_string(state));
    if ((e.flags & ~ServiceEntry::kKnownFlags) != 0) return bad(where + ": unknown flags");
    if (e.node > kNodeCount) return bad(where + ": node " + std::to_string(e.node));
    if (!block_is_zero(reserved)) return bad(where + ": reserved bytes are not zero");
    e.in_use = true;
    e.state = OwnershipState(state);
  }
  const size_t used = kRecordHeaderSize + size_t(n) * kServiceEntrySize;
  if (!block_is_zero(record_area(block, seal).subspan(used))) return bad("trailing bytes are not zero");
  return rec;
}

}  // namespace castor
