// StallPromise: the rules of the promises two quorumds exchange over the LAN when BOTH lose the quorum disk
// (a shared storage stall), so that neither fences while they still hear each other (docs/design.md, "Riding
// through a shared storage stall"). Pure arithmetic on times this node measured with its own clock; the
// QuorumCore holds the state and asks these questions.
//
//  - A node's disk is *failing* when its last heartbeat write completed with an error or a timeout (every
//    write has a deadline of T), or it never had an ok one, or its last ok write was issued more than 2T ago
//    (a catch-all). A slow disk whose writes all complete ok within T is working: it never grants.
//  - Holder: asks while it holds a lease, its disk is failing and the stall is younger than max_storage_stall.
//    A grant answering its request extends its lease to (SEND time of that request) + P — never to the
//    receipt of the grant: the grant was made after the request was sent, so the holder's lease ends no later
//    than the grantor's floor.
//  - Grantor: grants only while it holds a lease itself, its OWN disk is failing (a node whose disk works never
//    grants: then only the peer's path failed and failover proceeds as without a LAN), the stall is younger
//    than max_storage_stall, and the asker is the incarnation it follows on the disk, seen UP. Before the
//    grant leaves, it raises its floor to now + P: no DEAD verdict about the peer from a read issued before
//    floor + D.
//  - A new core (rejoin, restart) starts with floor = start + (P - F) if P > F: a previous life may have
//    promised up to P past a grant made before start, so the holder's lease ends before start + P; a DEAD
//    verdict of the new core needs a read at first_seen + D >= start + D, which is safe for a lease ending by
//    start + F (the argument of the grant floor); only P - F more must be waited out. With P = F, nothing.
//  - The holder's stop: svcmgr is told to stop services kill_grace (T) before the lease ends, 2T after the
//    last ok write. The grantor's disk may be judged failing only up to R later than the holder's (its writes
//    run up to R out of phase), and so just at that moment: while the holder asks and the peer's latest LAN
//    datagram (heard within R) shows the peer's disk stalled as early as its own (no ok write issued later than
//    R + R/4 after the holder's last ok one), the stop is asked kill_grace/2 before the lease end instead. Only
//    the courtesy stop moves; the lease end and the fence at it do not, so this is not a safety rule.
// Must never: extend a lease that lapsed or never existed, anchor an extension at a receipt time, or grant
// from a node whose disk works.
#pragma once

#include <optional>

#include "common/clock.h"
#include "disk/timing.h"
#include "quorumd/peer_monitor.h"

namespace castor {

struct PromiseTerms {
  Duration term{0};               // P: how long one promise holds (= the lease F)
  Duration max_storage_stall{0};  // S: no promise is asked or given once the own disk failed this long ago
  Duration failing_after{0};      // 2T: the disk is failing when the last ok write was issued longer ago

  static PromiseTerms from(const Timing& timing, Duration max_storage_stall);
};

// Whether the disk is failing at `now`, given the issue time of the last heartbeat write that completed ok and
// whether the last write that completed (or timed out) failed.
bool disk_failing(const PromiseTerms& terms, std::optional<TimePoint> last_ok_issue, bool last_write_failed,
                  TimePoint now);

// How long after its start a new core holds back DEAD verdicts beyond first_seen + D: max(0, P - F).
Duration restart_hold(const PromiseTerms& terms, const Timing& timing);

// Whether the stall (counted from the last ok write's issue) is still young enough to ask or grant.
bool within_storage_stall(const PromiseTerms& terms, std::optional<TimePoint> last_ok_issue, TimePoint now);

// The holder's new lease end for a grant of `granted` (the grantor's term, capped at P) answering the request
// it sent at `request_sent`; nullopt when the grant may not extend anything (see the header comment).
std::optional<TimePoint> promised_lease_end(const PromiseTerms& terms, TimePoint request_sent, Duration granted,
                                            std::optional<TimePoint> last_ok_issue);

// Whether the holder's stop of services waits for a likely promise (see the header comment): it asks
// (`asking`), the peer's latest datagram arrived at `peer_report_at` (within R of now) and put the issue of the
// peer's last ok write at `peer_last_ok_issue` (receipt time minus the age it carried: never earlier than
// the truth), no later than R + R/4 after my own `last_ok_issue`.
bool stop_waits_for_promise(const Timing& timing, bool asking, std::optional<TimePoint> last_ok_issue,
                            std::optional<TimePoint> peer_report_at, std::optional<TimePoint> peer_last_ok_issue,
                            TimePoint now);

// Why the grantor may not grant now (nullopt: it may).
struct GrantInputs {
  bool holds_lease = false;                  // phase up and the lease valid at now
  std::optional<TimePoint> last_ok_issue;    // of the grantor's own heartbeat writes
  bool last_write_failed = false;            // the grantor's last completed heartbeat write failed
  uint64_t asker_incarnation = 0;
  uint64_t followed_incarnation = 0;         // what the grantor's PeerMonitor follows
  PeerView view = PeerView::unknown;         // the grantor's disk view of the asker
};
std::optional<const char*> grant_refusal(const PromiseTerms& terms, const GrantInputs& in, TimePoint now);

}  // namespace castor
