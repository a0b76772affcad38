// PeerMonitor: is the peer alive? Decided only from its heartbeat block changing, timed on OUR clock.
//
// Each successful read of the peer's heartbeat block is an observation. A "value" is the record's
// (incarnation, seq) — or, for a block that is empty or fails its checks, a hash of its raw bytes, so a torn
// or corrupt record still counts as a change when it changes. The peer is
//   UNKNOWN  at start, until it is seen changing or a full dead time D has passed;
//   UP       once its value has been seen changing to a valid record of a live incarnation (UP or LEAVING);
//   DOWN     when its current, valid record of a live incarnation says DOWN (a clean leave: services
//            stopped) — take-over at once; only from the incarnation already followed (or at the very first
//            read): a DOWN of an incarnation that just replaced another may be a late write of an older life
//            (incarnations are random, not ordered), so it waits for D like a crash;
//   DEAD     when a read issued at least D after we first read the current value returns that same value
//            (never for a peer that said it runs without a watchdog: only a confirmed fence, below);
// "First read" is the completion time of the first read that returned the value: never earlier than the
// write that put it there, so D is never counted from before the peer's lease could have been renewed.
// Incarnations: once a valid record of incarnation B follows one of A, A is RETIRED for good (remembered,
// up to kMaxRetired of them). A record of a retired incarnation is a late write of a previous life, and a
// record of the followed incarnation with a seq below one already seen is a late write of this life: such a
// STALE record changes the value (so it delays a DEAD verdict, like any change) but it is never a sign of
// life, never a DOWN, and never replaces the incarnation we follow.
// Confirmation: a verdict (DEAD or DOWN) is confirmed by a read that returned the very value the verdict
// is about, unchanged (for DEAD, issued at least D after its first read) — never by a read that saw a
// changed value, decodable or not. confirmed_read_issued() is what svcmgr's ownership may rely on.
// Promises (quorumd/stall_promise.h): hold_dead_until(floor) — this node promised the peer, over the LAN, not to
// declare it dead before floor + D — makes DEAD need a read issued at or after max(first_seen, floor) + D.
// Power fencing (docs/design.md "Power fencing"): fence_started() remembers which life the fence is about
// (the incarnation followed when the agent was started); declare_fenced(settle_end) — the peer's power was
// confirmed off and the settle delay has passed — makes the first read issued at or after settle_end declare
// DEAD, without waiting D, if it returns that life's record (any seq: a late write of it), the record of a
// life retired before the fence started, or the very value seen at the fence's start. (A life retired
// since may be one the node was powered on with again, replaced by a later one: its late write proves
// nothing about the life that runs.) Anything else (a record of an incarnation never seen:
// the node may have been powered on again; changed garbage) gives no verdict: the normal rules go on from it.
// The fenced incarnation is retired, and every later read of the unchanged value re-confirms the verdict.
// The peer's wall-clock stamps are never used. Pure: no I/O, no clock reads. Must never count a changed value
// as confirming a verdict, nor a retired incarnation's record as life or as DOWN.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "common/clock.h"
#include "disk/heartbeat_record.h"

namespace castor {

struct PeerObservation {
  TimePoint read_issued;
  TimePoint read_completed;
  std::optional<HeartbeatRecord> record;  // set when the block decoded (and belongs to our cluster)
  uint32_t raw_hash = 0;                  // CRC32C of the raw block, identity of an invalid/empty block
  // This node's core when the read completed: its incarnation and the seq of its latest write issued (any
  // write issued later has a higher seq). A peer record naming this incarnation with a peer_seq above it
  // was written by a life that ran after this read completed.
  uint64_t own_incarnation = 0, own_seq = 0;
};

struct PeerTransition {
  PeerView from, to;
  uint64_t incarnation;
  std::string reason;
  bool power_fenced = false;  // to dead: by a confirmed power fence (not the dead time)
};

class PeerMonitor {
 public:
  // How many retired incarnations are remembered (oldest forgotten first). Each one is a restart of the
  // peer during this monitor's life; a write of a life this old still in flight is not a practical concern.
  static constexpr size_t kMaxRetired = 1024;

  explicit PeerMonitor(Duration dead_time);

