// ReplyCodec: the replies every control verb shares, and the part of quorumd's `status` reply svcmgr
// starts from. Plain replies are {"ok":true} (with the verb's fields after it) or {"ok":false,"error":
// "why"}; see docs/control-protocol.md for what each verb adds. Parsers never throw or abort on any
// input; a refusal parses to Code::refused with the daemon's text. Pure: no I/O, no clock.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace castor {

// {"ok":false,"error":MESSAGE}: what a daemon answers to a request it refuses or cannot parse.
std::string encode_error_reply(std::string_view message);
// {"ok":true}: set-digest, fence.
std::string encode_ok_reply();
// OK when `text` is a reply with "ok": true (whatever else it holds); Code::refused with the reply's
// "error" when "ok" is false; Code::invalid_argument when it is not a reply at all.
Status parse_ok_reply(std::string_view text);

// Who this node and its peer are, as quorumd's `status` reply says: {"node":{"id","name"},
// "peer":{"id","name"},"standby","timing_ms":{"renew_interval"}} among its other fields.
struct QuorumdIdentity {
  uint32_t node_id = 0;  // 1 or 2
  std::string node_name;
  uint32_t peer_id = 0;
  std::string peer_name;
  bool standby = false;  // this node is in standby (quorumd keeps it across svcmgr restarts)
  int64_t renew_interval_ms = 0;
  // quorumd sends the peer_updated event (control/event_codec.h); absent (an older quorumd): false, and
  // svcmgr then reads the peer's table at every tick.
  bool sends_peer_updated = false;
  friend bool operator==(const QuorumdIdentity&, const QuorumdIdentity&) = default;
};
// Reads those fields of a `status` reply; an error if one is missing or wrong (ids 1..2, names non-empty,
// renew interval > 0).
Result<QuorumdIdentity> parse_quorumd_identity(std::string_view status_reply);

}  // namespace castor
