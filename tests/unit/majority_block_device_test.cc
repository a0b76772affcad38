// MajorityBlockDevice: three quorum devices, a majority of which must answer (issue 17, rules W1-W4,
// R1-R5, status). Every device fault of the issue, one device at a time, leaves writes completing and reads
// returning the latest value; two devices lost leave neither.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "disk/life_number.h"
#include "disk/majority_block_device.h"
#include "tests/support/majority_rig.h"

using namespace castor;

namespace {

constexpr Duration kTimeout = testing::kMajorityTimeout;
Uuid cluster_uuid() { return testing::majority_rig_cluster(); }
using Node = testing::MajorityView;

// The shared rig (tests/support/majority_rig.h) with two views, n1 and n2, and heartbeat-named helpers.
struct Rig : testing::MajorityRig {
  Node n1, n2;
  explicit Rig(size_t n = 3) : MajorityRig(n) {
    n1 = view("n1");
    n2 = view("n2");
  }
  Node make_node(const std::string& name) { return view(name); }
  std::vector<std::byte> record(uint32_t writer, uint64_t inc, uint64_t seq, uint64_t offset = 0) const {
    return record_at(offset ? offset : hb(writer), inc, seq);
  }
  std::optional<RecordHeader> on_disk(size_t i, uint64_t offset) const {
    auto h = verify_block(std::span(disks[i]->bytes).subspan(offset, layout.block_size()),
                          {RecordType::heartbeat, layout.block_size(), ExpectedRecord::kAnyWriter}, seal);
    if (!h.ok()) return std::nullopt;
    return *h;
  }
  Status write(Node& node, uint32_t writer, uint64_t inc, uint64_t seq) { return write_at(node, hb(writer), inc, seq); }
  Result<RecordHeader> read(Node& node, uint32_t owner) { return read_at(node, hb(owner)); }
};

enum class Fault { hang, eio, read_only, zeroed, garbage, slow, detached };
const char* fault_name(Fault f) {
  switch (f) {
    case Fault::hang: return "hang";
    case Fault::eio: return "eio";
    case Fault::read_only: return "read-only";
    case Fault::zeroed: return "zeroed";
    case Fault::garbage: return "garbage";
    case Fault::slow: return "slow";
    case Fault::detached: return "detached";
  }
  return "?";
}

// Applies `f` to device i on both nodes' paths (and to its contents). Called again before every round
// for the faults that are damage to the contents (they keep happening).
void apply(Rig& r, Fault f, size_t i) {
  for (Node* n : {&r.n1, &r.n2}) {
    switch (f) {
      case Fault::hang: n->path[i]->hang_all(); break;
      case Fault::eio: n->path[i]->fail_all(); break;
      case Fault::read_only: n->mem[i]->set_read_only(true); break;
      case Fault::slow: n->path[i]->delay_all(Millis(700)); break;  // late, but inside the 1 s deadline
      case Fault::detached:
        n->path[i]->set_policy([](IoKind, uint64_t, size_t, TimePoint) {
          return FaultDecision{FaultDecision::Kind::fail};  // ENXIO on every I/O: the path is gone
        });
        break;
      default: break;
    }
  }
  if (f == Fault::zeroed) std::fill(r.disks[i]->bytes.begin(), r.disks[i]->bytes.end(), std::byte{0});
  if (f == Fault::garbage)
    for (size_t k = 0; k < r.disks[i]->bytes.size(); ++k) r.disks[i]->bytes[k] = std::byte((k * 131 + 17) >> 3);
}

}  // namespace

