#include "disk/record_header.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>

#include "common/crc32c.h"

namespace castor {
namespace {
constexpr size_t kCrcOffset = 12;

uint32_t block_crc(std::span<const std::byte> block) {
  static const std::byte zero4[4] = {};
  uint32_t crc = crc32c(block.first(kCrcOffset));
  crc = crc32c(zero4, crc);
  return crc32c(block.subspan(kCrcOffset + 4), crc);
}

std::string hex32(uint32_t v) {
  char b[16];
  std::snprintf(b, sizeof b, "%08x", v);
  return b;
}
}  // namespace

bool block_is_zero(std::span<const std::byte> block) {
  return std::all_of(block.begin(), block.end(), [](std::byte b) { return b == std::byte{0}; });
}

void encode_header(const RecordHeader& h, std::span<std::byte> block) {
  std::memset(block.data(), 0, block.size());
  ByteWriter w(block);
  w.u32(kMagic);
  w.u16(kFormatVersion);
  w.u16(uint16_t(h.type));
  w.u32(h.block_size);
  w.u32(0);  // CRC, filled by seal_block
  w.bytes(std::as_bytes(std::span(h.cluster_uuid.bytes)));
  w.u32(h.writer_node);
  w.u32(h.block_index);
  w.u64(h.incarnation);
  w.u64(h.seq);
  w.i64(h.wall_time_ns);
}

std::span<const std::byte> record_area(std::span<const std::byte> block, const RecordSeal& seal) {
  if (!seal.has_tag_area() || block.size() < kRecordHeaderSize + kAuthTagSize) return block;
  return block.first(block.size() - kAuthTagSize);
}

void seal_block(std::span<std::byte> block, const RecordSeal& seal) {
  seal.write_tag(block);  // hmac only: the tag covers the block with the CRC field read as zero
  uint32_t crc = block_crc(block);
  ByteWriter w(block);
  w.seek(kCrcOffset);
  w.u32(crc);
}

Result<RecordHeader> verify_block(std::span<const std::byte> block, const ExpectedRecord& expected,
                                  const RecordSeal& seal) {
  const std::string what = record_type_name(expected.type);
  if (block.size() != expected.block_size || block.size() < kRecordHeaderSize)
    return Error(Code::internal, what + ": block of " + std::to_string(block.size()) + " bytes, expected " +
                                     std::to_string(expected.block_size));
  if (block_is_zero(block)) return Error(Code::not_found, what + ": empty (never written)");
  ByteReader r(block);
  uint32_t magic = r.u32();
  uint16_t version = r.u16();
  uint16_t type = r.u16();
  uint32_t block_size = r.u32();
  uint32_t stored_crc = r.u32();
  if (magic != kMagic) return Error(Code::corrupt, what + ": not a Castor record (bad magic " + hex32(magic) + ")");
  uint32_t computed = block_crc(block);
  if (stored_crc != computed)
    return Error(Code::corrupt, what + ": bad CRC (stored " + hex32(stored_crc) + ", computed " + hex32(computed) + ")");
  if (seal.authenticated() && !seal.tag_matches(block))
    return Error(Code::corrupt, what + ": bad authentication tag (forged, or written with another key)");
  if (version != kFormatVersion)
    return Error(Code::unsupported, what + ": format version " + std::to_string(version) + ", this build reads " +
                                        std::to_string(kFormatVersion));
  if (type != uint16_t(expected.type))
    return Error(Code::corrupt, what + ": holds a record of type " + std::to_string(type));
  if (block_size != expected.block_size)
    return Error(Code::corrupt, what + ": written for block size " + std::to_string(block_size) + ", expected " +
                                    std::to_string(expected.block_size));
  RecordHeader h;
  h.type = expected.type;
  h.block_size = block_size;
  r.bytes(std::as_writable_bytes(std::span(h.cluster_uuid.bytes)));
  h.writer_node = r.u32();
  h.block_index = r.u32();
  h.incarnation = r.u64();
  h.seq = r.u64();
  h.wall_time_ns = r.i64();
  if (!r.ok()) return Error(Code::corrupt, what + ": truncated header");
  if (expected.writer_node != ExpectedRecord::kAnyWriter && h.writer_node != expected.writer_node)
    return Error(Code::corrupt, what + ": written by node " + std::to_string(h.writer_node) + ", expected node " +
                                    std::to_string(expected.writer_node));
  return h;
}

}  // namespace castor
