// FuzzBlock: turns a fuzzer input into one quorum-disk block for the record-decoder targets.
//
// Input layout: byte 0 = options, then `extra` parameter bytes (target-specific), then the block's bytes
// (cut or zero-padded to the block size).
//   bit 0     reseal: recompute the CRC after copying, so the fuzzer gets past the CRC check and reaches
//             the field checks (without it, almost every mutated block dies at "bad CRC")
//   bits 1-2  sector size: 512, 4096, 8192 or 512 (the layout, hence the block size, follows)
//   bits 3-5  the node id / block index the caller expects (decoders take it as a parameter)
// Fuzzing only: never linked into Castor's programs; must never abort except on a real finding.
#pragma once

#include "fuzz/fuzz_require.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <utility>
#include <vector>

#include "disk/disk_layout.h"
#include "disk/record_header.h"

namespace castor::fuzz {

struct FuzzBlock {
  DiskLayout layout;
  std::vector<std::byte> bytes;
  uint32_t param = 0;  // bits 3-5 of the options byte
  std::vector<uint8_t> extra;
};

inline FuzzBlock make_block(const uint8_t* data, size_t size, size_t extra = 0) {
  static constexpr uint32_t kSectors[4] = {512, 4096, 8192, 512};
  const uint8_t opts = size > 0 ? data[0] : 0;
  if (size > 0) {
    ++data;
    --size;
  }
  std::vector<uint8_t> extras(extra, 0);
  for (size_t i = 0; i < extra && size > 0; ++i, ++data, --size) extras[i] = *data;
  auto layout = DiskLayout::for_sector_size(kSectors[(opts >> 1) & 3]);
  if (!layout.ok()) std::abort();  // the sector sizes above are all valid
  FuzzBlock b{*layout, std::vector<std::byte>(layout->block_size()), uint32_t((opts >> 3) & 7), std::move(extras)};
  std::memcpy(b.bytes.data(), data, std::min<size_t>(size, b.bytes.size()));
  if (opts & 1) seal_block(b.bytes, RecordSeal::crc_only());
  return b;
}

}  // namespace castor::fuzz
