// LanLinkView (lib/lan/lan_link_view.h, issue 15), on scripted schedules with time passed in: the send ring,
// the replay filter (replayed, stale_incarnation after a restart, a restart adopted only with a good echo,
// retired incarnations for good), RTT from the echoes, loss from the gaps in seq, the up/age windows, whether
// the peer hears me, the echo to send, and the counts of every refusal; then two nodes' views exchanging real
// sealed datagrams through encode/decode.
#include <doctest/doctest.h>

#include <array>
#include <vector>

#include "common/auth_key.h"
#include "lan/lan_datagram.h"
#include "lan/lan_link_view.h"

namespace castor {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

const Duration kUp = milliseconds(400);
const uint64_t kMe = 0xAAAA0001;     // my incarnation
const uint64_t kPeerA = 0xBBBB0001;  // the peer's incarnations
const uint64_t kPeerB = 0xBBBB0002;

TimePoint at_ms(int64_t ms) { return TimePoint(milliseconds(1'000'000 + ms)); }

// A decoded datagram from the peer (node 2) on `link`.
LanDatagram from_peer(uint64_t inc, uint64_t seq, uint64_t echo_inc = 0, uint64_t echo_seq = 0, uint32_t hold_us = 0,
                      uint32_t link = 1) {
  LanDatagram d;
  d.sender_node = 2;
  d.link = link;
  d.incarnation = inc;
  d.seq = seq;
  d.echo_incarnation = echo_inc;
  d.echo_seq = echo_seq;
  d.echo_hold_us = hold_us;
  return d;
}

}  // namespace

TEST_CASE("lan link view: the send ring keeps the last 64 sends of my current incarnation") {
  LanLinkView v(1, kUp);
  CHECK(v.link() == 1);
  CHECK_FALSE(v.send_time(kMe, 1));
  for (uint64_t s = 1; s <= 70; ++s) v.sent(kMe, s, at_ms(int64_t(s) * 10));
  CHECK_FALSE(v.send_time(kMe, 6));  // 70 - 64 = 6 fell out
  REQUIRE(v.send_time(kMe, 7));
  CHECK(*v.send_time(kMe, 7) == at_ms(70));
  CHECK(*v.send_time(kMe, 70) == at_ms(700));
  CHECK_FALSE(v.send_time(kMe, 71));
  CHECK_FALSE(v.send_time(kMe + 1, 70));  // another incarnation of mine
  CHECK_FALSE(v.send_time(kMe, 0));
  // A new incarnation of mine (the view kept across a restart): the old life's sends are forgotten.
  v.sent(kMe + 1, 1, at_ms(800));
  CHECK_FALSE(v.send_time(kMe, 70));
  CHECK(*v.send_time(kMe + 1, 1) == at_ms(800));
}

TEST_CASE("lan link view: a replay of an accepted datagram, or an older seq, is replayed and counted") {
  LanLinkView v(1, kUp);
  CHECK_FALSE(v.accept(from_peer(kPeerA, 5), kMe, at_ms(0)));
  CHECK(v.peer_incarnation() == kPeerA);
  CHECK(v.accept(from_peer(kPeerA, 5), kMe, at_ms(10)) == LanRefusal::replayed);
  CHECK(v.accept(from_peer(kPeerA, 4), kMe, at_ms(20)) == LanRefusal::replayed);
  CHECK_FALSE(v.accept(from_peer(kPeerA, 6), kMe, at_ms(30)));
  CHECK(v.accept(from_peer(kPeerA, 6), kMe, at_ms(40)) == LanRefusal::replayed);
  CHECK(v.accepted() == 2);
  CHECK(v.refused_count(LanRefusal::replayed) == 3);
  CHECK(v.refused_total() == 3);
  // A refused datagram changes nothing: last heard and last datagram are the accepted one's.
  CHECK(*v.last_heard() == at_ms(30));
  CHECK(v.last()->seq == 6);
}

