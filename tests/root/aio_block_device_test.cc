// AioBlockDevice on the real kernel: loop devices for the happy paths, and a loop device over a file on a
// bindfs (FUSE) mount whose daemon is SIGSTOPped for I/O that really hangs.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "disk/aio_block_device.h"
#include "tests/support/scratch.h"

extern char** environ;

using namespace castor;
using namespace castor::testing;
using Mode = AioBlockDevice::OpenMode;

namespace {

std::vector<std::byte> pattern(size_t n, uint8_t seed) {
  std::vector<std::byte> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = std::byte(uint8_t(i * 31 + seed + (i >> 8)));
  return v;
}

std::unique_ptr<AioBlockDevice> open_or_fail(const std::string& path, Mode mode) {
  auto r = AioBlockDevice::open(path, mode);
  REQUIRE_MESSAGE(r.ok(), r.status().to_string());
  return std::move(r).value();
}

// A loop device over an 8 MiB file on a bindfs mount of a scratch directory. stop() freezes the FUSE
// daemon, so every I/O that reaches it hangs until resume(). The destructor resumes the daemon, detaches
// the loop device, unmounts, and reaps (or, if it will not go, kills) the one bindfs process it started.
class FrozenDisk {
 public:
  FrozenDisk() {
    src_ = dir_.file("src");
    mnt_ = dir_.file("mnt");
    std::string out;
    if (access("/dev/fuse", R_OK | W_OK) != 0) {
      error_ = "/dev/fuse is missing or inaccessible (the Makefile's deps install fuse3)";
      return;
    }
    if (run_command("command -v bindfs", &out) != 0) {
      error_ = "bindfs is not installed (make deps installs it)";
      return;
    }
    if (run_command("mkdir -p '" + src_ + "' '" + mnt_ + "' && truncate -s 8M '" + src_ + "/disk.img'", &out) !=
        0) {
      error_ = "cannot create the backing file: " + out;
      return;
    }
    // Foreground, so the PID we get is the daemon's own; output goes to a log in the scratch directory.
    std::string log = dir_.file("bindfs.log");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    std::vector<std::string> args = {"bindfs", "-f", "--no-allow-other", src_, mnt_};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int rc = posix_spawnp(&pid_, "bindfs", &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
      pid_ = -1;
      error_ = std::string("cannot start bindfs: ") + std::strerror(rc);
      return;
    }
    for (int i = 0;; ++i) {
      if (run_command("mountpoint -q '" + mnt_ + "'") == 0) break;
      int st;
      if (waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        out.clear();
        run_command("cat '" + log + "'", &out);
        error_ = "bindfs exited before mounting: " + out;
        return;
      }
      if (i == 100) {
        error_ = "bindfs did not mount " + mnt_ + " within 5s";
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    mounted_ = true;
    // Direct I/O on the loop device makes every request reach the FUSE daemon (no page cache in between).
    loop_.emplace(mnt_ + "/disk.img", 8, 512, /*direct_io=*/true, /*create_file=*/false);
    if (!loop_->ok()) {
      std::string first = loop_->error();
      loop_.reset();
      loop_.emplace(mnt_ + "/disk.img", 8, 512, /*direct_io=*/false, /*create_file=*/false);
      if (!loop_->ok()) {
        error_ = "losetup over the FUSE file failed: " + first + " / " + loop_->error();
        loop_.reset();
        return;
      }
      direct_io_ = false;
    }
  }

  ~FrozenDisk() {
    resume();
    loop_.reset();  // losetup -d
    if (mounted_ && run_command("fusermount -u '" + mnt_ + "'") != 0) run_command("umount -l '" + mnt_ + "'");
    if (pid_ > 0) {
      // Unmounting ends a foreground bindfs; give it a moment, then insist (on our own PID only).
      for (int i = 0; i < 100; ++i) {
        int st;
        if (waitpid(pid_, &st, WNOHANG) == pid_) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      kill(pid_, SIGKILL);
      int st;
      waitpid(pid_, &st, 0);
    }
  }

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  std::string device() const { return loop_ ? loop_->device() : ""; }
  bool direct_io() const { return direct_io_; }
  pid_t pid() const { return pid_; }
  void stop() {
    if (pid_ > 0) kill(pid_, SIGSTOP);
  }
  void resume() const {
    if (pid_ > 0) kill(pid_, SIGCONT);
  }

 private:
  ScratchDir dir_;  // first, so it is removed last
  std::string src_, mnt_, error_;
  pid_t pid_ = -1;
  bool mounted_ = false;
  bool direct_io_ = true;
  std::optional<LoopDevice> loop_;
};

// Declared after the device in a test, so it runs first on every exit path: a device destructor with the
// daemon still frozen would wait for ever.
struct ResumeOnExit {
  const FrozenDisk& disk;
  ~ResumeOnExit() { disk.resume(); }
};

// Reaps until `want` completions arrived or `limit` passes; records when each was reported.
struct Reaped {
  IoCompletion c;
  TimePoint at;
};
std::vector<Reaped> reap_until(AioBlockDevice& dev, size_t want, TimePoint limit) {
  BootClock clock;
  std::vector<Reaped> got;
  std::vector<IoCompletion> done;
  for (;;) {
    done.clear();
    TimePoint now = clock.now();
    dev.reap(now, done);
    for (auto& c : done) got.push_back({c, now});
    if (got.size() >= want || now >= limit) return got;
    dev.wait(limit);
  }
}

// Reaps until the kernel has handed back every orphaned buffer (or `limit` passes); returns what reap reported.
std::vector<IoCompletion> drain_orphans(AioBlockDevice& dev, TimePoint limit) {
  BootClock clock;
  std::vector<IoCompletion> done;
  while (dev.orphaned() > 0 && clock.now() < limit) {
    dev.wait(limit);
    dev.reap(clock.now(), done);
  }
  return done;
}

bool same_bytes(std::span<const std::byte> a, std::span<const std::byte> b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

TEST_CASE("aio block device: round trip on a loop device, 512 and 4096-byte sectors (root)") {
  BootClock clock;
  for (int sector : {512, 4096}) {
    CAPTURE(sector);
    ScratchDir dir;
    LoopDevice loop(dir.file("disk.img"), 8, sector);
    REQUIRE_MESSAGE(loop.ok(), loop.error());
    auto dev = open_or_fail(loop.device(), Mode::read_write);
    CHECK(dev->name() == loop.device());
    CHECK(dev->geometry().logical_sector_size == uint32_t(sector));
    CHECK(dev->geometry().size_bytes == 8u << 20);
    CHECK(dev->completion_fd() >= 0);

    // Asynchronous path.
    auto data = pattern(4096, uint8_t(sector));
    TimePoint now = clock.now();
    REQUIRE(dev->submit_write(1, 8192, data, now, now + std::chrono::seconds(5)).ok());
    CHECK(dev->in_flight() == 1);
    auto w = reap_until(*dev, 1, now + std::chrono::seconds(6));
    REQUIRE(w.size() == 1);
    CHECK(w[0].c.tag == 1);
    CHECK(w[0].c.kind == IoKind::write);
    CHECK(w[0].c.offset == 8192);
    CHECK(w[0].c.length == 4096);
    CHECK_MESSAGE(w[0].c.status.ok(), w[0].c.status.to_string());
    CHECK(w[0].c.issued == now);

    std::vector<std::byte> back(4096, std::byte{0xEE});
    now = clock.now();
    REQUIRE(dev->submit_read(2, 8192, back, now, now + std::chrono::seconds(5)).ok());
    auto r = reap_until(*dev, 1, now + std::chrono::seconds(6));
    REQUIRE(r.size() == 1);
    CHECK(r[0].c.tag == 2);
    CHECK(r[0].c.kind == IoKind::read);
    CHECK_MESSAGE(r[0].c.status.ok(), r[0].c.status.to_string());
    CHECK(same_bytes(back, data));
    CHECK(dev->in_flight() == 0);

    // Blocking conveniences, a larger I/O than the preallocated buffers, and the last sectors of the device.
    auto big = pattern(256 * 1024, 7);
    Status st = write_blocking(*dev, clock, 1 << 20, big, std::chrono::seconds(5));
    CHECK_MESSAGE(st.ok(), st.to_string());
    std::vector<std::byte> big_back(big.size());
    st = read_blocking(*dev, clock, 1 << 20, big_back, std::chrono::seconds(5));
    CHECK_MESSAGE(st.ok(), st.to_string());
    CHECK(same_bytes(big_back, big));
    uint64_t last = dev->geometry().size_bytes - uint64_t(sector);
    auto tail = pattern(size_t(sector), 99);
    CHECK(write_blocking(*dev, clock, last, tail, std::chrono::seconds(5)).ok());
    std::vector<std::byte> tail_back(static_cast<size_t>(sector));
    CHECK(read_blocking(*dev, clock, last, tail_back, std::chrono::seconds(5)).ok());
    CHECK(same_bytes(tail_back, tail));
    // The first write is still there, read through a second, read-only handle.
    auto ro = open_or_fail(loop.device(), Mode::read_only);
    std::vector<std::byte> again(4096);
    CHECK(read_blocking(*ro, clock, 8192, again, std::chrono::seconds(5)).ok());
    CHECK(same_bytes(again, data));
    // Steady state reuses buffers: all of the above needed no more than were preallocated.
    CHECK(dev->buffers_allocated() == AioBlockDevice::kPreallocatedBuffers);
    CHECK(dev->orphaned() == 0);
  }
}

TEST_CASE("aio block device: misaligned and out-of-range I/O is refused without submitting (root)") {
  BootClock clock;
  ScratchDir dir;
  LoopDevice loop(dir.file("disk.img"), 8, 4096);
  REQUIRE_MESSAGE(loop.ok(), loop.error());
  auto dev = open_or_fail(loop.device(), Mode::read_write);
  const uint64_t size = dev->geometry().size_bytes;
  std::vector<std::byte> buf(16384);
  TimePoint now = clock.now(), dl = now + std::chrono::seconds(5);
  auto s = [&](size_t n) { return std::span<std::byte>(buf.data(), n); };
  auto cs = [&](size_t n) { return std::span<const std::byte>(buf.data(), n); };

  CHECK(dev->submit_read(1, 512, s(4096), now, dl).code() == Code::invalid_argument);   // offset misaligned
  CHECK(dev->submit_read(2, 4096, s(512), now, dl).code() == Code::invalid_argument);   // length misaligned
  CHECK(dev->submit_read(3, 4096, s(0), now, dl).code() == Code::invalid_argument);     // empty
  CHECK(dev->submit_write(4, 1000, cs(4096), now, dl).code() == Code::invalid_argument);
  CHECK(dev->submit_write(5, size, cs(4096), now, dl).code() == Code::invalid_argument);  // at the end
  CHECK(dev->submit_read(6, size - 4096, s(8192), now, dl).code() == Code::invalid_argument);  // straddles
  Status st = dev->submit_write(7, size + (1ull << 40), cs(4096), now, dl);
  CHECK(st.code() == Code::invalid_argument);
  CHECK(st.message().find(loop.device()) != std::string::npos);
  CHECK(dev->in_flight() == 0);
  std::vector<IoCompletion> done;
  dev->reap(clock.now(), done);
  CHECK(done.empty());
}

TEST_CASE("aio block device: open errors, regular files, read-only handles (root)") {
  BootClock clock;
  ScratchDir dir;

  auto missing = AioBlockDevice::open(dir.file("nope"), Mode::read_only);
  REQUIRE(!missing.ok());
  CHECK(missing.status().code() == Code::not_found);
  CHECK(missing.status().message().find(dir.file("nope")) != std::string::npos);

  auto chr = AioBlockDevice::open("/dev/zero", Mode::read_only);
  CHECK(!chr.ok());  // O_DIRECT refused, or not a block device: refused either way

  // A regular file: 512-byte sectors, size rounded down to whole sectors.
  REQUIRE(run_command("truncate -s 1049000 '" + dir.file("f.img") + "'") == 0);
  auto file = open_or_fail(dir.file("f.img"), Mode::read_write);
  CHECK(file->geometry().logical_sector_size == 512);
  CHECK(file->geometry().size_bytes == 1049000 / 512 * 512);
  auto data = pattern(4096, 3);
  Status st = write_blocking(*file, clock, 4096, data, std::chrono::seconds(5));
  CHECK_MESSAGE(st.ok(), st.to_string());
  std::vector<std::byte> back(4096);
  st = read_blocking(*file, clock, 4096, back, std::chrono::seconds(5));
  CHECK_MESSAGE(st.ok(), st.to_string());
  CHECK(same_bytes(back, data));

  // Read-only: a write is refused at submit (nothing reaches the kernel), reads work.
  LoopDevice loop(dir.file("disk.img"), 8);
  REQUIRE_MESSAGE(loop.ok(), loop.error());
  auto ro = open_or_fail(loop.device(), Mode::read_only);
  TimePoint now = clock.now();
  Status w = ro->submit_write(1, 0, data, now, now + std::chrono::seconds(5));
  CHECK(!w.ok());
  CHECK(w.code() == Code::permission_denied);
  CHECK(ro->in_flight() == 0);
  CHECK(!write_blocking(*ro, clock, 0, data, std::chrono::seconds(5)).ok());
  CHECK(read_blocking(*ro, clock, 0, back, std::chrono::seconds(5)).ok());
}

TEST_CASE("aio block device: hung I/O times out at its deadline, buffers stay orphaned, late write lands (root)") {
  FrozenDisk disk;
  REQUIRE_MESSAGE(disk.ok(), disk.error());
  BootClock clock;
  const auto kDeadline = std::chrono::milliseconds(200);
  auto dev = open_or_fail(disk.device(), Mode::read_write);
  ResumeOnExit resume_on_exit{disk};

  // Healthy first: the old contents at 8192 are pattern A.
  auto a = pattern(4096, 0xA0), b = pattern(4096, 0xB0);
  REQUIRE(write_blocking(*dev, clock, 8192, a, std::chrono::seconds(5)).ok());

  disk.stop();
  // Phase 1: a write of B and a read of the same sectors, both hung.
  std::vector<std::byte> read1(4096, std::byte{0xEE});
  TimePoint t0 = clock.now();
  REQUIRE(dev->submit_write(1, 8192, b, t0, t0 + kDeadline).ok());
  REQUIRE(dev->submit_read(2, 8192, read1, t0, t0 + kDeadline).ok());
  CHECK(dev->in_flight() == 2);
  auto got = reap_until(*dev, 2, t0 + std::chrono::seconds(3));
  REQUIRE(got.size() == 2);
  Duration worst{0};
  for (auto& g : got) {
    CAPTURE(g.c.tag);
    CHECK_MESSAGE(g.c.status.code() == Code::timeout, g.c.status.to_string());
    Duration latency = g.at - t0;
    worst = std::max(worst, latency);
    CHECK(latency >= kDeadline);                                 // not reported before the deadline
    CHECK(latency <= kDeadline + std::chrono::milliseconds(100));  // and promptly after it
  }
  CHECK(((got[0].c.tag == 1 && got[1].c.tag == 2) || (got[0].c.tag == 2 && got[1].c.tag == 1)));
  std::printf("[castor] aio hung I/O: timeout reported %.1fms after submit (deadline %lldms, loop direct-io %s)\n",
              double(worst.count()) / 1e6, static_cast<long long>(kDeadline.count()),
              disk.direct_io() ? "on" : "off");
  std::fflush(stdout);
  CHECK(dev->in_flight() == 0);
  CHECK(dev->orphaned() == 2);
  CHECK(dev->held_after_timeout() == 2);  // what quorumd counts as a stalled path's hold
  CHECK(read1 == std::vector<std::byte>(4096, std::byte{0xEE}));  // never touched after the timeout

  // Phase 2, still frozen: more writes elsewhere than there are free buffers, and another read. Were an
  // orphaned buffer back in the pool, one of these writes would copy its data over B before the kernel
  // sends B, and B would never land.
  const size_t n2 = AioBlockDevice::kPreallocatedBuffers;
  std::vector<std::vector<std::byte>> later;
  for (size_t i = 0; i < n2; ++i) later.push_back(pattern(4096, uint8_t(0xC0 + i)));
  std::vector<std::byte> read2(4096, std::byte{0xDD});
  TimePoint t1 = clock.now();
  for (size_t i = 0; i < n2; ++i)
    REQUIRE(dev->submit_write(10 + i, 16384 + 4096 * i, later[i], t1, t1 + kDeadline).ok());
  REQUIRE(dev->submit_read(9, 8192, read2, t1, t1 + kDeadline).ok());
  got = reap_until(*dev, n2 + 1, t1 + std::chrono::seconds(3));
  REQUIRE(got.size() == n2 + 1);
  for (auto& g : got) CHECK_MESSAGE(g.c.status.code() == Code::timeout, g.c.status.to_string());
  CHECK(dev->orphaned() == n2 + 3);
  CHECK(dev->buffers_allocated() == n2 + 3);  // one distinct buffer per I/O the kernel still holds

  // Thaw: the late events come back, release their buffers, and are not reported a second time.
  disk.resume();
  auto late = drain_orphans(*dev, clock.now() + std::chrono::seconds(10));
  CHECK(late.empty());
  CHECK(dev->orphaned() == 0);
  CHECK(dev->held_after_timeout() == 0);
  CHECK(dev->in_flight() == 0);
  CHECK(read1 == std::vector<std::byte>(4096, std::byte{0xEE}));
  CHECK(read2 == std::vector<std::byte>(4096, std::byte{0xDD}));

  // The pool takes new I/O again, and the late writes landed: B at 8192, the others after 16384.
  std::vector<std::byte> back(4096);
  Status st = read_blocking(*dev, clock, 8192, back, std::chrono::seconds(5));
  REQUIRE_MESSAGE(st.ok(), st.to_string());
  CHECK(same_bytes(back, b));
  for (size_t i = 0; i < n2; ++i) {
    st = read_blocking(*dev, clock, 16384 + 4096 * i, back, std::chrono::seconds(5));
    REQUIRE_MESSAGE(st.ok(), st.to_string());
    CHECK(same_bytes(back, later[i]));
  }
  CHECK(dev->buffers_allocated() <= AioBlockDevice::kQueueDepth);
}

TEST_CASE("aio block device: queue cap, orphan cleanup and destruction with I/O outstanding (root)") {
  FrozenDisk disk;
  REQUIRE_MESSAGE(disk.ok(), disk.error());
  BootClock clock;
  const auto kDeadline = std::chrono::milliseconds(100);
  auto data = pattern(4096, 0x11);

  SUBCASE("fill the queue, time everything out, then reuse the pool") {
    auto dev = open_or_fail(disk.device(), Mode::read_write);
    ResumeOnExit resume_on_exit{disk};
    disk.stop();
    std::vector<std::vector<std::byte>> reads(AioBlockDevice::kQueueDepth / 2, std::vector<std::byte>(4096));
    TimePoint t0 = clock.now();
    for (uint64_t i = 0; i < AioBlockDevice::kQueueDepth; ++i) {
      uint64_t off = (i % 16) * 4096;
      Status st = i % 2 ? dev->submit_read(i, off, reads[i / 2], t0, t0 + kDeadline)
                        : dev->submit_write(i, off, data, t0, t0 + kDeadline);
      REQUIRE_MESSAGE(st.ok(), st.to_string());
    }
    CHECK(dev->in_flight() == AioBlockDevice::kQueueDepth);
    // Past the cap: busy, nothing submitted.
    CHECK(dev->submit_write(999, 0, data, t0, t0 + kDeadline).code() == Code::busy);
    auto got = reap_until(*dev, AioBlockDevice::kQueueDepth, t0 + std::chrono::seconds(3));
    CHECK(got.size() == AioBlockDevice::kQueueDepth);
    for (auto& g : got) CHECK(g.c.status.code() == Code::timeout);
    CHECK(dev->orphaned() == AioBlockDevice::kQueueDepth);
    // Orphans still hold every buffer: still busy.
    CHECK(dev->submit_read(1000, 0, reads[0], clock.now(), clock.now() + kDeadline).code() == Code::busy);

    disk.resume();
    auto late = drain_orphans(*dev, clock.now() + std::chrono::seconds(10));
    CHECK(late.empty());
    CHECK(dev->orphaned() == 0);
    CHECK(dev->buffers_allocated() == AioBlockDevice::kQueueDepth);
    std::vector<std::byte> back(4096);
    Status st = read_blocking(*dev, clock, 0, back, std::chrono::seconds(5));
    CHECK_MESSAGE(st.ok(), st.to_string());
    CHECK(same_bytes(back, data));
  }

  SUBCASE("destroy after thawing with late events not yet reaped") {
    auto dev = open_or_fail(disk.device(), Mode::read_write);
    ResumeOnExit resume_on_exit{disk};
    disk.stop();
    std::vector<std::vector<std::byte>> reads(8, std::vector<std::byte>(4096));
    TimePoint t0 = clock.now();
    for (uint64_t i = 0; i < 16; ++i) {
      Status st = i % 2 ? dev->submit_read(i, i * 4096, reads[i / 2], t0, t0 + kDeadline)
                        : dev->submit_write(i, i * 4096, data, t0, t0 + kDeadline);
      REQUIRE(st.ok());
    }
    auto got = reap_until(*dev, 16, t0 + std::chrono::seconds(3));
    CHECK(got.size() == 16);
    CHECK(dev->orphaned() == 16);
    disk.resume();
    dev.reset();  // io_destroy waits for the kernel; only then are the buffers freed
  }

  SUBCASE("destroy while still frozen waits for the kernel") {
    auto dev = open_or_fail(disk.device(), Mode::read_write);
    ResumeOnExit resume_on_exit{disk};
    disk.stop();
    std::vector<std::byte> read(4096);
    TimePoint t0 = clock.now();
    REQUIRE(dev->submit_write(1, 0, data, t0, t0 + kDeadline).ok());
    REQUIRE(dev->submit_read(2, 4096, read, t0, t0 + kDeadline).ok());
    auto got = reap_until(*dev, 1, t0 + kDeadline / 2);  // one still in flight, the other not yet due
    CHECK(got.empty());
    std::thread thaw([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      disk.resume();
    });
    TimePoint before = clock.now();
    dev.reset();
    Duration took = clock.now() - before;
    thaw.join();
    CHECK(took >= std::chrono::milliseconds(250));  // it waited for the frozen I/O instead of freeing under it
  }
}

// Regression (issue 12, item 7): quorumd stamped completions with a clock read taken before io_getevents,
// so a pause of the process between the two made an I/O look finished earlier than it was seen (a read of
// the peer's heartbeat then counts the dead time from too early). reap_with_clock reads the clock after
// io_getevents; the test pauses (advances a fake clock) right after io_getevents.
TEST_CASE("aio block device: completions are stamped with a clock read after io_getevents (root)") {
  ScratchDir dir;
  LoopDevice loop(dir.file("disk.img"), 8, 512);
  REQUIRE_MESSAGE(loop.ok(), loop.error());
  auto dev = open_or_fail(loop.device(), Mode::read_write);
  FakeClock fake;
  const TimePoint t0 = fake.now();
  std::vector<std::byte> buf(4096);

  auto finished_in_kernel = [&] {
    struct pollfd p = {dev->completion_fd(), POLLIN, 0};
    REQUIRE(::poll(&p, 1, 5000) == 1);  // the kernel has finished the I/O; the event waits in the ring
  };

  SUBCASE("a pause shorter than the deadline: ok, stamped after the pause") {
    REQUIRE(dev->submit_read(1, 8192, buf, t0, t0 + Millis(200)).ok());
    finished_in_kernel();
    dev->set_after_getevents_hook_for_test([&] { fake.advance(Millis(50)); });
    std::vector<IoCompletion> out;
    const TimePoint now = dev->reap_with_clock(fake, out);
    CHECK(now == t0 + Millis(50));
    REQUIRE(out.size() == 1);
    CHECK_MESSAGE(out[0].status.ok(), out[0].status.to_string());
    CHECK(out[0].issued == t0);
  }
  SUBCASE("a pause past the deadline: the I/O was not seen in time, it is a timeout") {
    REQUIRE(dev->submit_read(2, 8192, buf, t0, t0 + Millis(200)).ok());
    finished_in_kernel();
    dev->set_after_getevents_hook_for_test([&] { fake.advance(Millis(300)); });
    std::vector<IoCompletion> out;
    const TimePoint now = dev->reap_with_clock(fake, out);
    CHECK(now == t0 + Millis(300));
    REQUIRE(out.size() == 1);
    CHECK(out[0].status.code() == Code::timeout);
    CHECK(dev->orphaned() == 0);  // the kernel had finished: nothing is left with it
  }
}