TEST_CASE("majority device: geometry is the smallest device; sector sizes must match; n odd and >= 3") {
  DiskLayout l = *DiskLayout::for_sector_size(512);
  auto mk = [&](uint32_t ss, uint64_t size) {
    return std::make_unique<MemoryBlockDevice>(std::make_shared<MemoryDisk>(ss, size), "d" + std::to_string(size));
  };
  {
    std::vector<std::unique_ptr<BlockDevice>> v;
    v.push_back(mk(512, l.required_bytes() + 8192));
    v.push_back(mk(512, l.required_bytes()));
    v.push_back(mk(512, l.required_bytes() + 4096));
    auto d = MajorityBlockDevice::create(std::move(v), RecordSeal::crc_only(), cluster_uuid(), "m");
    REQUIRE(d.ok());
    CHECK((*d)->geometry().size_bytes == l.required_bytes());
    CHECK((*d)->geometry().logical_sector_size == 512);
    CHECK((*d)->completion_fd() == -1);  // memory devices have none
  }
  {
    std::vector<std::unique_ptr<BlockDevice>> v;
    v.push_back(mk(512, 1 << 21));
    v.push_back(mk(4096, 1 << 21));
    v.push_back(mk(512, 1 << 21));
    auto d = MajorityBlockDevice::create(std::move(v), RecordSeal::crc_only(), cluster_uuid(), "m");
    CHECK(d.status().code() == Code::unsupported);
    CHECK(d.status().message().find("sector size") != std::string::npos);
  }
  {
    std::vector<std::unique_ptr<BlockDevice>> v;
    v.push_back(mk(512, 1 << 21));
    v.push_back(mk(512, 1 << 21));
    CHECK(MajorityBlockDevice::create(std::move(v), RecordSeal::crc_only(), cluster_uuid(), "m").status().code() ==
          Code::invalid_argument);
  }
  {
    std::vector<std::unique_ptr<BlockDevice>> v;
    for (int i = 0; i < 3; ++i) v.push_back(mk(512, 4096 * 8));
    CHECK_FALSE(MajorityBlockDevice::create(std::move(v), RecordSeal::crc_only(), cluster_uuid(), "m").ok());
  }
}

TEST_CASE("majority device: writes into the header area are refused") {
  Rig r;
  std::vector<std::byte> b(r.bs());
  CHECK(r.n1.dev->submit_write(1, 0, b, r.clock.now(), r.clock.now() + kTimeout).code() == Code::invalid_argument);
  CHECK(r.n1.dev->submit_write(1, r.bs(), b, r.clock.now(), r.clock.now() + kTimeout).code() == Code::invalid_argument);
}

TEST_CASE("majority device: each device in turn failing in each way: every write ok, every read the latest") {
  for (Fault f : {Fault::hang, Fault::eio, Fault::read_only, Fault::zeroed, Fault::garbage, Fault::slow,
                  Fault::detached}) {
    for (size_t bad = 0; bad < 3; ++bad) {
      CAPTURE(fault_name(f));
      CAPTURE(bad);
      Rig r;
      REQUIRE(r.write(r.n1, 1, 77, 1).ok());
      REQUIRE(r.write(r.n2, 2, 88, 1).ok());
      apply(r, f, bad);
      for (uint64_t s = 2; s < 30; ++s) {
        CHECK(r.write(r.n1, 1, 77, s).ok());
        CHECK(r.write(r.n2, 2, 88, s).ok());
        if (f == Fault::zeroed || f == Fault::garbage) apply(r, f, bad);  // the damage keeps happening
        auto peer = r.read(r.n2, 1);
        REQUIRE(peer.ok());
        CHECK(peer->incarnation == 77);
        CHECK(peer->seq == s);
        auto own = r.read(r.n1, 1);
        REQUIRE(own.ok());
        CHECK(own->incarnation == 77);
        CHECK(own->seq == s);
        r.settle(r.n1, Millis(400));  // time passes between rounds: a slow device's I/Os finish in it
        r.settle(r.n2, Millis(400));
      }
      // A stalled device never grows without bound (W4) and never counts as a majority stall.
      for (Node* n : {&r.n1, &r.n2}) {
        CHECK(n->dev->health(bad).in_flight <= MajorityBlockDevice::kMaxPerDevice);
        CHECK(n->dev->held_after_timeout() == 0);
        CHECK(n->dev->held_by_kernel() == 0);
      }
      if (f != Fault::slow) CHECK(r.n1.dev->degraded());
      if (f == Fault::slow) CHECK_FALSE(r.n1.dev->degraded());
    }
  }
}

