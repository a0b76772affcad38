// Fuzz target: decode_heartbeat() on arbitrary blocks (see fuzz_block.h for the input layout; the
// parameter bits give the region owner's node id, 0..7, so wrong owners are exercised too).
// Checks: no crash or sanitizer report, and whatever decodes re-encodes to a block that decodes equal.
#include "fuzz/fuzz_block.h"
#include "disk/heartbeat_record.h"

using namespace castor;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::FuzzBlock b = fuzz::make_block(data, size);
  auto hb = decode_heartbeat(b.bytes, b.layout, b.param, RecordSeal::crc_only());
  if (!hb.ok()) {
    fuzz::require(!hb.status().message().empty());
    return 0;
  }
  fuzz::require(hb->node_id == b.param);
  (void)node_state_name(hb->state);
  (void)peer_view_name(hb->peer_view);
  std::vector<std::byte> again(b.layout.block_size());
  encode_heartbeat(*hb, b.layout, RecordSeal::crc_only(), again);
  auto back = decode_heartbeat(again, b.layout, b.param, RecordSeal::crc_only());
  fuzz::require(back.ok() && *back == *hb);
  return 0;
}
