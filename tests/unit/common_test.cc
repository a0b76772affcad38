#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "common/byte_codec.h"
#include "common/clock.h"
#include "common/crc32c.h"
#include "common/log.h"
#include "common/status.h"

using namespace castor;

namespace {
std::span<const std::byte> bytes_of(const char* s) { return std::as_bytes(std::span(s, std::strlen(s))); }
}  // namespace

TEST_CASE("crc32c matches the published check values") {
  CHECK(crc32c(bytes_of("123456789")) == 0xE3069283u);
  CHECK(crc32c(bytes_of("")) == 0u);
  // RFC 3720 B.4: 32 bytes of zeros -> 0x8A9136AA, 32 bytes of 0xFF -> 0x62A8AB43.
  std::vector<std::byte> zeros(32, std::byte{0}), ones(32, std::byte{0xFF});
  CHECK(crc32c(zeros) == 0x8A9136AAu);
  CHECK(crc32c(ones) == 0x62A8AB43u);
  // Incremental equals one-shot, for every split point (exercises the slicing-by-8 path and the tail).
  std::vector<std::byte> data(100);
  for (size_t i = 0; i < data.size(); ++i) data[i] = std::byte(i * 7 + 3);
  uint32_t whole = crc32c(data);
  for (size_t split = 0; split <= data.size(); ++split) {
    uint32_t a = crc32c(std::span(data).first(split));
    CHECK(crc32c(std::span(data).subspan(split), a) == whole);
  }
}

TEST_CASE("byte codec writes little-endian and refuses to overrun") {
  std::byte buf[16] = {};
  ByteWriter w(buf);
  w.u16(0x0102);
  w.u32(0x03040506);
  w.u64(0x0708090a0b0c0d0eull);
  CHECK(w.ok());
  CHECK(buf[0] == std::byte{0x02});
  CHECK(buf[1] == std::byte{0x01});
  CHECK(buf[2] == std::byte{0x06});
  CHECK(buf[6] == std::byte{0x0e});
  w.u32(1);  // only 2 bytes left
  CHECK_FALSE(w.ok());

  ByteReader r(buf);
  CHECK(r.u16() == 0x0102);
  CHECK(r.u32() == 0x03040506u);
  CHECK(r.u64() == 0x0708090a0b0c0d0eull);
  CHECK(r.ok());
  r.u32();
  CHECK_FALSE(r.ok());
}

TEST_CASE("fixed strings need a terminator, zero padding and printable bytes") {
  std::byte buf[8] = {};
  ByteWriter w(buf);
  w.fixed_string("node-a", 8);
  CHECK(w.ok());
  ByteReader r(buf);
  CHECK(r.fixed_string(8) == "node-a");
  CHECK(r.ok());

  ByteWriter too_long(buf);
  too_long.fixed_string("12345678", 8);  // no room for the NUL
  CHECK_FALSE(too_long.ok());

  std::byte junk[4] = {std::byte{'a'}, std::byte{0}, std::byte{'b'}, std::byte{0}};
  ByteReader r2(junk);
  r2.fixed_string(4);
  CHECK_FALSE(r2.ok());  // garbage after the terminator

  std::byte unterminated[3] = {std::byte{'a'}, std::byte{'b'}, std::byte{'c'}};
  ByteReader r3(unterminated);
  r3.fixed_string(3);
  CHECK_FALSE(r3.ok());

  std::byte control[3] = {std::byte{'a'}, std::byte{7}, std::byte{0}};
  ByteReader r4(control);
  r4.fixed_string(3);
  CHECK_FALSE(r4.ok());
}

TEST_CASE("Status and Result carry codes and context") {
  Status s = Error(Code::corrupt, "bad CRC");
  CHECK_FALSE(s.ok());
  CHECK(s.to_string() == "corrupt: bad CRC");
  CHECK(s.with_context("heartbeat of node 2").to_string() == "corrupt: heartbeat of node 2: bad CRC");
  Result<int> good(5);
  Result<int> bad(Error(Code::timeout, "read"));
  CHECK(good.ok());
  CHECK(*good == 5);
  CHECK_FALSE(bad.ok());
  CHECK(bad.status().code() == Code::timeout);
}

TEST_CASE("log lines quote values that need it") {
  CHECK(log::format_line("peer declared dead", {{"peer", "b"}, {"reason", "no heartbeat for 6s"}}) ==
        "peer declared dead peer=b reason=\"no heartbeat for 6s\"");
  CHECK(log::format_line("x", {{"n", 42}, {"q", "a\"b"}}) == "x n=42 q=\"a\\\"b\"");
}

TEST_CASE("durations format for humans") {
  CHECK(format_duration(Millis(250)) == "250ms");
  CHECK(format_duration(std::chrono::seconds(12)) == "12.0s");
  CHECK(format_duration(std::chrono::microseconds(500)) == "0.50ms");
}