TEST_CASE("majority device: two of three failed: writes fail or time out, reads fail") {
  for (Fault f : {Fault::hang, Fault::eio, Fault::read_only, Fault::zeroed, Fault::detached}) {
    CAPTURE(fault_name(f));
    Rig r;
    REQUIRE(r.write(r.n1, 1, 77, 1).ok());
    apply(r, f, 0);
    apply(r, f, 2);
    Status w = r.write(r.n1, 1, 77, 2);
    if (f == Fault::zeroed) {
      CHECK(w.ok());  // zeroed devices still take writes: the write heals them
      apply(r, f, 0);
      apply(r, f, 2);
      auto rd = r.read(r.n2, 1);  // a majority answered, none valid but one: corrupt or never written
      CHECK_FALSE(rd.ok());
      continue;
    }
    CHECK_FALSE(w.ok());
    CHECK((w.code() == Code::io_error || w.code() == Code::timeout));
    if (f == Fault::hang) CHECK(w.code() == Code::timeout);
    if (f == Fault::eio) {
      CHECK(w.code() == Code::io_error);
      CHECK(w.message().find("n1-dev0") != std::string::npos);  // names the devices
      CHECK(w.message().find("n1-dev2") != std::string::npos);
    }
    auto rd = r.read(r.n2, 1);
    if (f == Fault::read_only) {
      CHECK(rd.ok());  // read-only devices still answer reads: the last value that made it
      continue;
    }
    CHECK_FALSE(rd.ok());
    if (f == Fault::hang) {
      CHECK(r.n1.dev->held_after_timeout() > 0);  // a stalled majority is the one-disk stalled path
      CHECK(r.n1.dev->held_by_kernel() > 0);
    }
  }
}

TEST_CASE("majority device W2: a write completes at the majority-th ok, not before") {
  Rig r;
  r.n1.path[0]->delay_all(Millis(100));
  r.n1.path[1]->delay_all(Millis(300));
  r.n1.path[2]->delay_all(Millis(600));
  auto b = r.record(1, 5, 1);
  REQUIRE(r.n1.dev->submit_write(9, r.hb(1), b, r.clock.now(), r.clock.now() + kTimeout).ok());
  const TimePoint t0 = r.clock.now();
  CHECK(r.drive(r.n1, 9).ok());
  CHECK(r.clock.now() - t0 == Millis(300));
}

TEST_CASE("majority device W3: a device's ok seen at or after the composite deadline does not count") {
  Rig r;
  r.n1.path[0]->delay_all(Millis(100));
  r.n1.path[1]->delay_all(Millis(1000));  // exactly at the deadline
  r.n1.path[2]->fail_all();
  auto b = r.record(1, 5, 1);
  REQUIRE(r.n1.dev->submit_write(9, r.hb(1), b, r.clock.now(), r.clock.now() + kTimeout).ok());
  CHECK(r.drive(r.n1, 9).code() == Code::timeout);
}

TEST_CASE("majority device W1: per device, writes of one block land in the order issued") {
  Rig r;
  // Device 2's first write is slow, the second fast: submitted at once, the older one would land last.
  int writes = 0;
  std::vector<uint64_t> order;
  r.n1.path[2]->set_policy([&](IoKind k, uint64_t, size_t, TimePoint) {
    if (k != IoKind::write) return FaultDecision{};
    return FaultDecision{FaultDecision::Kind::pass, ++writes == 1 ? Millis(500) : Millis(0)};
  });
  auto b1 = r.record(1, 5, 1), b2 = r.record(1, 5, 2);
  REQUIRE(r.n1.dev->submit_write(1, r.hb(1), b1, r.clock.now(), r.clock.now() + kTimeout).ok());
  REQUIRE(r.n1.dev->submit_write(2, r.hb(1), b2, r.clock.now(), r.clock.now() + kTimeout).ok());
  CHECK(r.n1.dev->health(2).queued == 1);  // the second waits for the first on device 2
  CHECK(r.drive(r.n1, 2).ok());
  r.settle(r.n1);
  REQUIRE(r.on_disk(2, r.hb(1)));
  CHECK(r.on_disk(2, r.hb(1))->seq == 2);  // converged to the latest, never rolled back
  CHECK(writes == 2);
}

