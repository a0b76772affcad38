// PeerMonitor: is the peer alive? Decided only from its heartbeat block changing, timed on OUR clock.
//
// Each successful read of the peer's heartbeat block is an observation. A "value" is the record's
// (incarnation, seq) — or, for a block that is empty or fails its checks, a hash of its raw bytes, so a torn
// or corrupt record still counts as a change when it changes. The peer is
//   UNKNOWN  at start, until it is seen changing or a full dead time D has passed;
//   UP       once its value has been seen changing (state UP or LEAVING);
//   DOWN     when its current, valid record says DOWN (a clean leave: services stopped) — take-over at once;
//   DEAD     when a read issued at least D after we first read the current value returns that same value.
// "First read" is the completion time of the first read that returned the value: never earlier than the
// write that put it there, so D is never counted from before the peer's lease could have been renewed.
// The peer's wall-clock stamps are never used. Pure: no I/O, no clock reads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/clock.h"
#include "quorumd/heartbeat_record.h"

namespace castor {

struct PeerObservation {
  TimePoint read_issued;
  TimePoint read_completed;
  std::optional<HeartbeatRecord> record;  // set when the block decoded (and belongs to our cluster)
  uint32_t raw_hash = 0;                  // CRC32C of the raw block, identity of an invalid/empty block
};

struct PeerTransition {
  PeerView from, to;
  uint64_t incarnation;
  std::string reason;
};

class PeerMonitor {
 public:
  explicit PeerMonitor(Duration dead_time);

  // Feeds one successful read; returns the transition it caused, if any.
  std::optional<PeerTransition> observe(const PeerObservation& obs);

  PeerView view() const { return view_; }
  // Incarnation/seq/state of the current valid record (0/0/UP if none).
  uint64_t incarnation() const { return record_ ? record_->incarnation : 0; }
  uint64_t seq() const { return record_ ? record_->seq : 0; }
  const std::optional<HeartbeatRecord>& record() const { return record_; }
  // When we first read the current value; heartbeat age = now - first_seen().
  TimePoint first_seen() const { return first_seen_; }
  // The earliest issue time of a read that could declare the peer dead (for scheduling a read then);
  // nullopt before the first observation or once the peer is DEAD or DOWN.
  std::optional<TimePoint> dead_deadline() const {
    if (!value_ || view_ == PeerView::dead || view_ == PeerView::down) return std::nullopt;
    return first_seen_ + dead_time_;
  }
  bool seen_change() const { return seen_change_; }
  // Issue time of the latest successful read of the peer's block: every such read either changed the view
  // or confirmed it, so while the view is DEAD this is how recently the verdict was re-confirmed.
  TimePoint last_read_issued() const { return last_read_issued_; }

 private:
  struct Value {
    bool valid = false;
    uint64_t incarnation = 0, seq = 0;
    uint32_t raw_hash = 0;
    friend bool operator==(const Value&, const Value&) = default;
  };
  std::optional<PeerTransition> move_to(PeerView to, std::string reason);

  Duration dead_time_;
  PeerView view_ = PeerView::unknown;
  std::optional<Value> value_;
  std::optional<HeartbeatRecord> record_;
  TimePoint first_seen_;
  TimePoint last_read_issued_{};
  bool seen_change_ = false;
  uint64_t retired_incarnation_ = 0;  // the incarnation before the current one: its late writes are stale
};

}  // namespace castor
