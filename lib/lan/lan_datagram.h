// The LAN heartbeat datagram (issue 15): what quorumd sends its peer over each LAN link, as exactly
// kLanDatagramSize bytes, and LanSeal, the MAC key that authenticates it (HMAC-SHA256 with a subkey of the
// cluster authkey, derive_subkey(key, kLanKeyLabel), libsodium's as in lib/disk/record_seal.cc).
// Byte layout and check order: docs/lan-protocol.md.
//
// Pure: no sockets, no clock, no I/O; encode/decode only. decode_lan_datagram never trusts a byte before the
// tag verified, checks every field after, and reports why it refused (LanRefusal) rather than guessing.
// Must never memcpy a struct onto the wire (fields go one by one through common/byte_codec.h), never log or
// copy the key bytes, and never return a datagram whose tag did not verify in constant time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "common/auth_key.h"
#include "common/status.h"
#include "common/uuid.h"

namespace castor {

inline constexpr size_t kLanDatagramSize = 256;  // every datagram is exactly this long
inline constexpr const char* kLanKeyLabel = "castor lan v1";
inline constexpr size_t kLanTagOffset = 224;   // HMAC-SHA256 over bytes [0, 224) ...
inline constexpr size_t kLanTagSize = 32;      // ... into bytes [224, 256)
inline constexpr uint16_t kLanVersion = 1;
inline constexpr uint8_t kLanMaxPeerView = 4;  // peer_view carries a PeerView numeric value, 0..4

// Why a datagram was dropped (each is counted per link by LanLinkView).
enum class LanRefusal { truncated, oversized, bad_magic, bad_version, bad_tag, wrong_cluster, wrong_sender,
                        wrong_link, malformed, replayed, stale_incarnation };
const char* lan_refusal_name(LanRefusal r);  // "truncated", "oversized", ... (used as JSON keys)
inline constexpr size_t kLanRefusalCount = 11;

struct LanDatagram {
  Uuid cluster_uuid;                 // common/uuid.h
  uint32_t sender_node = 0;          // 1 or 2
  uint32_t link = 0;                 // 1 or 2: the link it was sent on (authenticated: a copy replayed on the other link is refused)
  uint64_t incarnation = 0;          // sender's quorumd incarnation, != 0
  uint64_t seq = 0;                  // per (incarnation, link), strictly increasing from 1 (so != 0)
  uint64_t echo_incarnation = 0;     // the latest datagram the sender accepted from the receiver ON THIS LINK: its incarnation,
  uint64_t echo_seq = 0;             //   its seq (0/0 if none: both zero or both non-zero),
  uint32_t echo_hold_us = 0;         //   and how long the sender held it before this send (µs), for the RTT (0 if none)
  // The sender's disk (quorum disk) as the sender sees it:
  bool disk_ok = false;              // its last heartbeat write issued within T completed ok
  uint32_t disk_age_ms = 0;          // time since the issue of its last ok heartbeat write (saturating)
  uint64_t disk_seq = 0;             // its last heartbeat seq written ok
  uint8_t peer_view = 0;             // the sender's disk verdict about the receiver (PeerView numeric value, 0..4)
  // Promises (docs/design.md will have the rules; the codec only carries them):
  bool request_promise = false;      // the sender's disk is failing: it asks the receiver for a promise
  uint64_t grant_incarnation = 0;    // != 0: a promise to the receiver's incarnation `grant_incarnation`,
  uint64_t grant_request_seq = 0;    //   answering its request datagram (link, seq) = (this link, grant_request_seq) (!= 0),
  uint32_t grant_ms = 0;             //   not to declare it dead before (grant time + grant_ms) + D
                                     // grant_incarnation == 0: no grant; grant_request_seq and grant_ms are then 0.
  friend bool operator==(const LanDatagram&, const LanDatagram&) = default;
};

// The MAC key of the LAN channel: HMAC-SHA256 over bytes [0, 224) into bytes [224, 256). Move-only, zeroed on
// destruction (a moved-from seal holds a zero key and is not valid()).
class LanSeal {
 public:
  static Result<LanSeal> from_cluster_key(const AuthKey& cluster_key);  // derive_subkey(key, kLanKeyLabel)

  LanSeal(LanSeal&& other) noexcept;
  LanSeal& operator=(LanSeal&& other) noexcept;
  LanSeal(const LanSeal&) = delete;
  LanSeal& operator=(const LanSeal&) = delete;
  ~LanSeal();

  bool valid() const { return valid_; }
  // Writes the tag of bytes [0, 224) of `datagram` (exactly kLanDatagramSize bytes) into [224, 256).
  // Does nothing to a span of another size or with an invalid seal.
  void seal(std::span<std::byte> datagram) const;
  // Whether bytes [224, 256) are the tag of [0, 224) (crypto_verify_32: constant time). False for a span of
  // another size or an invalid seal.
  bool verify(std::span<const std::byte> datagram) const;

 private:
  LanSeal() = default;
  void wipe();
  void compute(std::span<const std::byte> covered, unsigned char out[kLanTagSize]) const;

  std::array<unsigned char, kSubkeyBytes> key_{};
  bool valid_ = false;
};

// Always exactly kLanDatagramSize bytes, tag included. Fails (Code::invalid_argument, naming the field) only on a
// field out of range: node not 1/2, link not 1/2, incarnation 0, seq 0, peer_view > 4, an echo with only one of
// incarnation/seq set (or a hold without an echo), a grant with grant_request_seq 0, or grant_request_seq/grant_ms
// without a grant; also when the seal is not valid(). What encodes, decodes equal; what decodes, re-encodes to
// the same bytes.
Result<std::array<std::byte, kLanDatagramSize>> encode_lan_datagram(const LanDatagram& d, const LanSeal& seal);

// Either the datagram (ok()) or why it was refused.
struct LanDecodeResult {
  std::optional<LanDatagram> datagram;
  LanRefusal why = LanRefusal::malformed;  // meaningful only when !ok()
  bool ok() const { return datagram.has_value(); }
};

// Checks in this order: size (< 256 truncated, > 256 oversized), magic, version, tag (constant time,
// crypto_verify_32), then fields: cluster (wrong_cluster), sender_node == expected_sender (wrong_sender),
// link == received_on_link (wrong_link), ranges/reserved bytes zero (malformed: the rules of encode above).
LanDecodeResult decode_lan_datagram(std::span<const std::byte> bytes, const LanSeal& seal, const Uuid& cluster,
                                    uint32_t expected_sender, uint32_t received_on_link);

}  // namespace castor