TEST_CASE("majority device W1/W4: a stalled device's queue is coalesced and bounded; it converges to the latest") {
  Rig r;
  int writes_to_2 = 0;
  bool hung = true;
  r.n1.path[2]->set_policy([&](IoKind k, uint64_t, size_t, TimePoint) {
    if (k == IoKind::write) ++writes_to_2;
    return hung ? FaultDecision{FaultDecision::Kind::hang} : FaultDecision{};
  });
  for (uint64_t s = 1; s <= 60; ++s) {
    CHECK(r.write(r.n1, 1, 5, s).ok());
    std::vector<std::byte> b(r.bs());
    REQUIRE(r.n1.dev->submit_read(1000 + s, r.hb(1), b, r.clock.now(), r.clock.now() + kTimeout).ok());
    CHECK(r.drive(r.n1, 1000 + s).ok());
  }
  const DeviceHealth h = r.n1.dev->health(2);
  CHECK(h.in_flight == MajorityBlockDevice::kMaxPerDevice);  // W4: it takes no more
  CHECK_FALSE(h.answering);
  CHECK(h.queued == 1);                                     // W1: sixty writes of one block, one queued
  CHECK(writes_to_2 == 1);                                  // only the first reached it
  CHECK(r.n1.dev->total_held() == MajorityBlockDevice::kMaxPerDevice + 1);
  CHECK(r.n1.dev->held_by_kernel() == 0);  // the majority-th smallest: one stalled device holds nothing up
  CHECK(r.n1.dev->held_after_timeout() == 0);
  r.settle(r.n1);  // their deadlines pass
  CHECK(r.n1.dev->held_after_timeout() == 0);
  CHECK(r.n1.dev->degraded());
  CHECK(r.n1.dev->health(2).failing_since.has_value());
  // The path comes back: the hung I/Os land, then the one coalesced write: the newest value.
  hung = false;
  r.n1.path[2]->release_hung(r.clock.now());
  r.settle(r.n1, Millis(5));
  CHECK(writes_to_2 == 2);
  REQUIRE(r.on_disk(2, r.hb(1)));
  CHECK(r.on_disk(2, r.hb(1))->seq == 60);
  CHECK(r.n1.dev->total_held() == 0);
  CHECK(r.write(r.n1, 1, 5, 61).ok());
  CHECK(r.n1.dev->degraded());  // its reads timed out, and none answered in time since
  CHECK(r.read(r.n1, 1).ok());
  CHECK_FALSE(r.n1.dev->degraded());  // a write and a read ok since
}

TEST_CASE("majority device R1: the caller's read buffer is never touched after the composite timed out") {
  Rig r;
  REQUIRE(r.write(r.n1, 1, 5, 1).ok());
  r.n2.path[0]->hang_all();
  r.n2.path[1]->hang_all();
  std::vector<std::byte> b(r.bs(), std::byte{0xAB});
  REQUIRE(r.n2.dev->submit_read(3, r.hb(1), b, r.clock.now(), r.clock.now() + kTimeout).ok());
  CHECK(r.drive(r.n2, 3).code() == Code::timeout);
  r.n2.path[0]->release_hung(r.clock.now());
  r.n2.path[1]->release_hung(r.clock.now());
  r.settle(r.n2, Millis(10));
  CHECK(std::all_of(b.begin(), b.end(), [](std::byte x) { return x == std::byte{0xAB}; }));
  // The late answers are judged for health only: they take part in no choice (nothing was handed out).
  CHECK(r.n2.dev->chooser().remembered(0, r.hb(1)).has_value());
  CHECK_FALSE(r.n2.dev->chooser().handed_out(r.hb(1)).has_value());
}

