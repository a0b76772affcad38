#include "lan/lan_datagram.h"

#include <sodium.h>

#include <cstring>
#include <string>

#include "common/byte_codec.h"

namespace castor {
namespace {

// Offsets: docs/lan-protocol.md, "Layout".
constexpr uint32_t kMagic = 0x4C545343;  // "CSTL" little-endian
constexpr size_t kFlagsOffset = 6;
constexpr size_t kPeerViewOffset = 80;
constexpr size_t kGrantMsOffset = 84;
constexpr size_t kFieldsEnd = 104;  // reserved (zero) from here up to the tag
constexpr uint16_t kFlagDiskOk = 1u << 0;
constexpr uint16_t kFlagRequestPromise = 1u << 1;
constexpr uint16_t kKnownFlags = kFlagDiskOk | kFlagRequestPromise;

static_assert(kLanTagOffset + kLanTagSize == kLanDatagramSize);
static_assert(kLanTagSize == crypto_auth_hmacsha256_BYTES);
static_assert(kSubkeyBytes == crypto_auth_hmacsha256_KEYBYTES);

// The range rules shared by encode (refuses to send) and decode (malformed): nullptr when all hold, else
// the name of the first field out of range.
const char* out_of_range_field(const LanDatagram& d) {
  if (d.sender_node != 1 && d.sender_node != 2) return "sender_node (must be 1 or 2)";
  if (d.link != 1 && d.link != 2) return "link (must be 1 or 2)";
  if (d.incarnation == 0) return "incarnation (must not be 0)";
  if (d.seq == 0) return "seq (starts at 1)";
  if ((d.echo_incarnation == 0) != (d.echo_seq == 0)) return "echo_incarnation/echo_seq (both 0 or both non-zero)";
  if (d.echo_incarnation == 0 && d.echo_hold_us != 0) return "echo_hold_us (must be 0 without an echo)";
  if (d.peer_view > kLanMaxPeerView) return "peer_view (0..4)";
  if (d.grant_incarnation != 0 && d.grant_request_seq == 0) return "grant_request_seq (a grant answers a request seq >= 1)";
  if (d.grant_incarnation == 0 && (d.grant_request_seq != 0 || d.grant_ms != 0))
    return "grant_request_seq/grant_ms (must be 0 without a grant)";
  return nullptr;
}

bool all_zero(std::span<const std::byte> b) {
  for (std::byte x : b)
    if (x != std::byte{0}) return false;
  return true;
}

LanDecodeResult refuse(LanRefusal why) { return LanDecodeResult{std::nullopt, why}; }

}  // namespace

const char* lan_refusal_name(LanRefusal r) {
  switch (r) {
    case LanRefusal::truncated: return "truncated";
    case LanRefusal::oversized: return "oversized";
    case LanRefusal::bad_magic: return "bad_magic";
    case LanRefusal::bad_version: return "bad_version";
    case LanRefusal::bad_tag: return "bad_tag";
    case LanRefusal::wrong_cluster: return "wrong_cluster";
    case LanRefusal::wrong_sender: return "wrong_sender";
    case LanRefusal::wrong_link: return "wrong_link";
    case LanRefusal::malformed: return "malformed";
    case LanRefusal::replayed: return "replayed";
    case LanRefusal::stale_incarnation: return "stale_incarnation";
  }
  return "unknown";
}

// ---- LanSeal ----

Result<LanSeal> LanSeal::from_cluster_key(const AuthKey& cluster_key) {
  RETURN_IF_ERROR(crypto_ready());
  if (cluster_key.empty()) return Error(Code::invalid_argument, "LAN seal: the cluster key is empty");
  ASSIGN_OR_RETURN(AuthKey sub, derive_subkey(cluster_key, kLanKeyLabel));
  if (sub.size() != kSubkeyBytes)
    return Error(Code::internal, "LAN seal: derived subkey has " + std::to_string(sub.size()) + " bytes, not " +
                                     std::to_string(kSubkeyBytes));
  LanSeal s;
  std::memcpy(s.key_.data(), sub.bytes().data(), kSubkeyBytes);
  s.valid_ = true;
  return s;
}

LanSeal::LanSeal(LanSeal&& other) noexcept : key_(other.key_), valid_(other.valid_) { other.wipe(); }

LanSeal& LanSeal::operator=(LanSeal&& other) noexcept {
  if (this != &other) {
    key_ = other.key_;
    valid_ = other.valid_;
    other.wipe();
  }
  return *this;
}

LanSeal::~LanSeal() { wipe(); }

void LanSeal::wipe() {
  sodium_memzero(key_.data(), key_.size());
  valid_ = false;
}

void LanSeal::compute(std::span<const std::byte> covered, unsigned char out[kLanTagSize]) const {
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, key_.data(), key_.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(covered.data()), covered.size());
  crypto_auth_hmacsha256_final(&st, out);
  sodium_memzero(&st, sizeof st);
}

