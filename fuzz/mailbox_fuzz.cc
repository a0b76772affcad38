// Fuzz target: decode_mailbox() on arbitrary blocks (see fuzz_block.h for the input layout; the parameter
// bits give the region owner's node id, 0..7).
// Checks: no crash or sanitizer report, and whatever decodes re-encodes to a block that decodes equal.
#include "fuzz/fuzz_block.h"
#include "quorumd/mailbox_record.h"

using namespace castor;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::FuzzBlock b = fuzz::make_block(data, size);
  auto mb = decode_mailbox(b.bytes, b.layout, b.param);
  if (!mb.ok()) {
    fuzz::require(!mb.status().message().empty());
    return 0;
  }
  for (const auto& e : mb->entries) (void)mailbox_op_name(e.op);
  std::vector<std::byte> again(b.layout.block_size());
  fuzz::require(encode_mailbox(*mb, b.layout, again).ok());
  auto back = decode_mailbox(again, b.layout, b.param);
  fuzz::require(back.ok() && *back == *mb);
  return 0;
}