TEST_CASE("majority device R3: a never-written block reads as never written once every device answered") {
  Rig r;
  auto rd = r.read(r.n2, 1);
  CHECK(rd.status().code() == Code::not_found);
  // One device stalled: a majority answered, the outcome waits for the deadline, then the same.
  r.n2.path[1]->hang_all();
  const TimePoint t0 = r.clock.now();
  rd = r.read(r.n2, 1);
  CHECK(rd.status().code() == Code::not_found);
  CHECK(r.clock.now() - t0 == kTimeout);
}

TEST_CASE("majority device R4: a lagging device never rolls a value back") {
  Rig r;
  REQUIRE(r.write(r.n1, 1, 5, 1).ok());
  // Seq 2 lands on device 0 only (the write fails on the others): the reader sees it, from one device.
  r.n1.path[1]->fail_all();
  r.n1.path[2]->fail_all();
  CHECK_FALSE(r.write(r.n1, 1, 5, 2).ok());
  auto rd = r.read(r.n2, 1);
  REQUIRE(rd.ok());
  CHECK(rd->seq == 2);
  // Device 0 goes away; the two lagging devices hold seq 1: the value stays seq 2.
  r.n2.path[0]->fail_all();
  rd = r.read(r.n2, 1);
  REQUIRE(rd.ok());
  CHECK(rd->seq == 2);
}

// Ordered lives (lib/disk/life_number.h): the peer is handed the latest life; but our own read of our own block
// shows another writer whose copy landed, after one of ours, on a device -- whatever its life -- as one disk
// would show the record that landed last: QuorumCore's own-read check fences on it.
TEST_CASE("majority device R4: another writer on one's own block: the peer is handed the later life, our own read shows the other writer") {
  Rig r;
  const uint64_t mine = make_incarnation(5, 0xAAAA), earlier = make_incarnation(3, 0xFFFF), later = make_incarnation(7, 1);
  REQUIRE(r.write(r.n1, 1, mine, 1).ok());
  auto own = r.read(r.n1, 1);
  CHECK(own->incarnation == mine);
  // An undead earlier life of this node writes on device 0 (after ours landed there), with a far higher seq.
  r.put(0, r.hb(1), r.record(1, earlier, 50));
  auto peer = r.read(r.n2, 1);
  REQUIRE(peer.ok());
  CHECK(peer->incarnation == mine);  // the peer: never an earlier life over a later one
  own = r.read(r.n1, 1);
  REQUIRE(own.ok());
  CHECK(own->incarnation == earlier);  // ours: "another writer on my heartbeat block" (the core fences)
  // We write again (landing on every device): our own read shows ours again.
  REQUIRE(r.write(r.n1, 1, mine, 2).ok());
  own = r.read(r.n1, 1);
  CHECK(own->incarnation == mine);
  // A later life (another process with our node id, started after us) on two devices: both see it.
  auto newer = r.record(1, later, 1);
  r.put(0, r.hb(1), newer);
  r.put(1, r.hb(1), newer);
  CHECK(r.read(r.n1, 1)->incarnation == later);
  CHECK(r.read(r.n2, 1)->incarnation == later);
}

// A device that never took our write of the block (it lags, or was replaced) holding another incarnation is no
// other writer: it may hold anything older.
TEST_CASE("majority device R4: another incarnation on a device that never took our write of the block is no other writer") {
  Rig r;
  const uint64_t earlier = make_incarnation(2, 9), mine = make_incarnation(4, 1);
  REQUIRE(r.write(r.n1, 1, earlier, 8).ok());  // an earlier life, on every device
  r.n1.path[2]->set_policy([](IoKind k, uint64_t, size_t, TimePoint) {
    return k == IoKind::write ? FaultDecision{FaultDecision::Kind::fail} : FaultDecision{};
  });
  REQUIRE(r.write(r.n1, 1, mine, 1).ok());  // on devices 0 and 1 only
  r.n1.path[0]->fail_all();                 // our read is answered by device 1 (ours) and device 2 (earlier)
  auto own = r.read(r.n1, 1);
  REQUIRE(own.ok());
  CHECK(own->incarnation == mine);
}