TEST_CASE("lan link view: a datagram of another link is wrong_link") {
  LanLinkView v(2, kUp);
  CHECK(v.accept(from_peer(kPeerA, 1, 0, 0, 0, /*link=*/1), kMe, at_ms(0)) == LanRefusal::wrong_link);
  CHECK(v.refused_count(LanRefusal::wrong_link) == 1);
  CHECK(v.accepted() == 0);
  CHECK_FALSE(v.accept(from_peer(kPeerA, 1, 0, 0, 0, 2), kMe, at_ms(0)));
}

TEST_CASE("lan link view: a new incarnation is adopted only with a good echo; the old one is stale for good") {
  LanLinkView v(1, kUp);
  for (uint64_t s = 1; s <= 10; ++s) v.sent(kMe, s, at_ms(int64_t(s) * 100));
  CHECK_FALSE(v.accept(from_peer(kPeerA, 100), kMe, at_ms(1000)));  // the first ever seen: adopted
  CHECK(v.peer_incarnation() == kPeerA);

  // The peer restarted as B. Its first datagram heard nothing of mine yet: refused.
  CHECK(v.accept(from_peer(kPeerB, 1), kMe, at_ms(1010)) == LanRefusal::stale_incarnation);
  // It echoes an incarnation of mine that is not my current one: refused.
  CHECK(v.accept(from_peer(kPeerB, 2, kMe - 1, 10), kMe, at_ms(1020)) == LanRefusal::stale_incarnation);
  // It echoes my current incarnation but a seq I never sent: refused.
  CHECK(v.accept(from_peer(kPeerB, 3, kMe, 11), kMe, at_ms(1030)) == LanRefusal::stale_incarnation);
  CHECK(v.peer_incarnation() == kPeerA);
  CHECK(v.refused_count(LanRefusal::stale_incarnation) == 3);
  // A still delivers meanwhile.
  CHECK_FALSE(v.accept(from_peer(kPeerA, 101), kMe, at_ms(1040)));

  // It echoes my seq 10 of my current incarnation: adopted. A is retired.
  CHECK_FALSE(v.accept(from_peer(kPeerB, 4, kMe, 10), kMe, at_ms(1050)));
  CHECK(v.peer_incarnation() == kPeerB);
  CHECK(v.last()->incarnation == kPeerB);
  // A's datagrams, even with new seqs and a good echo (a replay of an old life), are stale from now on.
  CHECK(v.accept(from_peer(kPeerA, 102), kMe, at_ms(1060)) == LanRefusal::stale_incarnation);
  CHECK(v.accept(from_peer(kPeerA, 500, kMe, 10), kMe, at_ms(1070)) == LanRefusal::stale_incarnation);
  CHECK(v.refused_count(LanRefusal::stale_incarnation) == 5);
  // B continues normally; its seq is filtered on its own.
  CHECK_FALSE(v.accept(from_peer(kPeerB, 5), kMe, at_ms(1080)));
  CHECK(v.accept(from_peer(kPeerB, 4), kMe, at_ms(1090)) == LanRefusal::replayed);
  CHECK(v.accepted() == 4);
}

TEST_CASE("lan link view: an echo that fell out of my ring of sends does not adopt a new incarnation") {
  LanLinkView v(1, kUp);
  for (uint64_t s = 1; s <= 100; ++s) v.sent(kMe, s, at_ms(int64_t(s)));
  CHECK_FALSE(v.accept(from_peer(kPeerA, 1), kMe, at_ms(200)));
  CHECK(v.accept(from_peer(kPeerB, 1, kMe, 36), kMe, at_ms(210)) == LanRefusal::stale_incarnation);  // 100-64 = 36: gone
  CHECK_FALSE(v.accept(from_peer(kPeerB, 2, kMe, 37), kMe, at_ms(220)));
  CHECK(v.peer_incarnation() == kPeerB);
}

