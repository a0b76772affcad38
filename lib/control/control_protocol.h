// ControlProtocol: the frame format of the daemons' control sockets (AF_UNIX, SOCK_STREAM: quorumd's and
// svcmgr's), shared by the daemons and their clients (castor CLI, svcmgr, tests). Every verb of both
// daemons, who sends it and what it answers: docs/control-protocol.md. The typed messages carried in the
// frames: table_codec.h (table-set, table-own, table-peer) and event_codec.h (quorumd's events).
//
// Every message, both ways, is one frame:
//   bytes 0..3   N, the payload length, little-endian; 1 <= N <= kMaxPayload (64 KiB)
//   bytes 4..5   protocol version, little-endian; kProtocolVersion (1)
//   bytes 6..    N bytes of payload
// Requests (client -> daemon): the payload is one line of printable ASCII (0x20..0x7e, no newline):
//   "VERB" or "VERB ARGS" — the verb is [a-z0-9-]+, ARGS is the rest after one space.
// Replies and events (daemon -> client): the payload is one JSON object (UTF-8). Replies carry
//   "ok": true|false, and "error": "why" when false; events (after `subscribe`) carry "event".
// A frame that is too long, too short, of another version, or whose request is not printable one-line
// text is malformed: the daemon answers with an error reply and closes the connection. An unknown verb or
// bad arguments get an error reply; the connection stays open.
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