TEST_CASE("majority device R4: our earlier life's write landing late on a lagging device is never news") {
  Rig r;
  const uint64_t life5 = make_incarnation(5, 0xFFFFFFFF), life9 = make_incarnation(9, 0);
  for (uint64_t s = 1; s <= 4; ++s) REQUIRE(r.write(r.n1, 1, life5, s).ok());
  CHECK(r.read(r.n1, 1)->seq == 4);
  // Device 2 stalls for writes (reads still answer): seq 5 of life 5 hangs there, then our next life starts.
  r.n1.path[2]->set_policy([](IoKind k, uint64_t, size_t, TimePoint) {
    return k == IoKind::write ? FaultDecision{FaultDecision::Kind::hang} : FaultDecision{};
  });
  REQUIRE(r.write(r.n1, 1, life5, 5).ok());
  REQUIRE(r.write(r.n1, 1, life9, 1).ok());
  auto own = r.read(r.n1, 1);
  CHECK(own->incarnation == life9);
  // The hung seq 5 lands on device 2 now, and a fresh reader is answered by it and a device with life 9.
  r.put(2, r.hb(1), r.record(1, life5, 5));
  own = r.read(r.n1, 1);
  CHECK(own->incarnation == life9);
  CHECK(own->seq == 1);
  r.n2.path[0]->fail_all();
  auto fresh = r.read(r.n2, 1);
  REQUIRE(fresh.ok());
  CHECK(fresh->incarnation == life9);
}

TEST_CASE("majority device: held_after_timeout counts a stalled majority only") {
  Rig r;
  r.n1.path[2]->hang_all();
  for (uint64_t s = 1; s <= 5; ++s) CHECK(r.write(r.n1, 1, 5, s).ok());
  r.settle(r.n1);
  CHECK(r.n1.dev->health(2).in_flight == 1);
  CHECK(r.n1.dev->held_after_timeout() == 0);
  r.n1.path[1]->hang_all();
  CHECK(r.write(r.n1, 1, 5, 6).code() == Code::timeout);
  CHECK(r.n1.dev->held_after_timeout() == 1);
  CHECK(r.n1.dev->held_by_kernel() == 1);
  CHECK(r.n1.dev->total_held() == 3);  // device 2: the first write in flight and the coalesced one queued
}

TEST_CASE("majority device: health names the failing device, its error, counts and latency") {
  Rig r;
  r.n1.path[1]->fail_all();
  r.n1.path[0]->delay_all(Millis(20));
  CHECK(r.write(r.n1, 1, 5, 1).ok());
  CHECK(r.read(r.n1, 1).ok());
  const DeviceHealth bad = r.n1.dev->health(1);
  CHECK(bad.name == "n1-dev1");
  CHECK(bad.writes_failed == 1);
  CHECK(bad.reads_failed == 1);
  CHECK(bad.last_error.find("injected I/O error") != std::string::npos);
  CHECK(bad.failing_since.has_value());
  const DeviceHealth good = r.n1.dev->health(0);
  CHECK(good.writes_ok == 1);
  CHECK(good.reads_ok == 1);
  CHECK(good.last_ok_latency == Millis(20));
  CHECK(good.worst_latency_last_minute == Millis(20));
  CHECK_FALSE(good.failing_since.has_value());
  r.put(2, r.hb(1), std::vector<std::byte>(r.bs(), std::byte{0x11}));
  CHECK(r.read(r.n1, 1).ok());
  CHECK(r.n1.dev->health(2).invalid_blocks == 1);
  CHECK(r.n1.dev->degraded());
}

