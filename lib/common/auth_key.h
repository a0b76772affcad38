// The cluster's authentication key (the "authkey"): raw random bytes in a root-only file, the same on both
// nodes (default /etc/castor/authkey), from which each use derives its own MAC key — the quorum-disk
// records (lib/disk/record_seal.h) now, the LAN channel (issue 15) later — so no two uses share a key.
//
// load_auth_key() refuses, with an error naming the path and the reason, a key file that is not a regular
// file, is not owned by root, has any group/other permission bit (mode & 077: readable by others means
// anyone on the node could forge records), lies under a path common/trusted_path.h refuses, or holds fewer
// than 32 or more than 4096 bytes. write_new_auth_key() makes one: 32 bytes of libsodium's randombytes,
// mode 0600, created under umask 077.
// The key bytes are held only in an AuthKey, zeroed (sodium_memzero) when it is destroyed; this unit and its
// callers must never log, print or copy them anywhere else. All crypto is libsodium's: none is written here.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"

namespace castor {

inline constexpr const char* kDefaultAuthKeyPath = "/etc/castor/authkey";
inline constexpr size_t kAuthKeyMinBytes = 32;
inline constexpr size_t kAuthKeyMaxBytes = 4096;
inline constexpr size_t kAuthKeyNewBytes = 32;
inline constexpr size_t kSubkeyBytes = 32;  // HMAC-SHA256 output = the derived key's size

// Key bytes that are zeroed on destruction. Move-only: a key is never copied by accident.
class AuthKey {
 public:
  AuthKey() = default;
  explicit AuthKey(std::span<const std::byte> bytes);
  ~AuthKey();
  AuthKey(AuthKey&& other) noexcept;
  AuthKey& operator=(AuthKey&& other) noexcept;
  AuthKey(const AuthKey&) = delete;
  AuthKey& operator=(const AuthKey&) = delete;

  bool empty() const { return bytes_.empty(); }
  size_t size() const { return bytes_.size(); }
  std::span<const unsigned char> bytes() const { return bytes_; }

 private:
  void wipe();
  std::vector<unsigned char> bytes_;
};

// sodium_init(), once per process (thread-safe, idempotent). Every function below calls it.
Status crypto_ready();

// Reads and checks the key file (see the header comment). Errors are Code::refused for an untrusted or
// malformed file, Code::not_found when it does not exist, Code::io_error when it cannot be read.
Result<AuthKey> load_auth_key(const std::string& path);

// Checks only the file's ownership, mode and size (castor check): the same rules as load_auth_key().
Status check_auth_key_file(const std::string& path);

// Writes a new key of kAuthKeyNewBytes random bytes to `path`, mode 0600 (umask 077 while creating). The
// parent directory must exist. Without `force` an existing file is never touched (Code::already_exists);
// with `force` the new key goes to a temporary file in the same directory, is fsynced and renamed over it.
Status write_new_auth_key(const std::string& path, bool force);

// HMAC-SHA256(key, label): a 32-byte key for one purpose (e.g. "castor disk records v1").
Result<AuthKey> derive_subkey(const AuthKey& key, const std::string& label);

}  // namespace castor
