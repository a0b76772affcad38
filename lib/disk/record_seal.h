// RecordSeal: how every quorum-disk block is sealed when encoded and checked when decoded, passed
// explicitly to every encoder and decoder of lib/disk (there is no default, so no call site can forget it).
//
//  - crc_only():  the CRC32C alone (format version 1 as it always was); the last 32 bytes of the block are
//                 part of the record's zero area.
//  - hmac(subkey): the last 32 bytes of the block hold HMAC-SHA256(subkey, bytes 0 .. B-32 of the block
//                 with the CRC field read as zero); the CRC32C is then computed over the whole block, tag
//                 included, so damage still reads as "bad CRC", and a block with a valid CRC but a tag that
//                 does not verify (written without the key: forged, or written with another key) is
//                 Code::corrupt "bad authentication tag". The subkey comes from the cluster authkey
//                 (common/auth_key.h) with disk_record_seal().
//  - tag_unchecked(): decode a block of an authenticated disk WITHOUT checking its tag (castor dump and
//                 status when no key is at hand, which say so): nothing may act on what it decodes.
//                 Never for encoding: a block sealed with it carries no tag (as crc_only), so every
//                 authenticated reader refuses it -- it fails closed.
// Docs: docs/ondisk-format.md, "Authentication tag"; docs/security.md. The MAC is libsodium's
// (crypto_auth_hmacsha256, compared in constant time with crypto_verify_32); the key bytes are zeroed when
// the seal is destroyed and never logged.
#pragma once

#include <array>
#include <cstddef>
#include <span>

#include "common/auth_key.h"
#include "common/status.h"

namespace castor {

inline constexpr size_t kAuthTagSize = 32;
// The label of the quorum-disk subkey: HMAC-SHA256(authkey, label) (common/auth_key.h, derive_subkey).
inline constexpr const char* kDiskRecordsKeyLabel = "castor disk records v1";

class RecordSeal {
 public:
  enum class Mode { crc_only, hmac, tag_unchecked };

  static RecordSeal crc_only() { return RecordSeal(Mode::crc_only); }
  static RecordSeal tag_unchecked() { return RecordSeal(Mode::tag_unchecked); }
  // `subkey` must be kSubkeyBytes long (derive_subkey's output); else Code::invalid_argument.
  static Result<RecordSeal> hmac(const AuthKey& subkey);

  RecordSeal(const RecordSeal& o);
  RecordSeal& operator=(const RecordSeal& o);
  ~RecordSeal();

  Mode mode() const { return mode_; }
  bool authenticated() const { return mode_ == Mode::hmac; }
  // The block carries a tag area (hmac and tag_unchecked): decoders do not require its bytes to be zero.
  bool has_tag_area() const { return mode_ != Mode::crc_only; }
  const char* describe() const;

  // hmac only: writes the tag of `block` (its CRC field read as zero) into its last kAuthTagSize bytes.
  void write_tag(std::span<std::byte> block) const;
  // hmac only: whether the last kAuthTagSize bytes are the tag of the rest (constant-time compare).
  bool tag_matches(std::span<const std::byte> block) const;

 private:
  explicit RecordSeal(Mode m) : mode_(m) {}
  void compute(std::span<const std::byte> block, unsigned char out[kAuthTagSize]) const;

  Mode mode_;
  std::array<unsigned char, kSubkeyBytes> key_{};
};

// The seal of an authenticated quorum disk: hmac(derive_subkey(cluster_key, kDiskRecordsKeyLabel)).
Result<RecordSeal> disk_record_seal(const AuthKey& cluster_key);

}  // namespace castor
