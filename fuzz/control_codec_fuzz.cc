// Fuzz target: the typed control-socket messages (lib/control/table_codec.h, event_codec.h), as svcmgr and
// quorumd parse what the other sent. Input: any bytes, given to every parser (the table-set request's
// args, the table-set/table-own/table-peer replies, a quorumd event, a plain reply, quorumd's status,
// svcmgr's services and admin replies).
// Checks: no crash, exception, leak or sanitizer report; what parses encodes to text that parses back to an
// equal value, and encoding that value again gives the same text (one canonical encoding).
#include <cstdint>
#include <string>
#include <string_view>

#include "control/event_codec.h"
#include "control/reply_codec.h"
#include "control/services_codec.h"
#include "control/table_codec.h"
#include "fuzz/fuzz_require.h"

using namespace castor;
using fuzz::require;

namespace {

template <typename Parse, typename Encode>
void round_trip(std::string_view input, Parse parse, Encode encode) {
  auto v = parse(input);
  if (!v.ok()) {
    require(!v.status().message().empty());  // an error says why
    return;
  }
  const std::string text = encode(*v);
  auto again = parse(text);
  require(again.ok() && *again == *v);
  require(encode(*again) == text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  round_trip(input, parse_table_set_args, encode_table_set_args);
  round_trip(input, parse_table_set_reply, encode_table_set_reply);
  round_trip(input, parse_table_own_reply, encode_table_own_reply);
  round_trip(input, parse_table_peer_reply, encode_table_peer_reply);
  round_trip(input, parse_quorumd_event, encode_quorumd_event);
  round_trip(input, parse_services_reply, encode_services_reply);
  round_trip(input, parse_admin_reply, [](const std::string& m) { return encode_admin_reply(m); });
  // Parse-only messages: an error always says why.
  // The kind alone: whatever parses as a whole event has the same kind when read alone.
  if (auto k = parse_quorumd_event_kind(input); k.ok()) {
    if (auto e = parse_quorumd_event(input); e.ok()) require(e->kind == *k);
  } else {
    require(!k.status().message().empty());
  }
  if (Status st = parse_ok_reply(input); !st.ok()) require(!st.message().empty());
  if (auto q = parse_quorumd_identity(input); q.ok()) {
    require(q->node_id >= 1 && q->node_id <= 2 && q->peer_id >= 1 && q->peer_id <= 2);
    require(!q->node_name.empty() && !q->peer_name.empty() && q->renew_interval_ms > 0);
  } else {
    require(!q.status().message().empty());
  }
  return 0;
}
