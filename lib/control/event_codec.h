// EventCodec: the events quorumd pushes to its subscribers (svcmgr, `castor` watchers) after `subscribe`,
// one JSON object per frame, typed. Every event carries {"event","node","incarnation","boottime_ns"}
// (quorumd's node name and incarnation, and its CLOCK_BOOTTIME when it sent it), then by kind:
//   lease_renewed   "seq", "lease_expiry_boottime_ns"          every renewal (only while someone listens)
//   lease_at_risk   "reason"[, "lease_expiry_boottime_ns"]     services must stop now
//   leaving         "reason"                                   a clean leave: stop and release, then say so
//   fenced          "reason", "fences"                         this incarnation may no longer act
//   left            "reason"                                   quorumd left the cluster
//   peer_changed    "peer", "from", "to", "peer_incarnation", "reason"[, "power_fenced": true]
//   device_changed  "device_index", "device", "failing", "redundant", "reason"   a member of a set of quorum
//                                                              devices began or ceased failing (issue 20's alerts)
//   peer_updated    "peer_incarnation", "reason"               what a table-peer reply would say of the peer
//                                                              changed (its table, standby, request, started
//                                                              mark...): svcmgr reads the peer's table then
// Keys, value types and key order are what quorumd wrote before this codec existed. The parser validates
// every field the event's kind carries and never throws or aborts on any input; an unknown "event" is an
// error (Code::unsupported), so a client may skip it. Pure: no I/O, no clock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "disk/heartbeat_record.h"

namespace castor {

enum class QuorumdEventKind { lease_renewed, lease_at_risk, leaving, fenced, left, peer_changed, device_changed, peer_updated };
// "lease_renewed", "lease_at_risk", ...: the "event" value.
const char* quorumd_event_name(QuorumdEventKind k);

struct QuorumdEvent {
  QuorumdEventKind kind = QuorumdEventKind::lease_renewed;
  std::string node;          // the sending quorumd's node name
  uint64_t incarnation = 0;  // and incarnation
  int64_t boottime_ns = 0;   // when it was sent (CLOCK_BOOTTIME)
  std::string reason;        // every kind but lease_renewed
  uint64_t seq = 0;          // lease_renewed: the heartbeat write's sequence number
  // lease_renewed (always) and lease_at_risk (when the lease has an expiry): when it runs out.
  std::optional<int64_t> lease_expiry_boottime_ns;
  uint64_t fences = 0;  // fenced: how many times this quorumd has fenced
  // peer_changed: the peer's name, its view before and after, and the incarnation followed (peer_updated: that
  // incarnation too).
  std::string peer;
  PeerView from = PeerView::unknown;
  PeerView to = PeerView::unknown;
  uint64_t peer_incarnation = 0;
  bool power_fenced = false;  // peer_changed to DEAD on a confirmed power fence (written only when true)
  // device_changed: the member, its path, whether it fails now, and whether every member answers.
  uint64_t device_index = 0;
  std::string device;
  bool failing = false;
  bool redundant = true;
  friend bool operator==(const QuorumdEvent&, const QuorumdEvent&) = default;
};

// The event's JSON text. Fields the kind does not carry are not written (and parse back as their defaults).
std::string encode_quorumd_event(const QuorumdEvent& e);
// An event back from its text: invalid_argument for malformed text or fields, unsupported for an unknown kind.
Result<QuorumdEvent> parse_quorumd_event(std::string_view text);
// The first frame on a subscribed connection: quorumd's answer to `subscribe` ({"ok":true,"subscribed":true,
// ...}), which is no event.
bool is_subscription_reply(std::string_view text);
// Only the kind of an event (its "event" field), whatever its other fields hold: a client that must obey
// some kinds even when malformed (svcmgr: fenced, lease_at_risk, leaving) reads it when the event does not
// parse. invalid_argument when the text is not an object with a string "event", unsupported for an unknown kind.
Result<QuorumdEventKind> parse_quorumd_event_kind(std::string_view text);

}  // namespace castor
