// Fuzz target: decode_epoch_record() on arbitrary blocks (see fuzz_block.h for the input layout; the
// parameter bits give the region owner's node id, 0..7).
// Checks: no crash or sanitizer report, and whatever decodes re-encodes to a block that decodes equal.
#include "fuzz/fuzz_block.h"
#include "disk/epoch_record.h"

using namespace castor;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::FuzzBlock b = fuzz::make_block(data, size);
  auto ep = decode_epoch_record(b.bytes, b.layout, b.param, RecordSeal::crc_only());
  if (!ep.ok()) {
    fuzz::require(!ep.status().message().empty());
    return 0;
  }
  std::vector<std::byte> again(b.layout.block_size());
  fuzz::require(encode_epoch_record(*ep, b.layout, RecordSeal::crc_only(), again).ok());
  auto back = decode_epoch_record(again, b.layout, b.param, RecordSeal::crc_only());
  fuzz::require(back.ok() && *back == *ep);
  return 0;
}
