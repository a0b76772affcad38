#include "disk/epoch_record.h"

#include "disk/record_header.h"

namespace castor {

namespace {
constexpr size_t kFloorOffset = kRecordHeaderSize;
constexpr size_t kUsedBytes = kFloorOffset + 8;
}  // namespace

Status encode_epoch_record(const EpochRecord& rec, const DiskLayout& layout, const RecordSeal& seal,
                           std::span<std::byte> block) {
  if (block.size() != layout.block_size()) return Error(Code::invalid_argument, "epoch record: wrong block size");
  RecordHeader h;
  h.type = RecordType::epoch;
  h.block_size = layout.block_size();
  h.cluster_uuid = rec.cluster_uuid;
  h.writer_node = rec.node_id;
  h.incarnation = rec.incarnation;
  h.seq = rec.seq;
  h.wall_time_ns = rec.wall_time_ns;
  encode_header(h, block);
  ByteWriter w(block);
  w.seek(kFloorOffset);
  w.u64(rec.epoch_floor);
  if (!w.ok()) return Error(Code::invalid_argument, "epoch record: the floor does not fit");
  seal_block(block, seal);
  return Status::Ok();
}

Result<EpochRecord> decode_epoch_record(std::span<const std::byte> block, const DiskLayout& layout, uint32_t node_id,
                                        const RecordSeal& seal) {
  ASSIGN_OR_RETURN(RecordHeader h, verify_block(block, {RecordType::epoch, layout.block_size(), node_id}, seal));
  auto bad = [&](const std::string& why) {
    return Error(Code::corrupt, "epoch record of node " + std::to_string(node_id) + ": " + why);
  };
  if (h.block_index != 0) return bad("block index " + std::to_string(h.block_index));
  EpochRecord rec;
  rec.cluster_uuid = h.cluster_uuid;
  rec.node_id = h.writer_node;
  rec.incarnation = h.incarnation;
  rec.seq = h.seq;
  rec.wall_time_ns = h.wall_time_ns;
  ByteReader r(block);
  r.seek(kFloorOffset);
  rec.epoch_floor = r.u64();
  if (!r.ok()) return bad("truncated");
  if (!block_is_zero(record_area(block, seal).subspan(kUsedBytes))) return bad("trailing bytes are not zero");
  return rec;
}

}  // namespace castor
