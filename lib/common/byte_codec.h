// Explicit little-endian encoding into / decoding from a byte span.
// On-disk and wire formats are built from these, field by field: never memcpy a struct.
// Out-of-range reads/writes never touch memory outside the span; they set a sticky failure flag.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace castor {

class ByteWriter {
 public:
  explicit ByteWriter(std::span<std::byte> out) : out_(out) {}
  void u8(uint8_t v) { put(v, 1); }
  void u16(uint16_t v) { put(v, 2); }
  void u32(uint32_t v) { put(v, 4); }
  void u64(uint64_t v) { put(v, 8); }
  void i64(int64_t v) { put(uint64_t(v), 8); }
  void bytes(std::span<const std::byte> b);
  // Writes s into exactly `width` bytes, NUL-padded; fails if s does not fit with one NUL to spare.
  void fixed_string(std::string_view s, size_t width);
  void zeros(size_t n);
  void seek(size_t pos);
  size_t pos() const { return pos_; }
  bool ok() const { return ok_; }

 private:
  void put(uint64_t v, int n);
  std::span<std::byte> out_;
  size_t pos_ = 0;
  bool ok_ = true;
};

class ByteReader {
 public:
  explicit ByteReader(std::span<const std::byte> in) : in_(in) {}
  uint8_t u8() { return uint8_t(get(1)); }
  uint16_t u16() { return uint16_t(get(2)); }
  uint32_t u32() { return uint32_t(get(4)); }
  uint64_t u64() { return get(8); }
  int64_t i64() { return int64_t(get(8)); }
  void bytes(std::span<std::byte> out);
  // Reads a NUL-padded string of `width` bytes. Fails (ok()==false) if there is no NUL terminator,
  // or if a byte after the terminator is not NUL, or a byte is not printable ASCII.
  std::string fixed_string(size_t width);
  void skip(size_t n);
  void seek(size_t pos);
  size_t pos() const { return pos_; }
  bool ok() const { return ok_; }
  void fail() { ok_ = false; }

 private:
  uint64_t get(int n);
  std::span<const std::byte> in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace castor
