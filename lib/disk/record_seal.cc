#include "disk/record_seal.h"

#include <sodium.h>

#include <cstring>

namespace castor {
namespace {
constexpr size_t kCrcOffset = 12;
}  // namespace

Result<RecordSeal> RecordSeal::hmac(const AuthKey& subkey) {
  RETURN_IF_ERROR(crypto_ready());
  if (subkey.size() != kSubkeyBytes)
    return Error(Code::invalid_argument, "a record seal needs a " + std::to_string(kSubkeyBytes) + "-byte subkey");
  RecordSeal s(Mode::hmac);
  std::memcpy(s.key_.data(), subkey.bytes().data(), kSubkeyBytes);
  return s;
}

RecordSeal::RecordSeal(const RecordSeal& o) : mode_(o.mode_), key_(o.key_) {}

RecordSeal& RecordSeal::operator=(const RecordSeal& o) {
  mode_ = o.mode_;
  key_ = o.key_;
  return *this;
}

RecordSeal::~RecordSeal() { sodium_memzero(key_.data(), key_.size()); }

const char* RecordSeal::describe() const {
  switch (mode_) {
    case Mode::crc_only: return "CRC only";
    case Mode::hmac: return "HMAC-SHA256";
    case Mode::tag_unchecked: return "HMAC tag NOT checked (no key)";
  }
  return "?";
}

void RecordSeal::compute(std::span<const std::byte> block, unsigned char out[kAuthTagSize]) const {
  static const unsigned char zero4[4] = {};
  const auto* p = reinterpret_cast<const unsigned char*>(block.data());
  const size_t covered = block.size() - kAuthTagSize;
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, key_.data(), key_.size());
  crypto_auth_hmacsha256_update(&st, p, kCrcOffset);
  crypto_auth_hmacsha256_update(&st, zero4, sizeof zero4);
  crypto_auth_hmacsha256_update(&st, p + kCrcOffset + 4, covered - kCrcOffset - 4);
  crypto_auth_hmacsha256_final(&st, out);
  sodium_memzero(&st, sizeof st);
}

void RecordSeal::write_tag(std::span<std::byte> block) const {
  if (mode_ != Mode::hmac || block.size() < 64 + kAuthTagSize) return;
  unsigned char tag[kAuthTagSize];
  compute(block, tag);
  std::memcpy(block.data() + block.size() - kAuthTagSize, tag, kAuthTagSize);
}

bool RecordSeal::tag_matches(std::span<const std::byte> block) const {
  if (mode_ != Mode::hmac || block.size() < 64 + kAuthTagSize) return false;
  unsigned char tag[kAuthTagSize];
  compute(block, tag);
  static_assert(kAuthTagSize == 32);
  return crypto_verify_32(tag, reinterpret_cast<const unsigned char*>(block.data()) + block.size() - kAuthTagSize) == 0;
}

Result<RecordSeal> disk_record_seal(const AuthKey& cluster_key) {
  ASSIGN_OR_RETURN(AuthKey sub, derive_subkey(cluster_key, kDiskRecordsKeyLabel));
  return RecordSeal::hmac(sub);
}

}  // namespace castor
