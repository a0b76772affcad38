// LanLinkView: one LAN link's view of the peer (issue 15) -- what this node has heard from its peer on one link:
// the replay filter (per peer incarnation, seq strictly increasing), which peer incarnation is current (a restart
// is adopted only with proof the new life heard this node's current life), when the link was last heard, the
// round-trip time from the echoes, the loss over the last 64 seqs, and the counts of every refusal.
// The rules are in docs/lan-protocol.md, "The per-link view".
//
// Pure: time is passed in (the caller's CLOCK_BOOTTIME TimePoint); no sockets, no clock reads, no I/O, no logs.
// Must never accept a datagram that did not decode (decode_lan_datagram) and never decide anything about
// ownership: it only says what was heard, when, and whether the peer hears this node.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/clock.h"
#include "lan/lan_datagram.h"

namespace castor {

class LanLinkView {
 public:
  static constexpr size_t kSendRing = 64;          // my sends remembered (seq -> send time)
  static constexpr size_t kRetiredIncarnations = 16;
  static constexpr size_t kLossWindow = 64;         // seqs of the current peer incarnation the loss is over

  // `up_window`: a link is up while a datagram was accepted within it (the coordinator passes 2T... any Duration).
  LanLinkView(uint32_t link, Duration up_window);

  // The coordinator calls this BEFORE sending each datagram on this link: my incarnation, the seq it carries, when.
  // Remembers the last 64 sends (seq -> send time) in a ring. A new incarnation empties the ring first.
  void sent(uint64_t my_incarnation, uint64_t seq, TimePoint now);
  // Send time of my datagram `seq` of my CURRENT incarnation on this link, if still in the ring (for a grant: the
  // promise is anchored at the send time of the request it answers). nullopt if unknown/too old/other incarnation.
  std::optional<TimePoint> send_time(uint64_t my_incarnation, uint64_t seq) const;

  // A datagram that decoded (decode_lan_datagram ok). Applies the replay filter and returns nullopt (accepted) or
  // the refusal (counted):
  //  - a datagram whose link is not this view's link is `wrong_link`;
  //  - per peer incarnation, a seq <= the highest accepted is `replayed` (a reordered datagram too);
  //  - the first incarnation ever seen is adopted; a datagram of ANOTHER incarnation is adopted (the peer restarted)
  //    only if it echoes my current incarnation with a seq that is in my ring of sends (it heard my current life
  //    recently); otherwise it is `stale_incarnation`. Once a new incarnation is adopted, the previous one is
  //    retired for good (the last 16 are remembered): its datagrams are `stale_incarnation` from then on.
  // On acceptance: last heard time = now, RTT from the echo (now - send_time(echo_seq) - echo_hold, at least 0;
  // only if the echo is of my current incarnation and in the ring; the latest and a smoothed value, 7/8 old +
  // 1/8 new), loss window update, keeps the datagram.
  std::optional<LanRefusal> accept(const LanDatagram& d, uint64_t my_incarnation, TimePoint now);
  // Counts a refusal from decode (truncated, bad_tag, ...) -- accept() counts its own.
  void refused(LanRefusal why);

  bool up(TimePoint now) const;                          // accepted within up_window: now - last_heard < up_window
  std::optional<Duration> age(TimePoint now) const;      // since the last accepted datagram (0 if now is earlier)
  std::optional<Duration> rtt() const;                   // latest RTT
  std::optional<Duration> smoothed_rtt() const;          // 7/8 previous + 1/8 latest
  // Over the last 64 seqs of the current peer incarnation, from its first accepted seq on (gaps in seq; a
  // reordered datagram counts as lost). 0 before anything was accepted. It says nothing about silence: a link
  // that went quiet keeps its last figure (up() and age() tell that).
  double loss_percent() const;
  // The last accepted datagram echoes my current incarnation with a seq in my ring, and is within up_window.
  bool peer_hears_me(uint64_t my_incarnation, TimePoint now) const;
  const std::optional<LanDatagram>& last() const { return last_; }  // the last accepted datagram
  std::optional<TimePoint> last_heard() const { return last_heard_; }
  // The peer incarnation currently adopted (0 = none yet).
  uint64_t peer_incarnation() const { return peer_incarnation_; }
  // What my next datagram on this link echoes: the last accepted datagram's incarnation/seq and hold = now - its
  // arrival (µs, saturating, 0 if now is earlier); 0/0/0 when nothing was accepted yet.
  void fill_echo(LanDatagram& out, TimePoint now) const;

  uint64_t accepted() const { return accepted_; }
  uint64_t refused_count(LanRefusal why) const;
  uint64_t refused_total() const;
  uint32_t link() const { return link_; }
  Duration up_window() const { return up_window_; }

 private:
  struct Send {
    uint64_t seq = 0;
    TimePoint at{};
  };
  std::optional<LanRefusal> refuse(LanRefusal why);
  void adopt(uint64_t incarnation);
  void remember_candidate(const LanDatagram& d, TimePoint now);
  bool retired(uint64_t incarnation) const;

  uint32_t link_;
  Duration up_window_;

  // My sends of my current incarnation: a ring of the last kSendRing (insertion order).
  uint64_t send_incarnation_ = 0;
  std::array<Send, kSendRing> sends_{};
  size_t send_next_ = 0;
  size_t send_count_ = 0;

  // The peer.
  uint64_t peer_incarnation_ = 0;  // 0: none adopted yet
  uint64_t highest_seq_ = 0;       // of peer_incarnation_
  uint64_t first_seq_ = 0;         // the first seq accepted of peer_incarnation_ (the loss window starts there)
  uint64_t received_bits_ = 0;     // bit i: seq highest_seq_ - i was accepted
  std::array<uint64_t, kRetiredIncarnations> retired_{};
  size_t retired_next_ = 0;

  std::optional<LanDatagram> last_;
  std::optional<TimePoint> last_heard_;
  // Authenticated datagrams of incarnations not (yet) adopted nor retired: a peer that restarted while this
  // view did not hear it. My echo names them in turn while they are newer than what I accepted, so that a
  // new life of the peer sees its own incarnation echoed, adopts mine, echoes it, and I adopt it: without
  // this, two nodes that both changed incarnation unheard waited for each other forever. Several are kept
  // (round robin) so that a replayed datagram of an older life cannot crowd the real one out.
  struct Candidate {
    uint64_t incarnation = 0, seq = 0;
    TimePoint heard{};
  };
  static constexpr size_t kCandidates = 4;
  std::vector<Candidate> candidates_;
  mutable size_t candidate_turn_ = 0;
  std::optional<Duration> rtt_;
  std::optional<Duration> srtt_;

  uint64_t accepted_ = 0;
  std::array<uint64_t, kLanRefusalCount> refused_{};
};

}  // namespace castor
