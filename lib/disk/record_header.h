// RecordHeader: the first 64 bytes of every quorum-disk block, and the checks every decoder runs first.
//
//   Byte layout: docs/ondisk-format.md, section "Record header" — the one spec,
//   held to this code by tests/unit/ondisk_doc_test.cc.
//
// verify_block() reports, in this order: an all-zero block as Code::not_found ("never written"), a CRC
// mismatch or a wrong magic as Code::corrupt, with an hmac seal a tag that does not verify as Code::corrupt
// ("bad authentication tag"), an unknown version as Code::unsupported, and a wrong type, block size or
// writer as Code::corrupt. A decoder accepts a block only when every check passed. The seal
// (disk/record_seal.h) is always passed explicitly.
// Pure: no I/O, no allocation beyond error messages.
#pragma once

#include <cstdint>
#include <span>

#include "common/byte_codec.h"
#include "common/status.h"
#include "common/uuid.h"
#include "disk/disk_layout.h"
#include "disk/record_seal.h"

namespace castor {

struct RecordHeader {
  RecordType type = RecordType::superblock;
  uint32_t block_size = 0;
  Uuid cluster_uuid;
  uint32_t writer_node = 0;
  uint32_t block_index = 0;
  uint64_t incarnation = 0;
  uint64_t seq = 0;
  int64_t wall_time_ns = 0;
};

// Zeroes the block and writes the header; the CRC is filled in by seal_block() after the payload.
void encode_header(const RecordHeader& h, std::span<std::byte> block);
// With an hmac seal, first writes the tag into the last kAuthTagSize bytes; then computes and stores the
// CRC over the whole block. crc_only and tag_unchecked write the CRC alone (a block without a tag, which an
// authenticated reader refuses).
void seal_block(std::span<std::byte> block, const RecordSeal& seal);

struct ExpectedRecord {
  RecordType type;
  uint32_t block_size;
  uint32_t writer_node;  // checked unless kAnyWriter
  static constexpr uint32_t kAnyWriter = 0xFFFFFFFFu;
};

// Verifies and decodes the header of `block` (whose size must be the expected block size).
Result<RecordHeader> verify_block(std::span<const std::byte> block, const ExpectedRecord& expected,
                                  const RecordSeal& seal);

// The part of `block` a record's payload and zero area may use: all of it with crc_only, all but the last
// kAuthTagSize bytes (the tag) with a seal that has a tag area.
std::span<const std::byte> record_area(std::span<const std::byte> block, const RecordSeal& seal);

// True if every byte is zero.
bool block_is_zero(std::span<const std::byte> block);

}  // namespace castor