void LanSeal::seal(std::span<std::byte> datagram) const {
  if (!valid_ || datagram.size() != kLanDatagramSize) return;
  unsigned char tag[kLanTagSize];
  compute(datagram.first(kLanTagOffset), tag);
  std::memcpy(datagram.data() + kLanTagOffset, tag, kLanTagSize);
}

bool LanSeal::verify(std::span<const std::byte> datagram) const {
  if (!valid_ || datagram.size() != kLanDatagramSize) return false;
  unsigned char tag[kLanTagSize];
  compute(datagram.first(kLanTagOffset), tag);
  static_assert(kLanTagSize == 32);
  return crypto_verify_32(tag, reinterpret_cast<const unsigned char*>(datagram.data()) + kLanTagOffset) == 0;
}

// ---- codec ----

Result<std::array<std::byte, kLanDatagramSize>> encode_lan_datagram(const LanDatagram& d, const LanSeal& seal) {
  if (!seal.valid()) return Error(Code::invalid_argument, "encoding a LAN datagram: the seal holds no key");
  if (const char* bad = out_of_range_field(d))
    return Error(Code::invalid_argument, std::string("encoding a LAN datagram: field out of range: ") + bad);
  std::array<std::byte, kLanDatagramSize> out{};
  ByteWriter w(out);
  w.u32(kMagic);
  w.u16(kLanVersion);
  w.u16(uint16_t((d.disk_ok ? kFlagDiskOk : 0) | (d.request_promise ? kFlagRequestPromise : 0)));
  w.bytes(std::as_bytes(std::span(d.cluster_uuid.bytes)));
  w.u32(d.sender_node);
  w.u32(d.link);
  w.u64(d.incarnation);
  w.u64(d.seq);
  w.u64(d.echo_incarnation);
  w.u64(d.echo_seq);
  w.u32(d.echo_hold_us);
  w.u32(d.disk_age_ms);
  w.u64(d.disk_seq);
  w.u8(d.peer_view);
  w.zeros(3);
  w.u32(d.grant_ms);
  w.u64(d.grant_incarnation);
  w.u64(d.grant_request_seq);
  if (!w.ok() || w.pos() != kFieldsEnd)
    return Error(Code::internal, "encoding a LAN datagram: fields end at " + std::to_string(w.pos()) + ", not " +
                                     std::to_string(kFieldsEnd));
  // Bytes [kFieldsEnd, kLanTagOffset) stay zero (reserved).
  seal.seal(out);
  return out;
}

LanDecodeResult decode_lan_datagram(std::span<const std::byte> bytes, const LanSeal& seal, const Uuid& cluster,
                                    uint32_t expected_sender, uint32_t received_on_link) {
  if (bytes.size() < kLanDatagramSize) return refuse(LanRefusal::truncated);
  if (bytes.size() > kLanDatagramSize) return refuse(LanRefusal::oversized);
  ByteReader r(bytes);
  if (r.u32() != kMagic) return refuse(LanRefusal::bad_magic);
  if (r.u16() != kLanVersion) return refuse(LanRefusal::bad_version);
  if (!seal.verify(bytes)) return refuse(LanRefusal::bad_tag);

  // Only authenticated bytes from here on.
  LanDatagram d;
  r.seek(kFlagsOffset);
  const uint16_t flags = r.u16();
  r.bytes(std::as_writable_bytes(std::span(d.cluster_uuid.bytes)));
  d.sender_node = r.u32();
  d.link = r.u32();
  d.incarnation = r.u64();
  d.seq = r.u64();
  d.echo_incarnation = r.u64();
  d.echo_seq = r.u64();
  d.echo_hold_us = r.u32();
  d.disk_age_ms = r.u32();
  d.disk_seq = r.u64();
  if (r.pos() != kPeerViewOffset) return refuse(LanRefusal::malformed);  // cannot happen: the layout is fixed
  d.peer_view = r.u8();
  const bool reserved_small_zero = all_zero(bytes.subspan(kPeerViewOffset + 1, kGrantMsOffset - kPeerViewOffset - 1));
  r.seek(kGrantMsOffset);
  d.grant_ms = r.u32();
  d.grant_incarnation = r.u64();
  d.grant_request_seq = r.u64();
  if (!r.ok() || r.pos() != kFieldsEnd) return refuse(LanRefusal::malformed);
  d.disk_ok = (flags & kFlagDiskOk) != 0;
  d.request_promise = (flags & kFlagRequestPromise) != 0;

  if (d.cluster_uuid != cluster) return refuse(LanRefusal::wrong_cluster);
  if (d.sender_node != expected_sender) return refuse(LanRefusal::wrong_sender);
  if (d.link != received_on_link) return refuse(LanRefusal::wrong_link);
  if ((flags & ~kKnownFlags) != 0 || !reserved_small_zero ||
      !all_zero(bytes.subspan(kFieldsEnd, kLanTagOffset - kFieldsEnd)) || out_of_range_field(d) != nullptr)
    return refuse(LanRefusal::malformed);
  return LanDecodeResult{std::move(d), LanRefusal::malformed};
}

}  // namespace castor
