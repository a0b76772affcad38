// Fuzz target: decode_lan_datagram() on arbitrary bytes with a fixed key (see fuzz_lan.h for the input
// layout: the options byte can seal the bytes first, so the field checks are reached, and picks the expected
// sender and the receiving link).
// Checks: no crash or sanitizer report; a refusal has a name; whatever decodes is from the expected sender, on
// the receiving link, of the fixed cluster, and re-encodes to exactly the bytes it came from.
#include <algorithm>
#include <cstring>
#include <span>
#include <vector>

#include "fuzz/fuzz_lan.h"
#include "fuzz/fuzz_require.h"
#include "lan/lan_datagram.h"

using namespace castor;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const uint8_t opts = size > 0 ? data[0] : 0;
  if (size > 0) ++data, --size;
  const uint32_t sender = (opts & 2) ? 2 : 1;
  const uint32_t link = (opts & 4) ? 2 : 1;
  const LanSeal& seal = fuzz::lan_fuzz_seal();
  const Uuid cluster = fuzz::lan_fuzz_cluster();

  std::vector<std::byte> bytes(size);
  if (size > 0) std::memcpy(bytes.data(), data, size);
  if (opts & 1) {
    bytes.resize(kLanDatagramSize);  // cut or zero-pad, then seal
    seal.seal(bytes);
  }
  const LanDecodeResult r = decode_lan_datagram(bytes, seal, cluster, sender, link);
  if (!r.ok()) {
    fuzz::require(lan_refusal_name(r.why)[0] != '\0');
    fuzz::require(r.why != LanRefusal::replayed && r.why != LanRefusal::stale_incarnation);  // the view's, not decode's
    if (bytes.size() != kLanDatagramSize)
      fuzz::require(r.why == (bytes.size() < kLanDatagramSize ? LanRefusal::truncated : LanRefusal::oversized));
    return 0;
  }
  const LanDatagram& d = *r.datagram;
  fuzz::require(bytes.size() == kLanDatagramSize);
  fuzz::require(d.sender_node == sender && d.link == link && d.cluster_uuid == cluster);
  fuzz::require(d.incarnation != 0 && d.seq != 0 && d.peer_view <= kLanMaxPeerView);
  auto again = encode_lan_datagram(d, seal);
  fuzz::require(again.ok());
  fuzz::require(std::equal(again->begin(), again->end(), bytes.begin(), bytes.end()));
  auto back = decode_lan_datagram(*again, seal, cluster, sender, link);
  fuzz::require(back.ok() && *back.datagram == d);
  return 0;
}