TEST_CASE("majority device: replace_device parks the old device's I/Os and starts the new one with no memory") {
  Rig r;
  REQUIRE(r.write(r.n1, 1, 5, 1).ok());
  REQUIRE(r.read(r.n1, 1).ok());
  CHECK(r.n1.dev->chooser().remembered(2, r.hb(1)).has_value());
  r.n1.path[2]->hang_all();
  REQUIRE(r.write(r.n1, 1, 5, 2).ok());
  FaultyBlockDevice* old = r.n1.path[2];
  // A read in flight when the device is replaced no longer waits for it.
  r.n1.path[0]->hang_all();
  std::vector<std::byte> b(r.bs());
  REQUIRE(r.n1.dev->submit_read(77, r.hb(1), b, r.clock.now(), r.clock.now() + kTimeout).ok());
  auto fresh_disk = std::make_shared<MemoryDisk>(512, r.layout.required_bytes());
  CHECK(r.n1.dev->replace_device(2, std::make_unique<MemoryBlockDevice>(fresh_disk, "new-dev2")).ok());
  CHECK(r.n1.dev->parked() == 1);
  CHECK_FALSE(r.n1.dev->chooser().remembered(2, r.hb(1)).has_value());
  CHECK(r.n1.dev->health(2).name == "new-dev2");
  Status st = r.drive(r.n1, 77);
  CHECK(st.code() == Code::timeout);  // device 0 hung, device 2 replaced: one answer of three
  r.n1.path[0]->pass_all();
  r.n1.path[0]->release_hung(r.clock.now());
  // Writes go to the new device.
  CHECK(r.write(r.n1, 1, 5, 3).ok());
  auto h = verify_block(std::span(fresh_disk->bytes).subspan(r.hb(1), r.bs()),
                        {RecordType::heartbeat, r.bs(), 1}, r.seal);
  REQUIRE(h.ok());
  CHECK(h->seq == 3);
  // The old device returns its I/Os: parked no more. Nothing new was ever sent to it.
  old->release_hung(r.clock.now());
  r.settle(r.n1, Millis(3));
  CHECK(r.n1.dev->parked() == 0);
  CHECK(r.n1.dev->total_held() == 0);
  // Refused: another sector size.
  CHECK(r.n1.dev->replace_device(1, std::make_unique<MemoryBlockDevice>(
                                          std::make_shared<MemoryDisk>(4096, 1 << 22), "x"))
            .code() == Code::unsupported);
}

TEST_CASE("majority device W4: a stalled device takes at most kMaxPerDevice writes of distinct blocks, the rest wait") {
  Rig r;
  r.n1.path[2]->hang_all();
  std::vector<uint64_t> tags;
  for (uint32_t k = 0; k < kServiceTableBlocks; ++k) {
    const uint64_t off = r.layout.service_table_offset(1) + uint64_t(k) * r.bs();
    auto b = r.record(1, 5, 1 + k, off);
    tags.push_back(r.next_tag++);
    REQUIRE(r.n1.dev->submit_write(tags.back(), off, b, r.clock.now(), r.clock.now() + kTimeout).ok());
  }
  for (uint64_t t : tags) CHECK(r.drive(r.n1, t).ok());
  CHECK(r.n1.dev->health(2).in_flight == MajorityBlockDevice::kMaxPerDevice);
  CHECK(r.n1.dev->health(2).queued == kServiceTableBlocks - MajorityBlockDevice::kMaxPerDevice);
  // Its reads are skipped, not queued: a read still completes on the other two.
  CHECK(r.read(r.n1, 1).status().code() == Code::not_found);
  CHECK(r.n1.dev->health(2).in_flight == MajorityBlockDevice::kMaxPerDevice);
  // It comes back: the queue drains, every block lands.
  r.n1.path[2]->pass_all();
  r.n1.path[2]->release_hung(r.clock.now());
  r.settle(r.n1, Millis(5));
  CHECK(r.n1.dev->total_held() == 0);
  for (uint32_t k = 0; k < kServiceTableBlocks; ++k) {
    const uint64_t off = r.layout.service_table_offset(1) + uint64_t(k) * r.bs();
    auto h = verify_block(std::span(r.disks[2]->bytes).subspan(off, r.bs()),
                          {RecordType::service_table, r.bs(), 1}, r.seal);
    REQUIRE(h.ok());
    CHECK(h->seq == 1 + k);
  }
}

