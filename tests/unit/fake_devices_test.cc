// MemoryBlockDevice and FaultyBlockDevice keep the BlockDevice contract the real device keeps.
#include <doctest/doctest.h>

#include <vector>

#include "disk/testing/faulty_block_device.h"
#include "disk/testing/memory_block_device.h"

using namespace castor;

namespace {
struct Rig {
  FakeClock clock;
  std::shared_ptr<MemoryDisk> disk = std::make_shared<MemoryDisk>(512, 1 << 20);
  std::shared_ptr<MemoryBlockDevice> mem = std::make_shared<MemoryBlockDevice>(disk, "mem0");
  FaultyBlockDevice dev{mem};
  std::vector<IoCompletion> done;

  std::vector<IoCompletion> reap() {
    done.clear();
    dev.reap(clock.now(), done);
    return done;
  }
};
std::vector<std::byte> pattern(size_t n, uint8_t seed) {
  std::vector<std::byte> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = std::byte(seed + i);
  return v;
}
}  // namespace

TEST_CASE("memory device: aligned I/O round-trips; misaligned and out-of-range I/O is refused") {
  auto disk = std::make_shared<MemoryDisk>(4096, 1 << 20);
  MemoryBlockDevice dev(disk, "mem");
  FakeClock clock;
  auto data = pattern(4096, 3);
  CHECK(write_blocking(dev, clock, 8192, data, Millis(100)).ok());
  std::vector<std::byte> back(4096);
  CHECK(read_blocking(dev, clock, 8192, back, Millis(100)).ok());
  CHECK(back == data);
  std::vector<std::byte> small(512);
  CHECK(dev.submit_read(1, 0, small, clock.now(), clock.now()).code() == Code::invalid_argument);
  CHECK(dev.submit_read(1, 100, back, clock.now(), clock.now()).code() == Code::invalid_argument);
  CHECK(dev.submit_read(1, (1 << 20), back, clock.now(), clock.now()).code() == Code::invalid_argument);
  dev.set_read_only(true);
  CHECK(write_blocking(dev, clock, 0, data, Millis(100)).code() == Code::io_error);
}

TEST_CASE("faulty device: a delayed write past its deadline times out, then lands late") {
  Rig r;
  r.dev.delay_all(Millis(300));
  auto data = pattern(512, 9);
  REQUIRE(r.dev.submit_write(7, 0, data, r.clock.now(), r.clock.now() + Millis(100)).ok());
  CHECK(r.reap().empty());
  r.clock.advance(Millis(100));
  auto c = r.reap();
  REQUIRE(c.size() == 1);
  CHECK(c[0].tag == 7);
  CHECK(c[0].status.code() == Code::timeout);
  CHECK(r.disk->bytes[0] == std::byte{0});  // not yet on the disk
  r.clock.advance(Millis(200));
  CHECK(r.reap().empty());                  // no second completion for tag 7
  CHECK(r.disk->bytes[1] == std::byte(10));  // but the late write landed
  CHECK(r.dev.in_flight() == 0);
}

TEST_CASE("faulty device: a read that times out never writes into the caller's buffer") {
  Rig r;
  r.disk->bytes.assign(r.disk->bytes.size(), std::byte{0x5A});
  r.dev.hang_all();
  std::vector<std::byte> buf(512, std::byte{0});
  REQUIRE(r.dev.submit_read(1, 0, buf, r.clock.now(), r.clock.now() + Millis(50)).ok());
  r.clock.advance(Millis(60));
  auto c = r.reap();
  REQUIRE(c.size() == 1);
  CHECK(c[0].status.code() == Code::timeout);
  r.dev.release_hung(r.clock.now());
  CHECK(r.reap().empty());
  CHECK(buf[0] == std::byte{0});
}

TEST_CASE("faulty device: errors, drops and torn writes") {
  Rig r;
  auto data = pattern(4096, 1);
  r.dev.fail_all();
  REQUIRE(r.dev.submit_write(1, 0, data, r.clock.now(), r.clock.now() + Millis(100)).ok());
  auto c = r.reap();
  REQUIRE(c.size() == 1);
  CHECK(c[0].status.code() == Code::io_error);
  CHECK(r.disk->bytes[1] == std::byte{0});

  r.dev.set_policy([](IoKind, uint64_t, size_t, TimePoint) {
    return FaultDecision{FaultDecision::Kind::tear, Duration(0), 1000};  // rounds down to 2 sectors
  });
  REQUIRE(r.dev.submit_write(2, 0, data, r.clock.now(), r.clock.now() + Millis(100)).ok());
  c = r.reap();
  REQUIRE(c.size() == 1);
  CHECK(c[0].status.code() == Code::io_error);
  CHECK(r.disk->bytes[1023] == data[1023]);
  CHECK(r.disk->bytes[1024] == std::byte{0});

  r.dev.set_policy([](IoKind, uint64_t, size_t, TimePoint) { return FaultDecision{FaultDecision::Kind::drop}; });
  REQUIRE(r.dev.submit_write(3, 8192, data, r.clock.now(), r.clock.now() + Millis(10)).ok());
  r.clock.advance(Millis(10));
  c = r.reap();
  REQUIRE(c.size() == 1);
  CHECK(c[0].status.code() == Code::timeout);
  CHECK(r.dev.in_flight() == 0);
  CHECK(r.disk->bytes[8192] == std::byte{0});
}

TEST_CASE("faulty device: two paths to one disk see each other's writes, each with its own faults") {
  FakeClock clock;
  auto disk = std::make_shared<MemoryDisk>(512, 1 << 20);
  FaultyBlockDevice a(std::make_shared<MemoryBlockDevice>(disk, "a"));
  FaultyBlockDevice b(std::make_shared<MemoryBlockDevice>(disk, "b"));
  auto data = pattern(512, 4);
  a.fail_all();
  CHECK(write_blocking(a, clock, 0, data, Millis(10)).code() == Code::io_error);
  CHECK(write_blocking(b, clock, 0, data, Millis(10)).ok());
  std::vector<std::byte> back(512);
  a.pass_all();
  CHECK(read_blocking(a, clock, 0, back, Millis(10)).ok());
  CHECK(back == data);
}
