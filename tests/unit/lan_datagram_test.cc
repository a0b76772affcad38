// The LAN heartbeat datagram (lib/lan/lan_datagram.h, issue 15): every field round-trips at the offsets
// docs/lan-protocol.md gives; every single-byte change of a sealed datagram is refused (bad_tag or earlier);
// another key's datagram is bad_tag; sizes other than 256 are truncated/oversized; another cluster, sender or
// link is refused by name; an authenticated datagram with a field out of range or a reserved byte set is
// malformed; and encode refuses what decode would refuse.
#include <doctest/doctest.h>

#include <sodium.h>

#include <array>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "common/auth_key.h"
#include "common/byte_codec.h"
#include "lan/lan_datagram.h"

namespace castor {
namespace {

// A cluster key of 32 fixed bytes (seed picks which).
AuthKey fixed_key(uint8_t seed) {
  std::array<std::byte, 32> b;
  for (size_t i = 0; i < b.size(); ++i) b[i] = std::byte(uint8_t(seed + i * 7));
  return AuthKey(b);
}

LanSeal seal_of(uint8_t seed) {
  auto s = LanSeal::from_cluster_key(fixed_key(seed));
  REQUIRE(s.ok());
  return std::move(s).value();
}

Uuid cluster_of(uint8_t seed) {
  Uuid u;
  for (size_t i = 0; i < u.bytes.size(); ++i) u.bytes[i] = uint8_t(seed * 5 + i);
  return u;
}

// Every field set, each to a value no other field has.
LanDatagram sample() {
  LanDatagram d;
  d.cluster_uuid = cluster_of(1);
  d.sender_node = 2;
  d.link = 1;
  d.incarnation = 0x1122334455667788ull;
  d.seq = 0x0102030405060708ull;
  d.echo_incarnation = 0xA1A2A3A4A5A6A7A8ull;
  d.echo_seq = 0xB1B2B3B4B5B6B7B8ull;
  d.echo_hold_us = 0xC1C2C3C4u;
  d.disk_ok = true;
  d.disk_age_ms = 0xD1D2D3D4u;
  d.disk_seq = 0xE1E2E3E4E5E6E7E8ull;
  d.peer_view = 4;
  d.request_promise = true;
  d.grant_incarnation = 0xF1F2F3F4F5F6F7F8ull;
  d.grant_request_seq = 0x9192939495969798ull;
  d.grant_ms = 0x81828384u;
  return d;
}

using Bytes = std::array<std::byte, kLanDatagramSize>;

Bytes encode_ok(const LanDatagram& d, const LanSeal& s) {
  auto r = encode_lan_datagram(d, s);
  REQUIRE_MESSAGE(r.ok(), r.status().to_string());
  return *r;
}

LanDecodeResult decode(std::span<const std::byte> b, const LanSeal& s, uint32_t sender = 2, uint32_t link = 1) {
  return decode_lan_datagram(b, s, cluster_of(1), sender, link);
}

uint64_t le_at(const Bytes& b, size_t off, int n) {
  ByteReader r(std::span<const std::byte>(b).subspan(off, size_t(n)));
  return n == 1 ? r.u8() : n == 2 ? r.u16() : n == 4 ? r.u32() : r.u64();
}

}  // namespace

TEST_CASE("lan datagram: every field round-trips, at the offsets of docs/lan-protocol.md") {
  const LanSeal s = seal_of(1);
  const LanDatagram d = sample();
  const Bytes b = encode_ok(d, s);
  CHECK(b.size() == kLanDatagramSize);
  auto back = decode(b, s);
  REQUIRE(back.ok());
  CHECK(*back.datagram == d);

  // The layout, field by field (little-endian).
  CHECK(std::memcmp(b.data(), "CSTL", 4) == 0);
  CHECK(le_at(b, 4, 2) == 1);
  CHECK(le_at(b, 6, 2) == 3);  // disk_ok | request_promise
  CHECK(std::memcmp(b.data() + 8, d.cluster_uuid.bytes.data(), 16) == 0);
  CHECK(le_at(b, 24, 4) == d.sender_node);
  CHECK(le_at(b, 28, 4) == d.link);
  CHECK(le_at(b, 32, 8) == d.incarnation);
  CHECK(le_at(b, 40, 8) == d.seq);
  CHECK(le_at(b, 48, 8) == d.echo_incarnation);
  CHECK(le_at(b, 56, 8) == d.echo_seq);
  CHECK(le_at(b, 64, 4) == d.echo_hold_us);
  CHECK(le_at(b, 68, 4) == d.disk_age_ms);
  CHECK(le_at(b, 72, 8) == d.disk_seq);
  CHECK(le_at(b, 80, 1) == d.peer_view);
  CHECK(le_at(b, 81, 1) == 0);
  CHECK(le_at(b, 82, 2) == 0);
  CHECK(le_at(b, 84, 4) == d.grant_ms);
  CHECK(le_at(b, 88, 8) == d.grant_incarnation);
  CHECK(le_at(b, 96, 8) == d.grant_request_seq);
  for (size_t i = 104; i < kLanTagOffset; ++i) CHECK(b[i] == std::byte{0});
  bool tag_nonzero = false;
  for (size_t i = kLanTagOffset; i < kLanDatagramSize; ++i) tag_nonzero |= b[i] != std::byte{0};
  CHECK(tag_nonzero);

  // Each field alone, from a minimal datagram: a codec that dropped or swapped one would fail here.
  LanDatagram base;
  base.cluster_uuid = cluster_of(1);
  base.sender_node = 1;
  base.link = 2;
  base.incarnation = 1;
  base.seq = 1;
  std::vector<LanDatagram> variants;
  for (int f = 0; f < 9; ++f) {
    LanDatagram v = base;
    switch (f) {
      case 0: v.echo_incarnation = 7, v.echo_seq = 9, v.echo_hold_us = 1; break;
      case 1: v.disk_ok = true; break;
      case 2: v.disk_age_ms = 0xFFFFFFFFu; break;
      case 3: v.disk_seq = ~uint64_t{0}; break;
      case 4: v.peer_view = 3; break;
      case 5: v.request_promise = true; break;
      case 6: v.grant_incarnation = 5, v.grant_request_seq = 6, v.grant_ms = 0; break;
      case 7: v.grant_incarnation = 5, v.grant_request_seq = 6, v.grant_ms = 120000; break;
      case 8: v.incarnation = ~uint64_t{0}, v.seq = ~uint64_t{0}; break;
    }
    variants.push_back(v);
  }
  std::set<std::vector<std::byte>> distinct;
  for (const auto& v : variants) {
    const Bytes vb = encode_ok(v, s);
    distinct.insert(std::vector<std::byte>(vb.begin(), vb.end()));
    auto r = decode(vb, s, 1, 2);
    REQUIRE(r.ok());
    CHECK(*r.datagram == v);
    auto again = encode_ok(*r.datagram, s);
    CHECK(again == vb);  // what decodes re-encodes to the same bytes
  }
  CHECK(distinct.size() == variants.size());
}

TEST_CASE("lan datagram: every single-byte change is refused, as bad_tag or earlier") {
  const LanSeal s = seal_of(1);
  const Bytes good = encode_ok(sample(), s);
  REQUIRE(decode(good, s).ok());
  int refused = 0;
  for (size_t i = 0; i < kLanDatagramSize; ++i) {
    for (uint8_t mask : {uint8_t(0x01), uint8_t(0x80), uint8_t(0xFF)}) {
      Bytes b = good;
      b[i] ^= std::byte(mask);
      auto r = decode(b, s);
      REQUIRE_FALSE(r.ok());
      const LanRefusal want = i < 4 ? LanRefusal::bad_magic : i < 6 ? LanRefusal::bad_version : LanRefusal::bad_tag;
      CHECK_MESSAGE(r.why == want, "byte " << i << " mask " << int(mask) << ": " << lan_refusal_name(r.why));
      ++refused;
    }
  }
  CHECK(refused == 3 * int(kLanDatagramSize));
}

TEST_CASE("lan datagram: sealed with another key (or a moved-from seal) is bad_tag") {
  const LanSeal mine = seal_of(1);
  const LanSeal other = seal_of(2);
  const Bytes b = encode_ok(sample(), other);
  auto r = decode(b, mine);
  REQUIRE_FALSE(r.ok());
  CHECK(r.why == LanRefusal::bad_tag);
  CHECK(decode(b, other).ok());

  // The same cluster key gives the same seal; the subkey is the derived one, not the cluster key itself.
  CHECK(decode(encode_ok(sample(), seal_of(1)), mine).ok());
  const Bytes raw = encode_ok(sample(), mine);
  {
    // Tagged with the cluster key itself (a sender that forgot derive_subkey): refused.
    REQUIRE(crypto_ready().ok());
    const AuthKey key = fixed_key(1);
    REQUIRE(key.size() == crypto_auth_hmacsha256_KEYBYTES);
    Bytes forged = raw;
    unsigned char tag[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256(tag, reinterpret_cast<const unsigned char*>(forged.data()), kLanTagOffset,
                           key.bytes().data());
    std::memcpy(forged.data() + kLanTagOffset, tag, sizeof tag);
    auto f = decode(forged, mine);
    REQUIRE_FALSE(f.ok());
    CHECK(f.why == LanRefusal::bad_tag);
    // The same computation keyed with the derived subkey is exactly the seal's tag.
    auto sub = derive_subkey(key, kLanKeyLabel);
    REQUIRE(sub.ok());
    crypto_auth_hmacsha256(tag, reinterpret_cast<const unsigned char*>(forged.data()), kLanTagOffset,
                           sub->bytes().data());
    CHECK(std::memcmp(tag, raw.data() + kLanTagOffset, sizeof tag) == 0);
  }

  LanSeal moved = seal_of(1);
  LanSeal taker = std::move(moved);
  CHECK(taker.valid());
  CHECK_FALSE(moved.valid());  // NOLINT(bugprone-use-after-move): a moved-from seal holds no key
  auto d = decode(raw, moved);
  REQUIRE_FALSE(d.ok());
  CHECK(d.why == LanRefusal::bad_tag);
  auto e = encode_lan_datagram(sample(), moved);
  REQUIRE_FALSE(e.ok());
  CHECK(e.status().code() == Code::invalid_argument);
  CHECK(decode(raw, taker).ok());

  auto empty = LanSeal::from_cluster_key(AuthKey());
  CHECK_FALSE(empty.ok());
}

TEST_CASE("lan datagram: sizes other than 256 are truncated or oversized") {
  const LanSeal s = seal_of(1);
  const Bytes good = encode_ok(sample(), s);
  std::vector<std::byte> big(1500);
  std::memcpy(big.data(), good.data(), good.size());
  struct Case {
    size_t n;
    LanRefusal want;
  };
  for (Case c : {Case{0, LanRefusal::truncated}, Case{1, LanRefusal::truncated}, Case{255, LanRefusal::truncated},
                 Case{257, LanRefusal::oversized}, Case{1500, LanRefusal::oversized}}) {
    CAPTURE(c.n);
    auto r = decode(std::span<const std::byte>(big).first(c.n), s);
    REQUIRE_FALSE(r.ok());
    CHECK(r.why == c.want);
  }
  CHECK(decode(std::span<const std::byte>(big).first(256), s).ok());
}

TEST_CASE("lan datagram: another cluster, sender or link is refused by name, cluster first") {
  const LanSeal s = seal_of(1);
  const Bytes b = encode_ok(sample(), s);  // cluster 1, from node 2, on link 1
  auto r = decode_lan_datagram(b, s, cluster_of(9), 2, 1);
  CHECK((!r.ok() && r.why == LanRefusal::wrong_cluster));
  r = decode_lan_datagram(b, s, cluster_of(9), 1, 2);
  CHECK((!r.ok() && r.why == LanRefusal::wrong_cluster));
  r = decode(b, s, /*sender=*/1, /*link=*/1);  // my own datagram reflected back to me
  CHECK((!r.ok() && r.why == LanRefusal::wrong_sender));
  r = decode(b, s, 1, 2);
  CHECK((!r.ok() && r.why == LanRefusal::wrong_sender));
  // A datagram captured on link 1 and delivered on link 2: the link is under the tag.
  r = decode(b, s, 2, /*link=*/2);
  CHECK((!r.ok() && r.why == LanRefusal::wrong_link));
  CHECK(decode(b, s, 2, 1).ok());
}

TEST_CASE("lan datagram: authenticated but out of range or with a reserved byte set is malformed") {
  const LanSeal s = seal_of(1);
  const Bytes good = encode_ok(sample(), s);
  // Changes one field of the encoded bytes and reseals (a sender with the key that encodes wrongly).
  auto resealed = [&](size_t off, int n, uint64_t v) {
    Bytes b = good;
    ByteWriter w(std::span<std::byte>(b).subspan(off, size_t(n)));
    if (n == 1) w.u8(uint8_t(v));
    else if (n == 2) w.u16(uint16_t(v));
    else if (n == 4) w.u32(uint32_t(v));
    else w.u64(v);
    s.seal(b);
    return b;
  };
  struct Case {
    const char* what;
    size_t off;
    int n;
    uint64_t v;
    uint32_t sender, link;
  };
  const Case cases[] = {
      {"unknown flag bit", 6, 2, 0x0004, 2, 1},
      {"sender 0, expected 0", 24, 4, 0, 0, 1},
      {"sender 3, expected 3", 24, 4, 3, 3, 1},
      {"link 0, received on 0", 28, 4, 0, 2, 0},
      {"link 3, received on 3", 28, 4, 3, 2, 3},
      {"incarnation 0", 32, 8, 0, 2, 1},
      {"seq 0", 40, 8, 0, 2, 1},
      {"echo incarnation without echo seq", 56, 8, 0, 2, 1},
      {"echo seq without echo incarnation", 48, 8, 0, 2, 1},
      {"peer_view 5", 80, 1, 5, 2, 1},
      {"peer_view 255", 80, 1, 255, 2, 1},
      {"reserved byte 81", 81, 1, 1, 2, 1},
      {"reserved byte 83", 83, 1, 0x80, 2, 1},
      {"grant without request seq", 96, 8, 0, 2, 1},
      {"reserved byte 104", 104, 1, 1, 2, 1},
      {"reserved byte 223", 223, 1, 0x40, 2, 1},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    const Bytes b = resealed(c.off, c.n, c.v);
    auto r = decode(b, s, c.sender, c.link);
    REQUIRE_FALSE(r.ok());
    CHECK(r.why == LanRefusal::malformed);
  }
  // No grant, yet grant_request_seq or grant_ms set; no echo, yet a hold.
  LanDatagram d = sample();
  d.grant_incarnation = 0;
  d.grant_request_seq = 0;
  d.grant_ms = 0;
  d.echo_incarnation = 0;
  d.echo_seq = 0;
  d.echo_hold_us = 0;
  const Bytes plain = encode_ok(d, s);
  for (auto [off, n] : {std::pair<size_t, int>{96, 8}, {84, 4}, {64, 4}}) {
    CAPTURE(off);
    Bytes b = plain;
    ByteWriter w(std::span<std::byte>(b).subspan(off, size_t(n)));
    n == 8 ? w.u64(1) : w.u32(1);
    s.seal(b);
    auto r = decode(b, s);
    REQUIRE_FALSE(r.ok());
    CHECK(r.why == LanRefusal::malformed);
  }
  CHECK(decode(plain, s).ok());
}

TEST_CASE("lan datagram: encode refuses a field out of range, naming it") {
  const LanSeal s = seal_of(1);
  struct Case {
    const char* field;
    void (*set)(LanDatagram&);
  };
  const Case cases[] = {
      {"sender_node", [](LanDatagram& d) { d.sender_node = 0; }},
      {"sender_node", [](LanDatagram& d) { d.sender_node = 3; }},
      {"link", [](LanDatagram& d) { d.link = 0; }},
      {"link", [](LanDatagram& d) { d.link = 3; }},
      {"incarnation", [](LanDatagram& d) { d.incarnation = 0; }},
      {"seq", [](LanDatagram& d) { d.seq = 0; }},
      {"echo_incarnation/echo_seq", [](LanDatagram& d) { d.echo_seq = 0; }},
      {"echo_incarnation/echo_seq", [](LanDatagram& d) { d.echo_incarnation = 0; }},
      {"echo_hold_us", [](LanDatagram& d) { d.echo_incarnation = 0, d.echo_seq = 0; }},
      {"peer_view", [](LanDatagram& d) { d.peer_view = 5; }},
      {"grant_request_seq", [](LanDatagram& d) { d.grant_request_seq = 0; }},
      {"grant_request_seq/grant_ms", [](LanDatagram& d) { d.grant_incarnation = 0; }},
  };
  for (const Case& c : cases) {
    LanDatagram d = sample();
    c.set(d);
    auto r = encode_lan_datagram(d, s);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::invalid_argument);
    CHECK_MESSAGE(r.status().message().find(c.field) != std::string::npos, r.status().message());
  }
  CHECK(encode_lan_datagram(sample(), s).ok());
}

TEST_CASE("lan datagram: every refusal has its own name") {
  std::set<std::string> names;
  for (size_t i = 0; i < kLanRefusalCount; ++i) names.insert(lan_refusal_name(LanRefusal(i)));
  CHECK(names.size() == kLanRefusalCount);
  CHECK(std::string(lan_refusal_name(LanRefusal::stale_incarnation)) == "stale_incarnation");
  CHECK(std::string(lan_refusal_name(LanRefusal::truncated)) == "truncated");
  CHECK(names.count("unknown") == 0);
}

}  // namespace castor
