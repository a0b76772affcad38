// Status and Result<T>: errors as values across every module boundary.
// A Status carries a code (what kind of failure) and a message (what failed and where).
// Must never throw; must never hide an error by turning it into a default value.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace castor {

enum class Code {
  ok = 0,
  io_error,          // the device or a syscall failed
  timeout,           // an operation passed its deadline
  corrupt,           // data was read but fails its checks (magic, version, CRC, ranges)
  invalid_argument,  // the caller asked for something malformed
  not_found,
  already_exists,
  permission_denied,
  busy,              // in use (mounted, held by someone else)
  unsupported,
  refused,           // a safety check said no
  internal,
};

std::string_view code_name(Code c);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return {}; }

  bool ok() const { return code_ == Code::ok; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "corrupt: heartbeat of node 2: bad CRC" style text for logs and CLI errors.
  std::string to_string() const;
  // Prefixes context ("reading superblock: ") to the message, keeping the code.
  Status with_context(std::string_view context) const;

 private:
  Code code_ = Code::ok;
  std::string message_;
};

inline Status Error(Code code, std::string message) { return Status(code, std::move(message)); }

// Either a value or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Status status) : v_(std::move(status)) { assert(!std::get<Status>(v_).ok()); }

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace castor

// Early-return helpers: RETURN_IF_ERROR(expr) and ASSIGN_OR_RETURN(lhs, expr).
#define CASTOR_CONCAT_(a, b) a##b
#define CASTOR_CONCAT(a, b) CASTOR_CONCAT_(a, b)
#define RETURN_IF_ERROR(expr)                 \
  do {                                        \
    ::castor::Status castor_st_ = (expr);     \
    if (!castor_st_.ok()) return castor_st_;  \
  } while (0)
#define ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                           \
  if (!tmp.ok()) return tmp.status();          \
  lhs = std::move(tmp).value()
#define ASSIGN_OR_RETURN(lhs, expr) ASSIGN_OR_RETURN_IMPL_(CASTOR_CONCAT(castor_r_, __LINE__), lhs, expr)
