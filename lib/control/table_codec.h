// TableCodec: the typed messages of quorumd's service-table verbs, both directions, as svcmgr (the client)
// and quorumd (the server) exchange them over the control socket (control_protocol.h frames them):
//   table-set NAME STATE NODE EPOCH BALLOT FLAGS RESTARTS DIGEST   request: one line of words
//        -> {"ok":true,"completed_boottime_ns":N}                   once the block is on the disk
//   table-own  -> this node's table entries, its durable epoch floor, its blocks found corrupt at start
//   table-peer -> the peer's entries (with block and writer incarnation), its corrupt blocks, both epoch
//                 floors, when the read was issued, and the peer's liveness as this quorumd sees it
// Each message has one struct, one encoder and one parser, so both ends agree by construction. The JSON
// keys, value types and key order are what quorumd wrote before these codecs existed (tools/castor, the
// integration tests and tests/lib/qctl.py read them). Parsers validate every field (type and range) and
// return an error saying which one is wrong; they never throw or abort on any input (fuzz/
// control_codec_fuzz.cc). An {"ok":false,"error":"..."} reply parses to Code::refused with that text.
// Pure: no I/O, no clock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "disk/heartbeat_record.h"
#include "disk/service_table_record.h"

namespace castor {

// ---- table-set ------------------------------------------------------------------------------------------

inline constexpr std::string_view kTableSetVerb = "table-set";

// One service entry as svcmgr asks quorumd to write it. `restarts` is svcmgr's count in the current window.
struct TableSetRequest {
  std::string name;
  OwnershipState state = OwnershipState::none;
  uint32_t node = 0;  // 0 .. kNodeCount
  uint64_t epoch = 0;
  uint64_t ballot = 0;
  uint16_t flags = 0;  // parse keeps only ServiceEntry::kKnownFlags
  uint32_t restarts = 0;
  uint64_t digest = 0;  // the definition's digest