  // Feeds one successful read; returns the transition it caused, if any.
  std::optional<PeerTransition> observe(const PeerObservation& obs);

  PeerView view() const { return view_; }
  // Incarnation/seq of the current value when it is a valid record of a live (not retired) incarnation;
  // otherwise the incarnation we follow (the latest live one seen) and seq 0; 0/0 before any.
  uint64_t incarnation() const { return record_ ? record_->incarnation : followed_.value_or(0); }
  uint64_t seq() const { return record_ ? record_->seq : 0; }
  // The current value's record, when it decoded and belongs to a live incarnation.
  const std::optional<HeartbeatRecord>& record() const { return record_; }
  // When we first read the current value; heartbeat age = now - first_seen().
  TimePoint first_seen() const { return first_seen_; }
  // The earliest issue time of a read that could declare the peer dead, or confirm a DEAD verdict again
  // after the value changed (for scheduling a read then); nullopt before the first observation and once the
  // current value has confirmed a verdict (DEAD, or DOWN with its DOWN record).
  std::optional<TimePoint> dead_deadline() const {
    if (fence_from_) return *fence_from_;
    if (!value_ || value_confirmed_ || no_dead_time()) return std::nullopt;
    return std::max(first_seen_, floor_) + dead_time_;
  }
  // A promise given (or possibly given by a previous life): no DEAD verdict from a read issued before
  // floor + D. Only ever raises the floor.
  void hold_dead_until(TimePoint floor) { floor_ = std::max(floor_, floor); }
  // What one read of the peer's block returned, as far as verdicts go.
  struct Value {
    bool valid = false;  // a record of a live incarnation, not stale
    bool record = false; // a record at all (a retired incarnation's record is not `valid`)
    uint64_t incarnation = 0, seq = 0;
    uint32_t raw_hash = 0;
    friend bool operator==(const Value&, const Value&) = default;
  };
  // The life a fence is about: the value and the incarnation followed when it started.
  struct FenceSubject {
    std::optional<Value> value;
    std::optional<uint64_t> incarnation;
    std::deque<uint64_t> retired;  // the incarnations retired when it started: lives before it
    // An admin's confirmation (castor fence --confirm-off): the highest seq of the life followed then. A record
    // of that life with a higher seq was written after the admin's word: it is life, never a late write.
    std::optional<uint64_t> seq_cap;
    // The monitor that took it has retired that life since (a newer life seen, or the verdict): a next core
    // never follows it from the cap (adopt_fence_subject retires it). Live in fence_subject(); the daemon
    // refreshes its copy while the core that took the fence runs.
    bool superseded = false;
  };
  // A power fence of the peer starts: remember the life it is about (see the header comment).
  void fence_started();
  FenceSubject fence_subject() const {
    return {fence_value_, fence_inc_, fence_retired_, fence_seq_cap_, fenced_life_retired()};
  }
  // The life the fence is about has been retired here since (FenceSubject::superseded, without copying it).
  bool fenced_life_retired() const {
    return fence_inc_ && std::find(retired_.begin(), retired_.end(), *fence_inc_) != retired_.end();
  }
  // The fence just started is an admin's confirmation, no agent's off: see FenceSubject::seq_cap.
  void fence_by_admin() { fence_seq_cap_ = followed_seq_; }
  // The monitor of this node's next core (a rejoin while the fence ran) takes over what an earlier one
  // remembered at the fence's start: the fence is still about that life, whoever confirms it. Those lives
  // are retired here too: a late write of one must not pass for life and displace a newer life.
  void adopt_fence_subject(const FenceSubject& f);
  // Its power was confirmed off and every write it issued before has settled by `settle_end`; `by` names
  // the fence for the verdict's reason. Only after fence_started().
  void declare_fenced(TimePoint settle_end, std::string by);
  // A fence verdict is awaiting its read (declare_fenced() called, no read issued at settle_end yet).
  bool fence_pending() const { return fence_from_.has_value(); }
  // The current value was declared dead by a confirmed fence.
  bool value_fenced() const { return value_fenced_; }
  // That value (nullopt while none is).
  std::optional<Value> fenced_value() const { return value_fenced_ ? value_ : std::nullopt; }
  // A life of the peer said in its records that it runs without a watchdog (HeartbeatRecord::kNoWatchdog):
  // the dead time D declares nothing -- only a confirmed fence or a DOWN of the life followed does -- until a
  // life of the peer is seen running without the flag after it was read here (a later record of the life
  // followed that lacks it and names this core's incarnation with a seq written after that read).
  // Sticky across incarnation changes: a late write of an older life never seen here, landing while the
  // flagged life is frozen, would otherwise replace it and bring D back (the adversarial review's schedule);
  // and across a DOWN and a confirmed fence: the peer's next life may hang before this node reads it, its
  // block torn (the review of 39ddbb2).
  bool no_dead_time() const { return no_watchdog_; }
  // An earlier monitor of this node (a previous core, or a previous quorumd process: the peer-watchdog file)
  // read that flag and nothing undid it since: the same as reading it here. `only_assumed`: nobody read it --
  // this node knows nothing of the peer (no peer-watchdog file) and takes it for one without a watchdog
  // until a life of it is seen running with one (the same undo); reading the flag makes it known.
  void assume_no_watchdog(bool only_assumed = false) {
    no_watchdog_ = true;
    nowd_only_assumed_ = only_assumed;
  }
  // no_dead_time() because a record said so (here or to an earlier monitor), not only assumed.
  bool no_watchdog_known() const { return no_watchdog_ && !nowd_only_assumed_; }
  TimePoint dead_floor() const { return floor_; }
  bool seen_change() const { return seen_change_; }
  bool retired(uint64_t incarnation) const;
  // Issue time of the latest successful read of the peer's block, whatever it saw (for display only: it
  // confirms nothing).
  TimePoint last_read_issued() const { return last_read_issued_; }
  // Issue time of the latest read that CONFIRMED the current verdict: while the view is DEAD, a read issued
  // at least D after the first read of the current value that returned it unchanged; while it is DOWN, a
  // read that returned the DOWN record (the one that made the verdict, or the same one unchanged). A read
  // that saw a changed value (decodable or not) never advances it. Meaningful only while the view is DEAD
  // or DOWN; svcmgr voids a peer entry only if this is later than its first read of that entry.
  TimePoint confirmed_read_issued() const { return confirmed_read_issued_; }

