// HeartbeatRecord: block 0 of a node's region, rewritten by that node's quorumd every renew interval.
// The peer learns liveness only from `seq` changing, timed on its own clock (never from wall_time_ns).
// Payload after the 64-byte record header (which carries node id, incarnation, seq and wall time):
//
//   Byte layout: docs/ondisk-format.md, section "Heartbeat (type 2, region block 0)" — the one spec,
//   held to this code by tests/unit/ondisk_doc_test.cc.
//
// Pure: no I/O.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <vector>

#include "common/peer_view.h"
#include "common/status.h"
#include "disk/disk_layout.h"
#include "disk/record_header.h"

namespace castor {

enum class NodeState : uint8_t { up = 1, leaving = 2, down = 3 };
// An admin's request carried to the peer in this node's heartbeat (castor standby PEER run here).
enum class PeerRequest : uint8_t { none = 0, standby = 1, unstandby = 2 };
// PeerView (UNKNOWN, UP, DEAD, DOWN): common/peer_view.h; its names here.
const char* node_state_name(NodeState s);
const char* peer_view_name(PeerView v);
const char* peer_request_name(PeerRequest r);  // "none", "standby", "unstandby"

struct HeartbeatRecord {
  Uuid cluster_uuid;
  uint32_t node_id = 0;
  uint64_t incarnation = 0;
  uint64_t seq = 0;
  int64_t wall_time_ns = 0;
  NodeState state = NodeState::up;
  PeerView peer_view = PeerView::unknown;
  uint16_t flags = 0;
  static constexpr uint16_t kStandby = 1;
  // This node runs without a watchdog (watchdog_device = none, allowed only with a power fence): if it hangs
  // nothing resets it, so its peer must never take its silence for a death after the dead time D -- only a
  // confirmed power-off (or its clean DOWN) ends its ownership.
  static constexpr uint16_t kNoWatchdog = 2;
  // This node means to power-fence its peer's life `peer_incarnation` (the fence intent of docs/design.md
  // "Power fencing"): set before its BMC is asked, kept while the fence runs. A peer that sees it before its
  // own fence yields, so that two nodes never power each other off on one coherent disk.
  static constexpr uint16_t kFenceIntent = 4;
  // On a set of quorum devices: the writer recently read damaged copies (zeroed, overwritten) of the PEER's
  // region on a member. Only the peer may write its region, so this asks it to rewrite it (docs/design.md
  // "Three quorum devices": a node reads its own table blocks only at start).
  static constexpr uint16_t kPeerRegionDamaged = 8;
  static constexpr uint16_t kKnownFlags = kStandby | kNoWatchdog | kFenceIntent | kPeerRegionDamaged;
  uint32_t last_io_latency_us = 0;
  uint32_t max_io_latency_us = 0;
  // On a set of quorum devices: the set's generation the writer runs, and whether the member of `set_slot`
  // that generation brought in is not yet in use (retiring: the old member no longer counts, the new one
  // not yet; docs/design.md "Replacing a quorum device"). All zero on a single device.
  uint16_t set_generation = 0;
  bool set_retiring = false;
  uint8_t set_slot = 0;
  uint64_t services_digest = 0;
  uint64_t peer_incarnation = 0;
  uint64_t peer_seq = 0;
  // Bytes 104 on, which writers before them left zero and their readers never look at (so adding them changed
  // no version): an admin's request for the peer, numbered by `peer_request_serial` (unique in the writer's
  // life, > 0 when a request is set); and the peer's request this node handled last (the peer life and its
  // serial), which tells the peer to take its request down. A request kind this reader does not know reads
  // as none; feature bits it does not know are ignored.
  PeerRequest peer_request = PeerRequest::none;
  uint8_t features = 0;
  static constexpr uint8_t kTakesPeerRequests = 1;  // this writer acts on the peer's requests
  static constexpr uint8_t kPublishesStartedMark = 2;  // started_mark below is this writer's
  static constexpr uint8_t kPublishesTableGeneration = 4;  // table_generation below is this writer's

  uint64_t peer_request_serial = 0;
  uint64_t handled_request_incarnation = 0;
  uint64_t handled_request_serial = 0;
  // Byte 136: every service this writer owns with an epoch at most this is started (its agents' start
  // done): what lets the peer's svcmgr (castor relocate --wait there) say "started" rather than "starting".
  // A claim is confirmed from a floor at or above every epoch seen, so one newer than the mark is above it
  // whatever the lag; owned services not started yet that share an epoch at most the mark (two claims
  // confirmed from one read get one epoch) are listed (svcmgr/started_mark_rule.h). Display only: no
  // ownership decision reads it. A restart in place keeps its epoch, so the peer may show it started for
  // up to a renew interval after it began. Meaningful with kPublishesStartedMark (always set by a writer
  // that has it: 0 until its svcmgr gives one).
  uint64_t started_mark = 0;
  // ...but for these epochs (at most kMaxNotStarted, each at most started_mark): claims still starting or
  // recovering. A writer with more sets the mark below the lowest instead.
  static constexpr size_t kMaxNotStarted = 32;
  // Fixed capacity, so that building and copying a heartbeat (every renew interval) never allocates.
  struct EpochList {
    std::array<uint64_t, kMaxNotStarted> values{};
    uint8_t count = 0;
    EpochList() = default;
    EpochList(std::initializer_list<uint64_t> l) { assign(l.begin(), l.end()); }
    EpochList(const std::vector<uint64_t>& v) { assign(v.begin(), v.end()); }  // NOLINT: implicit on purpose
    template <class It>
    void assign(It first, It last) {  // past kMaxNotStarted: the rest dropped (the writer never sends more)
      *this = EpochList();
      for (; first != last && count < kMaxNotStarted; ++first) values[count++] = *first;
    }
    void push_back(uint64_t e) {
      if (count < kMaxNotStarted) values[count++] = e;
    }
    const uint64_t* begin() const { return values.data(); }
    const uint64_t* end() const { return values.data() + count; }
    size_t size() const { return count; }
    bool empty() const { return count == 0; }
    friend bool operator==(const EpochList&, const EpochList&) = default;
  };
  EpochList not_started;
  // Byte 408: how many writes of this writer's epoch record and table blocks have ended (landed or failed) in
  // this life, plus one more at every loop turn of quorumd while the disk holds a timed-out I/O of it (a
  // table write among them may still land). A reader
  // that saw the same (incarnation, generation) before it last read the table knows the table has not
  // changed since: what lets the peer's svcmgr skip reading 35 blocks every renew interval when nothing
  // moves. A hint only: every read an ownership decision rests on is a fresh read (docs/design.md "Reading
  // the peer's table only when it changed"). Meaningful with kPublishesTableGeneration.
  uint64_t table_generation = 0;
  friend bool operator==(const HeartbeatRecord&, const HeartbeatRecord&) = default;
};

void encode_heartbeat(const HeartbeatRecord& hb, const DiskLayout& layout, const RecordSeal& seal,
                      std::span<std::byte> block);
// `node_id` is the region's owner: a record claiming another writer is corrupt.
Result<HeartbeatRecord> decode_heartbeat(std::span<const std::byte> block, const DiskLayout& layout, uint32_t node_id,
                                         const RecordSeal& seal);

}  // namespace castor