  static TableSetRequest from_entry(const ServiceEntry& e);
  // The entry to write: in use, changed_wall_ns 0 (the writer stamps it).
  ServiceEntry to_entry() const;
  friend bool operator==(const TableSetRequest&, const TableSetRequest&) = default;
};

// "NAME STATE NODE EPOCH BALLOT FLAGS RESTARTS DIGEST" (the request's args) and the whole request line
// "table-set NAME ...". The name must be one word (check_name holds for every service name).
std::string encode_table_set_args(const TableSetRequest& r);
std::string encode_table_set_request(const TableSetRequest& r);
// Parses the args of a table-set request (words split on spaces). Errors (Code::invalid_argument), whose
// messages quorumd sends back as they are:
//   not 8 words:                 "table-set NAME STATE NODE EPOCH BALLOT FLAGS RESTARTS DIGEST"
//   a number is not one:         "table-set: bad number 'x'" / "table-set: number too large 'x'"
//   unknown state, node > 2, flags > 0xFFFF, restarts > 2^32-1, a bad service name:
//                                "table-set: a field is out of range"
Result<TableSetRequest> parse_table_set_args(std::string_view args);

// table-set's reply once the block is written.
struct TableSetReply {
  int64_t completed_boottime_ns = 0;  // when the write completed (CLOCK_BOOTTIME)
  friend bool operator==(const TableSetReply&, const TableSetReply&) = default;
};
std::string encode_table_set_reply(const TableSetReply& r);
Result<TableSetReply> parse_table_set_reply(std::string_view text);

// ---- table-own / table-peer -----------------------------------------------------------------------------

// One entry of a table reply: {"name","state","node","epoch","ballot","flags","restarts","digest",
// "changed_wall_ns"} and, in table-peer only, "block" and "incarnation" (the peer table block holding it
// and the incarnation that wrote that block: with changed_wall_ns they tell two writes of equal fields apart).
struct TableEntry {
  ServiceEntry entry;  // in_use is true; every other field as on the disk
  std::optional<uint32_t> block;
  std::optional<uint64_t> incarnation;
  friend bool operator==(const TableEntry&, const TableEntry&) = default;
};

// A table block that does not decode: {"block","reason"} and, in table-peer, "hash" (CRC32C of its raw
// bytes, so a changed damaged block is told from the same one).
struct CorruptTableBlock {
  uint32_t block = 0;
  std::string reason;
  std::optional<uint32_t> hash;
  friend bool operator==(const CorruptTableBlock&, const CorruptTableBlock&) = default;
};

// table-own: {"ok":true,"entries":[...],"own_epoch_floor":N[,"own_epoch_floor_error":"..."],
// "corrupt_blocks":[...]} — the corrupt blocks are this node's own, found at start, until rewritten.
struct TableOwnReply {
  std::vector<TableEntry> entries;  // without block/incarnation
  uint64_t own_epoch_floor = 0;
  std::optional<std::string> own_epoch_floor_error;
  std::vector<CorruptTableBlock> corrupt_blocks;  // without hash
  friend bool operator==(const TableOwnReply&, const TableOwnReply&) = default;
};
std::string encode_table_own_reply(const TableOwnReply& r);
Result<TableOwnReply> parse_table_own_reply(std::string_view text);

// The peer as this node's quorumd sees it (table-peer's "peer" object).
struct PeerSummary {
  PeerView view = PeerView::unknown;  // "view": "UNKNOWN"|"UP"|"DEAD"|"DOWN"
  uint64_t incarnation = 0;
  int64_t confirmed_boottime_ns = 0;  // the read that confirmed the current view was issued then
  bool digest_known = false;          // the peer published its services digest
  uint64_t services_digest = 0;       // 0 unless digest_known
  bool standby = false;
  // castor standby/unstandby run on the peer for this node (its heartbeat's request, none when it has none),
  // whether the peer acts on this node's requests, and the peer request this node handled last. A reply of
  // a quorumd older than requests has none of these keys: no request, takes none.
  PeerRequest request = PeerRequest::none;
  uint64_t request_serial = 0;
  bool takes_requests = false;
  uint64_t handled_incarnation = 0, handled_serial = 0;
  // The peer's started mark (HeartbeatRecord::started_mark), when it publishes one.
  std::optional<uint64_t> started_mark;
  std::vector<uint64_t> not_started;  // the epochs at most the mark not started yet
  // A claim of the peer with this epoch is started there, as its heartbeat says; true when it says nothing.
  bool started_on_peer(uint64_t epoch) const;
  friend bool operator==(const PeerSummary&, const PeerSummary&) = default;
};

// table-peer: {"ok":true,"read_issued_boottime_ns":N,"entries":[...],"corrupt_blocks":[...],
// "peer_epoch_floor":N | null with "peer_epoch_floor_error":"...","own_epoch_floor":N,"peer":{...}}.
struct TablePeerReply {
  int64_t read_issued_boottime_ns = 0;
  std::vector<TableEntry> entries;  // every entry of every block that decoded, with block and incarnation
  std::vector<CorruptTableBlock> corrupt_blocks;  // with hash
  // nullopt: the peer's epoch record did not decode (why in peer_epoch_floor_error). A reply without the
  // key at all (a quorumd older than epoch records) parses as 0: its disks have no floor to lose.
  std::optional<uint64_t> peer_epoch_floor;
  std::string peer_epoch_floor_error;  // only when peer_epoch_floor is nullopt
  uint64_t own_epoch_floor = 0;        // this node's durably written floor
  PeerSummary peer;
  friend bool operator==(const TablePeerReply&, const TablePeerReply&) = default;
};
std::string encode_table_peer_reply(const TablePeerReply& r);
Result<TablePeerReply> parse_table_peer_reply(std::string_view text);

// The state's name ("owned", ...) back to the state; nullopt for any other text.
std::optional<OwnershipState> parse_ownership_state(std::string_view name);
// "UNKNOWN"|"UP"|"DEAD"|"DOWN" back to the view; nullopt for any other text.
std::optional<PeerView> parse_peer_view(std::string_view name);

}  // namespace castor
