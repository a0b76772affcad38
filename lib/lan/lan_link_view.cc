#include "lan/lan_link_view.h"

#include <algorithm>
#include <bit>
#include <limits>

namespace castor {

LanLinkView::LanLinkView(uint32_t link, Duration up_window) : link_(link), up_window_(up_window) {}

void LanLinkView::sent(uint64_t my_incarnation, uint64_t seq, TimePoint now) {
  if (my_incarnation != send_incarnation_) {
    send_incarnation_ = my_incarnation;
    sends_.fill(Send{});
    send_next_ = 0;
    send_count_ = 0;
  }
  sends_[send_next_] = Send{seq, now};
  send_next_ = (send_next_ + 1) % kSendRing;
  send_count_ = std::min(send_count_ + 1, kSendRing);
}

std::optional<TimePoint> LanLinkView::send_time(uint64_t my_incarnation, uint64_t seq) const {
  if (my_incarnation == 0 || seq == 0 || my_incarnation != send_incarnation_) return std::nullopt;
  // Newest first: should a seq ever be sent twice, the latest send counts.
  for (size_t i = 0; i < send_count_; ++i) {
    const Send& s = sends_[(send_next_ + kSendRing - 1 - i) % kSendRing];
    if (s.seq == seq) return s.at;
  }
  return std::nullopt;
}

std::optional<LanRefusal> LanLinkView::refuse(LanRefusal why) {
  refused(why);
  return why;
}

void LanLinkView::refused(LanRefusal why) {
  const size_t i = size_t(why);
  if (i < refused_.size()) ++refused_[i];
}

bool LanLinkView::retired(uint64_t incarnation) const {
  if (incarnation == 0) return false;
  return std::find(retired_.begin(), retired_.end(), incarnation) != retired_.end();
}

void LanLinkView::remember_candidate(const LanDatagram& d, TimePoint now) {
  for (auto& c : candidates_)
    if (c.incarnation == d.incarnation) {
      if (d.seq > c.seq) c = {d.incarnation, d.seq, now};
      return;
    }
  if (candidates_.size() >= kCandidates) {
    auto oldest = std::min_element(candidates_.begin(), candidates_.end(),
                                   [](const Candidate& a, const Candidate& b) { return a.heard < b.heard; });
    candidates_.erase(oldest);
  }
  candidates_.push_back({d.incarnation, d.seq, now});
}

void LanLinkView::adopt(uint64_t incarnation) {
  std::erase_if(candidates_, [&](const Candidate& c) { return c.incarnation == incarnation; });
  if (peer_incarnation_ != 0) {
    retired_[retired_next_] = peer_incarnation_;
    retired_next_ = (retired_next_ + 1) % kRetiredIncarnations;
  }
  peer_incarnation_ = incarnation;
  highest_seq_ = 0;
  first_seq_ = 0;
  received_bits_ = 0;
}

std::optional<LanRefusal> LanLinkView::accept(const LanDatagram& d, uint64_t my_incarnation, TimePoint now) {
  if (d.link != link_) return refuse(LanRefusal::wrong_link);
  if (d.incarnation == 0 || d.seq == 0) return refuse(LanRefusal::malformed);  // decode refuses these already
  if (retired(d.incarnation)) return refuse(LanRefusal::stale_incarnation);

  bool adopting = false;
  if (peer_incarnation_ == 0) {
    adopting = true;  // the first incarnation ever seen
  } else if (d.incarnation != peer_incarnation_) {
    // The peer restarted -- or an old life's datagram is replayed. Only a datagram that heard my current life
    // recently (its echo is in my ring) can be the new life.
    if (d.echo_incarnation != my_incarnation || !send_time(my_incarnation, d.echo_seq)) {
      remember_candidate(d, now);
      return refuse(LanRefusal::stale_incarnation);
    }
    adopting = true;
  } else if (d.seq <= highest_seq_) {
    return refuse(LanRefusal::replayed);
  }
  if (adopting) adopt(d.incarnation);

  // Loss window: bit i = seq (highest - i) accepted.
  if (first_seq_ == 0) {
    first_seq_ = d.seq;
    received_bits_ = 1;
  } else {
    const uint64_t shift = d.seq - highest_seq_;  // > 0: seq > highest here
    received_bits_ = shift >= 64 ? 1 : (received_bits_ << shift) | 1;
  }
  highest_seq_ = d.seq;

  // RTT: my datagram echo_seq left at send_time; the peer held it echo_hold_us before answering.
  if (d.echo_incarnation == my_incarnation && d.echo_seq != 0) {
    if (auto sent_at = send_time(my_incarnation, d.echo_seq)) {
      Duration r = (now - *sent_at) - std::chrono::microseconds(d.echo_hold_us);
      if (r < Duration::zero()) r = Duration::zero();
      rtt_ = r;
      srtt_ = srtt_ ? (*srtt_ * 7 + r) / 8 : r;
    }
  }

  last_ = d;
  last_heard_ = now;
  ++accepted_;
  return std::nullopt;
}

bool LanLinkView::up(TimePoint now) const {
  if (!last_heard_) return false;
  return now - *last_heard_ < up_window_;
}

std::optional<Duration> LanLinkView::age(TimePoint now) const {
  if (!last_heard_) return std::nullopt;
  return std::max(Duration::zero(), now - *last_heard_);
}

std::optional<Duration> LanLinkView::rtt() const { return rtt_; }

std::optional<Duration> LanLinkView::smoothed_rtt() const { return srtt_; }

double LanLinkView::loss_percent() const {
  if (first_seq_ == 0) return 0.0;
  const uint64_t span = std::min<uint64_t>(kLossWindow, highest_seq_ - first_seq_ + 1);
  const uint64_t mask = span >= 64 ? ~uint64_t{0} : (uint64_t{1} << span) - 1;
  const uint64_t got = uint64_t(std::popcount(received_bits_ & mask));
  return double(span - got) * 100.0 / double(span);
}

bool LanLinkView::peer_hears_me(uint64_t my_incarnation, TimePoint now) const {
  if (!last_ || !up(now)) return false;
  return last_->echo_incarnation == my_incarnation && send_time(my_incarnation, last_->echo_seq).has_value();
}

void LanLinkView::fill_echo(LanDatagram& out, TimePoint now) const {
  // A peer life I have not adopted spoke after the one I follow: echo the candidates in turn (see the header).
  std::vector<const Candidate*> newer;
  for (const auto& c : candidates_)
    if (!retired(c.incarnation) && (!last_heard_ || c.heard > *last_heard_)) newer.push_back(&c);
  if (!newer.empty()) {
    const Candidate& c = *newer[candidate_turn_++ % newer.size()];
    out.echo_incarnation = c.incarnation;
    out.echo_seq = c.seq;
    const int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(now - c.heard).count();
    out.echo_hold_us = us <= 0 ? 0 : us >= int64_t(std::numeric_limits<uint32_t>::max()) ? std::numeric_limits<uint32_t>::max()
                                                                                         : uint32_t(us);
    return;
  }
  if (!last_ || !last_heard_) {
    out.echo_incarnation = 0;
    out.echo_seq = 0;
    out.echo_hold_us = 0;
    return;
  }
  out.echo_incarnation = last_->incarnation;
  out.echo_seq = last_->seq;
  const int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(now - *last_heard_).count();
  out.echo_hold_us = us <= 0 ? 0 : us >= int64_t(std::numeric_limits<uint32_t>::max()) ? std::numeric_limits<uint32_t>::max()
                                                                                       : uint32_t(us);
}

uint64_t LanLinkView::refused_count(LanRefusal why) const {
  const size_t i = size_t(why);
  return i < refused_.size() ? refused_[i] : 0;
}

uint64_t LanLinkView::refused_total() const {
  uint64_t n = 0;
  for (uint64_t c : refused_) n += c;
  return n;
}

}  // namespace castor