 private:
  std::optional<PeerTransition> move_to(PeerView to, std::string reason);
  void confirm(TimePoint issued);
  void retire(uint64_t incarnation);

  Duration dead_time_;
  PeerView view_ = PeerView::unknown;
  std::optional<Value> value_;
  bool value_is_down_ = false;           // the current value is a live incarnation's DOWN record
  bool value_confirmed_ = false;         // the current value has confirmed a verdict (DEAD or DOWN)
  std::optional<HeartbeatRecord> record_;
  std::optional<uint64_t> followed_;     // the latest live incarnation seen
  uint64_t followed_seq_ = 0;            // the highest seq of it seen
  std::deque<uint64_t> retired_;         // replaced incarnations, oldest first: their late writes are stale
  TimePoint first_seen_;
  TimePoint floor_{};                    // hold_dead_until: promises given
  std::optional<Value> fence_value_;      // fence_started: the value then
  std::optional<uint64_t> fence_inc_;     // and the incarnation followed then
  std::deque<uint64_t> fence_retired_;    // and the incarnations retired then (not those retired since)
  std::optional<uint64_t> fence_seq_cap_; // fence_by_admin: FenceSubject::seq_cap
  std::optional<TimePoint> fence_from_;  // declare_fenced: the first read issued at or after it decides
  std::string fence_by_;
  bool value_fenced_ = false;            // the current value was declared dead by a confirmed fence
  bool no_watchdog_ = false;             // no_dead_time()
  uint64_t nowd_own_seq_ = 0;            // own_seq of the latest read that returned a flagged record (0: assumed)
  bool nowd_only_assumed_ = false;       // no_watchdog_ assumed, never read (no_watchdog_known)
  TimePoint last_read_issued_{};
  TimePoint confirmed_read_issued_{};
  bool seen_change_ = false;
};

}  // namespace castor
