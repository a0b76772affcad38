// Fuzz target: decode_superblock() on arbitrary blocks (see fuzz_block.h for the input layout).
// Checks: no crash or sanitizer report, and whatever decodes re-encodes to a block that decodes equal.
#include "fuzz/fuzz_block.h"
#include "disk/superblock.h"

using namespace castor;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::FuzzBlock b = fuzz::make_block(data, size);
  auto sb = decode_superblock(b.bytes, b.layout, RecordSeal::crc_only());
  if (!sb.ok()) {
    fuzz::require(!sb.status().message().empty());
    return 0;
  }
  std::vector<std::byte> again(b.layout.block_size());
  fuzz::require(encode_superblock(*sb, b.layout, RecordSeal::crc_only(), again).ok());
  auto back = decode_superblock(again, b.layout, RecordSeal::crc_only());
  fuzz::require(back.ok() && *back == *sb);
  return 0;
}