TEST_CASE("lan link view: the last 16 retired incarnations stay stale") {
  LanLinkView v(1, kUp);
  v.sent(kMe, 1, at_ms(0));
  std::vector<uint64_t> lives;
  for (uint64_t i = 0; i < 17; ++i) {
    const uint64_t inc = 0xC0000000 + i;
    lives.push_back(inc);
    CHECK_FALSE(v.accept(from_peer(inc, 1, kMe, 1), kMe, at_ms(int64_t(i) + 1)));
    CHECK(v.peer_incarnation() == inc);
  }
  // 16 retired (lives[0..15]) and lives[16] current: each retired one is refused even with a good echo.
  for (size_t i = 0; i < 16; ++i) {
    CAPTURE(i);
    CHECK(v.accept(from_peer(lives[i], 99, kMe, 1), kMe, at_ms(100)) == LanRefusal::stale_incarnation);
  }
  CHECK(v.peer_incarnation() == lives[16]);
  CHECK(v.refused_count(LanRefusal::stale_incarnation) == 16);
}

TEST_CASE("lan link view: RTT from the echo, less the peer's hold; latest and smoothed") {
  LanLinkView v(1, kUp);
  v.sent(kMe, 1, at_ms(0));
  v.sent(kMe, 2, at_ms(100));
  CHECK_FALSE(v.rtt());
  // No echo: no RTT.
  CHECK_FALSE(v.accept(from_peer(kPeerA, 1), kMe, at_ms(5)));
  CHECK_FALSE(v.rtt());
  // Echo of my seq 1 (sent at 0), held 10 ms by the peer, arrives at 30 ms: RTT 20 ms.
  CHECK_FALSE(v.accept(from_peer(kPeerA, 2, kMe, 1, 10'000), kMe, at_ms(30)));
  REQUIRE(v.rtt());
  CHECK(*v.rtt() == milliseconds(20));
  CHECK(*v.smoothed_rtt() == milliseconds(20));
  // Echo of seq 2 (sent at 100), held 2 ms, arrives at 130: RTT 28 ms; smoothed 20 + (28 - 20) / 8 = 21.
  CHECK_FALSE(v.accept(from_peer(kPeerA, 3, kMe, 2, 2'000), kMe, at_ms(130)));
  CHECK(*v.rtt() == milliseconds(28));
  CHECK(*v.smoothed_rtt() == milliseconds(21));
  // An echo of another incarnation of mine, or of a seq I never sent: the RTT stays.
  CHECK_FALSE(v.accept(from_peer(kPeerA, 4, kMe - 1, 2, 0), kMe, at_ms(500)));
  CHECK_FALSE(v.accept(from_peer(kPeerA, 5, kMe, 77, 0), kMe, at_ms(600)));
  CHECK(*v.rtt() == milliseconds(28));
  // A hold longer than the time since my send (a lying or confused peer): 0, never negative.
  v.sent(kMe, 3, at_ms(700));
  CHECK_FALSE(v.accept(from_peer(kPeerA, 6, kMe, 3, 50'000), kMe, at_ms(710)));
  CHECK(*v.rtt() == Duration::zero());
  // Microsecond precision.
  v.sent(kMe, 4, at_ms(800));
  CHECK_FALSE(v.accept(from_peer(kPeerA, 7, kMe, 4, 250), kMe, at_ms(801)));
  CHECK(*v.rtt() == microseconds(750));
}

TEST_CASE("lan link view: loss over the last 64 seqs of the current peer incarnation") {
  LanLinkView v(1, kUp);
  CHECK(v.loss_percent() == 0.0);
  // Seqs 1..10 without 3 and 7: 2 lost of 10.
  for (uint64_t s = 1; s <= 10; ++s)
    if (s != 3 && s != 7) CHECK_FALSE(v.accept(from_peer(kPeerA, s), kMe, at_ms(int64_t(s) * 100)));
  CHECK(v.loss_percent() == doctest::Approx(20.0));
  // Up to 64 with nothing else lost: 2 of 64.
  for (uint64_t s = 11; s <= 64; ++s) CHECK_FALSE(v.accept(from_peer(kPeerA, s), kMe, at_ms(int64_t(s) * 100)));
  CHECK(v.loss_percent() == doctest::Approx(2.0 * 100 / 64));
  // 65 and 66: seq 1 and 2 leave the window, 3 is still in: 2 lost (3 and 7) of 64.
  CHECK_FALSE(v.accept(from_peer(kPeerA, 65), kMe, at_ms(6500)));
  CHECK_FALSE(v.accept(from_peer(kPeerA, 66), kMe, at_ms(6600)));
  CHECK(v.loss_percent() == doctest::Approx(2.0 * 100 / 64));
  // 67: 3 leaves: 1 lost (7).
  CHECK_FALSE(v.accept(from_peer(kPeerA, 67), kMe, at_ms(6700)));
  CHECK(v.loss_percent() == doctest::Approx(1.0 * 100 / 64));
  // A jump to 167: of 104..167 only 167 was heard.
  CHECK_FALSE(v.accept(from_peer(kPeerA, 167), kMe, at_ms(16700)));
  CHECK(v.loss_percent() == doctest::Approx(63.0 * 100 / 64));
  // A reordered (late) datagram is refused as replayed, so it stays lost.
  CHECK(v.accept(from_peer(kPeerA, 166), kMe, at_ms(16710)) == LanRefusal::replayed);
  CHECK(v.loss_percent() == doctest::Approx(63.0 * 100 / 64));

  // A new peer incarnation starts its own window from its first seq.
  v.sent(kMe, 1, at_ms(16800));
  CHECK_FALSE(v.accept(from_peer(kPeerB, 1, kMe, 1), kMe, at_ms(16810)));
  CHECK(v.loss_percent() == 0.0);
  CHECK_FALSE(v.accept(from_peer(kPeerB, 3), kMe, at_ms(16820)));
  CHECK(v.loss_percent() == doctest::Approx(100.0 / 3));
  // A window that starts late (first heard seq 1000) does not count 1..999 as lost.
  LanLinkView w(1, kUp);
  CHECK_FALSE(w.accept(from_peer(kPeerA, 1000), kMe, at_ms(0)));
  CHECK(w.loss_percent() == 0.0);
  CHECK_FALSE(w.accept(from_peer(kPeerA, 1002), kMe, at_ms(0)));
  CHECK(w.loss_percent() == doctest::Approx(100.0 / 3));
}

TEST_CASE("lan link view: up within up_window, age since the last accepted datagram") {
  LanLinkView v(1, kUp);
  CHECK_FALSE(v.up(at_ms(0)));
  CHECK_FALSE(v.age(at_ms(0)));
  CHECK_FALSE(v.last_heard());
  CHECK_FALSE(v.last());
  CHECK_FALSE(v.accept(from_peer(kPeerA, 1), kMe, at_ms(1000)));
  CHECK(v.up(at_ms(1000)));
  CHECK(v.up(at_ms(1399)));
  CHECK(v.up(at_ms(1000) + kUp - Duration(1)));
  CHECK_FALSE(v.up(at_ms(1000) + kUp));
  CHECK_FALSE(v.up(at_ms(5000)));
  CHECK(*v.age(at_ms(1250)) == milliseconds(250));
  CHECK(*v.age(at_ms(900)) == Duration::zero());  // a time before the arrival: never negative
  // A refused datagram does not keep the link up.
  CHECK(v.accept(from_peer(kPeerA, 1), kMe, at_ms(1390)) == LanRefusal::replayed);
  CHECK_FALSE(v.up(at_ms(1400)));
  CHECK(*v.age(at_ms(1400)) == milliseconds(400));
  // A fresh one does.
  CHECK_FALSE(v.accept(from_peer(kPeerA, 2), kMe, at_ms(2000)));
  CHECK(v.up(at_ms(2399)));
  CHECK(*v.last_heard() == at_ms(2000));
}

TEST_CASE("lan link view: the peer hears me while its last datagram echoes my current life, recently") {
  LanLinkView v(1, kUp);
  v.sent(kMe, 1, at_ms(0));
  CHECK_FALSE(v.peer_hears_me(kMe, at_ms(0)));
  CHECK_FALSE(v.accept(from_peer(kPeerA, 1), kMe, at_ms(10)));  // no echo
  CHECK_FALSE(v.peer_hears_me(kMe, at_ms(10)));
  CHECK_FALSE(v.accept(from_peer(kPeerA, 2, kMe, 1, 5'000), kMe, at_ms(20)));
  CHECK(v.peer_hears_me(kMe, at_ms(20)));
  CHECK(v.peer_hears_me(kMe, at_ms(20) + kUp - Duration(1)));
  CHECK_FALSE(v.peer_hears_me(kMe, at_ms(20) + kUp));   // not recent
  CHECK_FALSE(v.peer_hears_me(kMe + 1, at_ms(20)));     // not my current incarnation
  // The peer keeps echoing seq 1 while I send 64 more: my seq 1 leaves the ring, so the peer no longer hears me.
  for (uint64_t s = 2; s <= 65; ++s) v.sent(kMe, s, at_ms(20 + int64_t(s)));
  CHECK_FALSE(v.accept(from_peer(kPeerA, 3, kMe, 1, 80'000), kMe, at_ms(100)));
  CHECK_FALSE(v.peer_hears_me(kMe, at_ms(100)));
  CHECK_FALSE(v.accept(from_peer(kPeerA, 4, kMe, 65, 0), kMe, at_ms(110)));
  CHECK(v.peer_hears_me(kMe, at_ms(110)));
  // The last accepted datagram counts, not an earlier one: an echo-less one ends it.
  CHECK_FALSE(v.accept(from_peer(kPeerA, 5), kMe, at_ms(120)));
  CHECK_FALSE(v.peer_hears_me(kMe, at_ms(120)));
}

TEST_CASE("lan link view: the echo to send: the last accepted datagram and how long it was held") {
  LanLinkView v(1, kUp);
  LanDatagram out;
  out.echo_incarnation = 9;
  out.echo_seq = 9;
  out.echo_hold_us = 9;
  v.fill_echo(out, at_ms(0));
  CHECK(out.echo_incarnation == 0);
  CHECK(out.echo_seq == 0);
  CHECK(out.echo_hold_us == 0);
  CHECK_FALSE(v.accept(from_peer(kPeerA, 41), kMe, at_ms(1000)));
  CHECK(v.accept(from_peer(kPeerA, 41), kMe, at_ms(1001)) == LanRefusal::replayed);  // not what is echoed
  v.fill_echo(out, at_ms(1000) + microseconds(1234));
  CHECK(out.echo_incarnation == kPeerA);
  CHECK(out.echo_seq == 41);
  CHECK(out.echo_hold_us == 1234);
  v.fill_echo(out, at_ms(999));
  CHECK(out.echo_hold_us == 0);
  v.fill_echo(out, at_ms(1000) + std::chrono::hours(2));  // 7.2e9 µs: saturates
  CHECK(out.echo_hold_us == 0xFFFFFFFFu);
}

TEST_CASE("lan link view: refusals from decode are counted per reason") {
  LanLinkView v(1, kUp);
  for (size_t i = 0; i < kLanRefusalCount; ++i)
    for (size_t n = 0; n <= i; ++n) v.refused(LanRefusal(i));
  for (size_t i = 0; i < kLanRefusalCount; ++i) CHECK(v.refused_count(LanRefusal(i)) == i + 1);
  CHECK(v.refused_total() == kLanRefusalCount * (kLanRefusalCount + 1) / 2);
  CHECK(v.accepted() == 0);
  CHECK_FALSE(v.up(at_ms(0)));
}

TEST_CASE("lan link view: two nodes exchange sealed datagrams; forgeries and replays are counted, none accepted") {
  std::array<std::byte, 32> kb;
  for (size_t i = 0; i < kb.size(); ++i) kb[i] = std::byte(uint8_t(0x40 + i));
  auto seal_r = LanSeal::from_cluster_key(AuthKey(kb));
  REQUIRE(seal_r.ok());
  const LanSeal& seal = *seal_r;
  Uuid cluster;
  cluster.bytes[0] = 0x5A;
  const uint64_t inc1 = 111, inc2 = 222;
  LanLinkView n1(1, kUp), n2(1, kUp);  // node 1's and node 2's view of link 1
  uint64_t seq1 = 0, seq2 = 0;
  TimePoint t1 = at_ms(0), t2 = at_ms(50'000);  // the nodes' timelines are unrelated

  // One datagram from `me` to the peer: fill, record the send, encode.
  auto make = [&](LanLinkView& v, uint32_t node, uint64_t inc, uint64_t& seq, TimePoint now) {
    LanDatagram d;
    d.cluster_uuid = cluster;
    d.sender_node = node;
    d.link = 1;
    d.incarnation = inc;
    d.seq = ++seq;
    d.disk_ok = true;
    v.fill_echo(d, now);
    v.sent(inc, d.seq, now);
    auto b = encode_lan_datagram(d, seal);
    REQUIRE(b.ok());
    return *b;
  };
  auto deliver = [&](LanLinkView& v, std::span<const std::byte> b, uint32_t from, uint64_t my_inc, TimePoint now) {
    auto r = decode_lan_datagram(b, seal, cluster, from, 1);
    if (!r.ok()) {
      v.refused(r.why);
      return std::optional<LanRefusal>(r.why);
    }
    return v.accept(*r.datagram, my_inc, now);
  };

  std::vector<std::array<std::byte, kLanDatagramSize>> captured;
  // 20 rounds: 1 sends, 3 ms later 2 receives; 2 answers 1 ms later; 3 ms later 1 receives. RTT = 6 ms.
  for (int round = 0; round < 20; ++round) {
    auto a = make(n1, 1, inc1, seq1, t1);
    captured.push_back(a);
    t1 += milliseconds(3), t2 += milliseconds(3);
    CHECK_FALSE(deliver(n2, a, 1, inc2, t2));
    t1 += milliseconds(1), t2 += milliseconds(1);
    auto b = make(n2, 2, inc2, seq2, t2);
    t1 += milliseconds(3), t2 += milliseconds(3);
    CHECK_FALSE(deliver(n1, b, 2, inc1, t1));
    t1 += milliseconds(93), t2 += milliseconds(93);
  }
  REQUIRE(n1.rtt());
  CHECK(*n1.rtt() == milliseconds(6));  // 7 ms from send to answer, less the 1 ms node 2 held it
  CHECK(*n2.rtt() == milliseconds(6));  // 3 + 93 + 3 = 99 ms from send to answer, less the 93 ms node 1 held it
  CHECK(n1.peer_hears_me(inc1, t1));
  CHECK(n2.peer_hears_me(inc2, t2));
  CHECK(n1.loss_percent() == 0.0);
  CHECK(n1.up(t1));
  CHECK(n1.accepted() == 20);

  // Replays of captured datagrams, a forgery, a truncated and an oversized one: counted, none accepted.
  for (const auto& c : captured) CHECK(deliver(n2, c, 1, inc2, t2) == LanRefusal::replayed);
  auto forged = captured.back();
  forged[40] ^= std::byte{0x7F};  // seq byte: a "new" seq without the key
  CHECK(deliver(n2, forged, 1, inc2, t2) == LanRefusal::bad_tag);
  CHECK(deliver(n2, std::span<const std::byte>(captured[0]).first(200), 1, inc2, t2) == LanRefusal::truncated);
  std::vector<std::byte> big(captured[0].begin(), captured[0].end());
  big.push_back(std::byte{0});
  CHECK(deliver(n2, big, 1, inc2, t2) == LanRefusal::oversized);
  CHECK(n2.accepted() == 20);
  CHECK(n2.refused_count(LanRefusal::replayed) == 20);
  CHECK(n2.refused_count(LanRefusal::bad_tag) == 1);
  CHECK(n2.refused_count(LanRefusal::truncated) == 1);
  CHECK(n2.refused_count(LanRefusal::oversized) == 1);
  CHECK(n2.refused_total() == 23);
}

}  // namespace castor