TEST_CASE("majority device R3: a read after a completed write returns it even when the fastest device lags") {
  Rig r;
  REQUIRE(r.write(r.n1, 1, 5, 1).ok());
  REQUIRE(r.read(r.n2, 1)->seq == 1);
  // Seq 2 completes on devices 1 and 2; device 0 (the reader's fastest) keeps seq 1.
  r.n1.path[0]->fail_all();
  REQUIRE(r.write(r.n1, 1, 5, 2).ok());
  r.n2.path[1]->delay_all(Millis(100));
  r.n2.path[2]->delay_all(Millis(150));
  auto rd = r.read(r.n2, 1);  // one fresh valid answer is not enough: a majority of them is
  REQUIRE(rd.ok());
  CHECK(rd->seq == 2);
}

TEST_CASE("majority device: held_after_timeout ignores a busy majority still inside its deadlines") {
  Rig r;
  r.n1.path[1]->delay_all(Millis(500));
  r.n1.path[2]->delay_all(Millis(500));
  for (uint32_t k = 0; k < 4; ++k) {
    const uint64_t off = r.layout.service_table_offset(1) + uint64_t(k) * r.bs();
    auto b = r.record(1, 5, 1, off);
    REQUIRE(r.n1.dev->submit_write(r.next_tag++, off, b, r.clock.now(), r.clock.now() + kTimeout).ok());
  }
  r.settle(r.n1, Millis(100));
  CHECK(r.n1.dev->held_by_kernel() == 4);
  CHECK(r.n1.dev->held_after_timeout() == 0);
  r.settle(r.n1, Millis(500));
  CHECK(r.n1.dev->held_by_kernel() == 0);
}

TEST_CASE("majority device R3: valid copies from a majority of this read's answers, not just a majority of answers") {
  Rig r;
  REQUIRE(r.write(r.n1, 1, 5, 1).ok());
  REQUIRE(r.read(r.n2, 1)->seq == 1);
  // Seq 2 completes on devices 0 and 2 while device 1 is late for it; then device 0 is zeroed.
  r.n1.path[1]->hang_all();
  REQUIRE(r.write(r.n1, 1, 5, 2).ok());
  std::fill(r.disks[0]->bytes.begin(), r.disks[0]->bytes.end(), std::byte{0});
  r.n2.path[2]->delay_all(Millis(100));
  // Devices 0 (zeroed) and 1 (seq 1) answer first: one valid copy of two answers is not enough.
  auto rd = r.read(r.n2, 1);
  REQUIRE(rd.ok());
  CHECK(rd->seq == 2);
}

// Two lives on the members (review 17's schedule, a tie for the history rules): a fresh reader, device 0
// stalled (it holds life 2's write, complete on devices 0 and 2), device 1 lagging with life 1's last record,
// device 2 with life 2's. The later life is handed out at once: no guess, no failed read.
TEST_CASE("majority device: of two lives on a majority of answers the later is handed out, whatever the answers' order") {
  Rig r;
  const uint64_t life1 = make_incarnation(1, 0xFFFFFFFF), life2 = make_incarnation(2, 0);
  auto old_life = r.record(1, life1, 9), new_life = r.record(1, life2, 1);
  r.put(0, r.hb(1), new_life);
  r.put(1, r.hb(1), old_life);
  r.put(2, r.hb(1), new_life);
  r.n2.path[0]->hang_all();
  auto got = r.read(r.n2, 1);
  REQUIRE(got.ok());
  CHECK_MESSAGE(got->incarnation == life2, "the old life was handed out over a completed write");
  r.n2.path[0]->release_hung(r.clock.now());
  r.settle(r.n2);
}
