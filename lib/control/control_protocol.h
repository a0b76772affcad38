// ControlProtocol: the wire format of quorumd's control socket (AF_UNIX, SOCK_STREAM), shared by the daemon
// and its clients (castor CLI, svcmgr, tests).
//
// Every message, both ways, is one frame:
//   bytes 0..3   N, the payload length, little-endian; 1 <= N <= kMaxPayload (64 KiB)
//   bytes 4..5   protocol version, little-endian; kProtocolVersion (1)
//   bytes 6..    N bytes of payload
// Requests (client -> quorumd): the payload is one line of printable ASCII (0x20..0x7e, no newline):
//   "VERB" or "VERB ARGS" — the verb is [a-z0-9-]+, ARGS is the rest after one space.
//   Verbs: status | leave | subscribe [service-manager] | services-stopped | register-pgid PGID |
//   unregister-pgid PGID | set-digest N | standby 0|1 | fence REASON | table-own | table-peer |
//   table-set NAME STATE NODE EPOCH BALLOT FLAGS RESTARTS DIGEST.
//   table-peer reads the peer's epoch record and all 34 table blocks; its reply has "entries" (of every
//   block that decoded), "corrupt_blocks": [{"block": N, "reason": "..."}] (table blocks that did not),
//   "peer_epoch_floor": N or null with "peer_epoch_floor_error", "own_epoch_floor" (this node's durably
//   written floor), "read_issued_boottime_ns" and "peer". table-own: "entries", "own_epoch_floor",
//   "corrupt_blocks" (own blocks found corrupt at start, until rewritten). table-set replies once the
//   block was written (after the epoch record, when the entry's epoch is above the durable floor).
// Replies and events (quorumd -> client): the payload is one JSON object (UTF-8).
//   Replies carry "ok": true|false, and "error": "why" when false.
//   Events (after `subscribe`) carry "event": "lease_at_risk"|"fenced"|"peer_changed"|"left"|"lease_renewed".
// A frame that is too long, too short, of another version, or whose request is not printable one-line
// text is malformed: quorumd answers with an error reply and closes the connection. An unknown verb or bad
// arguments get an error reply; the connection stays open.
// Pure: no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace castor {

inline constexpr size_t kFrameHeaderSize = 6;
inline constexpr size_t kMaxPayload = 64 * 1024;  // requests (client -> daemon): what a daemon accepts
// Replies and events (daemon -> client): svcmgr's status of 1054 services (the most a node's table holds)
// is ~120 KiB with short names. A client accepts this much.
inline constexpr size_t kMaxReplyPayload = 1024 * 1024;
inline constexpr uint16_t kProtocolVersion = 1;

// The frame carrying `payload`; fails if the payload is empty or longer than `max` (requests: kMaxPayload;
// a daemon's replies: kMaxReplyPayload).
Result<std::string> encode_frame(std::string_view payload, size_t max = kMaxPayload);

// Takes the first complete frame off the front of `buffer` and returns its payload; nullopt when the
// buffer does not yet hold a whole frame. A malformed header (length 0 or > `max`, another version) is an
// error; the buffer is then left as it was. Daemons read requests with kMaxPayload, clients read replies
// with kMaxReplyPayload.
Result<std::optional<std::string>> take_frame(std::string& buffer, size_t max = kMaxPayload);

struct ControlRequest {
  std::string verb;
  std::string args;  // may be empty
};

// Splits a request payload; fails (Code::invalid_argument, saying why) if it is not printable one-line
// ASCII text with a well-formed verb.
Result<ControlRequest> parse_request(std::string_view payload);

}  // namespace castor
