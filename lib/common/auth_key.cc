#include "common/auth_key.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "common/errno_status.h"
#include "common/trusted_path.h"
#include "common/unique_fd.h"

namespace castor {
namespace {

std::string mode_text(mode_t m) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", unsigned(m & 07777));
  return buf;
}

Status refuse(const std::string& path, const std::string& why) {
  return Error(Code::refused, "authkey " + path + ": " + why);
}

// The checks on the object itself, from its fstat (after the path check).
Status check_key_stat(const std::string& path, const struct stat& st) {
  if (!S_ISREG(st.st_mode)) return refuse(path, "not a regular file");
  if (st.st_uid != 0 && st.st_uid != ::geteuid())
    return refuse(path, "owned by uid " + std::to_string(st.st_uid) + ", not root (chown root:root " + path + ")");
  if (st.st_mode & 077)
    return refuse(path, "mode " + mode_text(st.st_mode) +
                            " gives group or others access; the cluster key must be readable by root only "
                            "(chmod 0600 " + path + ", and make a new key if others could read it)");
  if (size_t(st.st_size) < kAuthKeyMinBytes)
    return refuse(path, "holds " + std::to_string(st.st_size) + " bytes; a key needs at least " +
                            std::to_string(kAuthKeyMinBytes) + " (make one with castor keygen)");
  if (size_t(st.st_size) > kAuthKeyMaxBytes)
    return refuse(path, "holds " + std::to_string(st.st_size) + " bytes; a key has at most " +
                            std::to_string(kAuthKeyMaxBytes));
  return Status::Ok();
}

// Opens the key read-only after checking the path, and checks the opened file is the one checked.
Result<UniqueFd> open_checked(const std::string& path, struct stat& st) {
  auto trusted = check_trusted_path(path);
  if (!trusted.ok()) {
    if (trusted.status().code() == Code::not_found)
      return Error(Code::not_found, "authkey " + path + " does not exist (make one with castor keygen, and copy it "
                                                        "to the peer with mode 0600)");
    return trusted.status().with_context("authkey");
  }
  UniqueFd fd(::open(trusted->resolved.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK));
  if (!fd.valid()) return errno_status("open", "authkey " + path);
  if (::fstat(fd.get(), &st) != 0) return errno_status("fstat", "authkey " + path);
  RETURN_IF_ERROR(check_trusted_open_file(path, st).with_context("authkey"));
  RETURN_IF_ERROR(check_key_stat(path, st));
  return fd;
}

std::string parent_dir(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status write_all(int fd, std::span<const unsigned char> data, const std::string& what) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return errno_status("write", what);
    done += size_t(n);
  }
  return Status::Ok();
}

// umask 077 for the lifetime of this object (the CLI is single-threaded when it writes a key).
class UmaskGuard {
 public:
  UmaskGuard() : old_(::umask(077)) {}
  ~UmaskGuard() { ::umask(old_); }
  UmaskGuard(const UmaskGuard&) = delete;
  UmaskGuard& operator=(const UmaskGuard&) = delete;

 private:
  mode_t old_;
};

}  // namespace

AuthKey::AuthKey(std::span<const std::byte> bytes) : bytes_(bytes.size()) {
  if (!bytes.empty()) std::memcpy(bytes_.data(), bytes.data(), bytes.size());
}

AuthKey::~AuthKey() { wipe(); }

AuthKey::AuthKey(AuthKey&& other) noexcept : bytes_(std::move(other.bytes_)) { other.bytes_.clear(); }

AuthKey& AuthKey::operator=(AuthKey&& other) noexcept {
  if (this != &other) {
    wipe();
    bytes_ = std::move(other.bytes_);
    other.bytes_.clear();
  }
  return *this;
}

void AuthKey::wipe() {
  if (!bytes_.empty()) sodium_memzero(bytes_.data(), bytes_.size());
  bytes_.clear();
}

Status crypto_ready() {
  static const int rc = sodium_init();  // 0 first time, 1 if already done, -1 on failure
  if (rc < 0) return Error(Code::internal, "libsodium could not be initialised (sodium_init failed)");
  return Status::Ok();
}

Status check_auth_key_file(const std::string& path) {
  struct stat st {};
  auto fd = open_checked(path, st);
  return fd.status();
}

