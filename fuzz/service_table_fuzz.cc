// Fuzz target: decode_service_table() on arbitrary blocks (see fuzz_block.h for the input layout; the
// parameter bits give the region owner, 0..7, and one extra byte the expected block index (low 6 bits), so
// both wrong owners and out-of-range indexes are exercised).
// Checks: no crash or sanitizer report, and whatever decodes re-encodes to a block that decodes equal.
#include "fuzz/fuzz_block.h"
#include "disk/service_table_record.h"

using namespace castor;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::FuzzBlock b = fuzz::make_block(data, size, 1);
  const uint32_t index = b.extra[0] & 63;
  auto rec = decode_service_table(b.bytes, b.layout, b.param, index, RecordSeal::crc_only());
  if (!rec.ok()) {
    fuzz::require(!rec.status().message().empty());
    return 0;
  }
  fuzz::require(rec->entries.size() == b.layout.services_per_block());
  for (const auto& e : rec->entries) (void)ownership_state_name(e.state);
  std::vector<std::byte> again(b.layout.block_size());
  Status st = encode_service_table(*rec, b.layout, RecordSeal::crc_only(), again);
  // A decoded block index may be one the encoder refuses (>= kServiceTableBlocks): then it must say so.
  if (!st.ok()) {
    fuzz::require(rec->block_index >= kServiceTableBlocks);
    return 0;
  }
  auto back = decode_service_table(again, b.layout, b.param, index, RecordSeal::crc_only());
  fuzz::require(back.ok() && *back == *rec);
  return 0;
}