Result<AuthKey> load_auth_key(const std::string& path) {
  RETURN_IF_ERROR(crypto_ready());
  struct stat st {};
  ASSIGN_OR_RETURN(UniqueFd fd, open_checked(path, st));
  std::vector<std::byte> buf(kAuthKeyMaxBytes + 1);
  size_t got = 0;
  while (got < buf.size()) {
    ssize_t n = ::read(fd.get(), buf.data() + got, buf.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status st_err = errno_status("read", "authkey " + path);
      sodium_memzero(buf.data(), buf.size());
      return st_err;
    }
    if (n == 0) break;
    got += size_t(n);
  }
  AuthKey key(std::span<const std::byte>(buf.data(), got));
  sodium_memzero(buf.data(), buf.size());
  // The size is checked again on what was read: the file may have changed since the fstat.
  if (got < kAuthKeyMinBytes || got > kAuthKeyMaxBytes)
    return refuse(path, "holds " + std::to_string(got) + " bytes; a key has " + std::to_string(kAuthKeyMinBytes) +
                            " to " + std::to_string(kAuthKeyMaxBytes));
  return key;
}

Status write_new_auth_key(const std::string& path, bool force) {
  RETURN_IF_ERROR(crypto_ready());
  if (path.empty()) return Error(Code::invalid_argument, "empty authkey path");
  const std::string dir = parent_dir(path);
  struct stat dst {};
  if (::stat(dir.c_str(), &dst) != 0) return errno_status("stat", "directory " + dir + " of the authkey");
  if (!S_ISDIR(dst.st_mode)) return Error(Code::invalid_argument, dir + " is not a directory");

  unsigned char key[kAuthKeyNewBytes];
  randombytes_buf(key, sizeof key);
  struct Wipe {
    unsigned char* p;
    size_t n;
    ~Wipe() { sodium_memzero(p, n); }
  } wipe{key, sizeof key};

  UmaskGuard umask_077;
  std::string target = path;
  std::string tmp;
  UniqueFd fd;
  if (!force) {
    fd = UniqueFd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd.valid()) {
      if (errno == EEXIST)
        return Error(Code::already_exists, "authkey " + path + " already exists; not replaced (use --force to make "
                                                               "a new key: both nodes then need the new one)");
      return errno_status("create", "authkey " + path);
    }
  } else {
    tmp = dir + "/.authkey.XXXXXX";
    std::vector<char> name(tmp.begin(), tmp.end());
    name.push_back('\0');
    fd = UniqueFd(::mkostemp(name.data(), O_CLOEXEC));  // mode 0600
    if (!fd.valid()) return errno_status("mkstemp", dir + "/.authkey.XXXXXX");
    tmp = name.data();
  }
  auto fail = [&](Status st) {
    if (!tmp.empty()) ::unlink(tmp.c_str());
    else ::unlink(path.c_str());
    return st;
  };
  const std::string what = "authkey " + (tmp.empty() ? path : tmp);
  if (::fchmod(fd.get(), 0600) != 0) return fail(errno_status("fchmod", what));
  if (Status st = write_all(fd.get(), std::span<const unsigned char>(key, sizeof key), what); !st.ok()) return fail(st);
  if (::fsync(fd.get()) != 0) return fail(errno_status("fsync", what));
  if (::close(fd.release()) != 0) return fail(errno_status("close", what));
  if (!tmp.empty() && ::rename(tmp.c_str(), path.c_str()) != 0) return fail(errno_status("rename", tmp + " to " + path));
  UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dfd.valid() || ::fsync(dfd.get()) != 0) return errno_status("fsync", "directory " + dir);
  return Status::Ok();
}

Result<AuthKey> derive_subkey(const AuthKey& key, const std::string& label) {
  RETURN_IF_ERROR(crypto_ready());
  if (key.size() < kAuthKeyMinBytes) return Error(Code::invalid_argument, "authkey too short to derive a key from");
  crypto_auth_hmacsha256_state st;
  unsigned char out[crypto_auth_hmacsha256_BYTES];
  static_assert(crypto_auth_hmacsha256_BYTES == kSubkeyBytes);
  crypto_auth_hmacsha256_init(&st, key.bytes().data(), key.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(label.data()), label.size());
  crypto_auth_hmacsha256_final(&st, out);
  sodium_memzero(&st, sizeof st);
  AuthKey sub(std::as_bytes(std::span<const unsigned char>(out, sizeof out)));
  sodium_memzero(out, sizeof out);
  return sub;
}

}  // namespace castor
