// Tests for quorumd's own-region writer (quorumd/region_writer.h) against a fault-injecting disk,
// and for the decoding of the peer's region (quorumd/peer_region.h): the epoch record is written
// and completed before any table block that needs it (observed on the device), writes need a lease,
// corrupt blocks and scrubs are rewritten, and every peer table block is read, a corrupt one reported.
#include <doctest/doctest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "quorumd/peer_region.h"
#include "quorumd/region_writer.h"
#include "quorumd/service_table_store.h"
#include "disk/disk_layout.h"
#include "disk/epoch_record.h"
#include "disk/testing/faulty_block_device.h"
#include "disk/testing/memory_block_device.h"
#include "disk/service_table_record.h"
#include "tests/support/sample_records.h"

using namespace castor;

namespace {

constexpr uint32_t kNode = 2;

Uuid uuid_of(uint8_t seed) {
  Uuid u;
  for (size_t i = 0; i < u.bytes.size(); ++i) u.bytes[i] = uint8_t(seed + i * 13);
  return u;
}

ServiceEntry entry(const std::string& name, uint64_t epoch, OwnershipState st = OwnershipState::owned) {
  return testing::service_entry(name, st, kNode, epoch, epoch);
}

// One node's writer over a shared in-memory disk behind a FaultyBlockDevice, driven like quorumd's loop.
struct Rig {
  DiskLayout layout = *DiskLayout::for_sector_size(512);
  Uuid uuid = uuid_of(3);
  FakeClock clock;
  std::shared_ptr<MemoryDisk> disk = std::make_shared<MemoryDisk>(512, layout.required_bytes());
  std::shared_ptr<MemoryBlockDevice> mem = std::make_shared<MemoryBlockDevice>(disk, "mem");
  FaultyBlockDevice dev{mem};
  ServiceTableStore store{layout, uuid, kNode, RecordSeal::crc_only()};
  RegionWriter::Options options = [] {
    RegionWriter::Options o;
    o.io_timeout = Millis(200);
    o.scrub_interval = std::chrono::seconds(1);
    o.retry_delay = Millis(20);
    return o;
  }();
  std::unique_ptr<RegionWriter> writer;
  uint64_t tag = 1;
  bool may_act = true;
  std::vector<RegionWriter::Reply> replies;
  std::vector<std::pair<IoKind, uint64_t>> submitted;  // every I/O the device was asked for, in order

  Rig() {
    dev.set_policy([this](IoKind k, uint64_t off, size_t, TimePoint) {
      submitted.push_back({k, off});
      return FaultDecision{};
    });
    writer = std::make_unique<RegionWriter>(store, layout, kNode, options, clock.now());
  }
  void policy(std::function<FaultDecision(uint64_t offset)> p) {
    dev.set_policy([this, p](IoKind k, uint64_t off, size_t, TimePoint) {
      submitted.push_back({k, off});
      return p(off);
    });
  }
  // One turn of quorumd's loop: reap, hand completions over, pump.
  void turn() {
    std::vector<IoCompletion> cs;
    dev.reap(clock.now(), cs);
    for (const auto& c : cs) REQUIRE(writer->on_completion(c, clock.now(), replies));
    writer->pump(dev, clock.now(), may_act, 0xabc, tag, replies);
  }
  void turns(int n) {
    for (int i = 0; i < n; ++i) turn();
  }
  uint64_t epoch_offset() const { return layout.epoch_record_offset(kNode); }
  uint64_t table_offset(uint32_t b) const { return layout.service_table_offset(kNode) + uint64_t(b) * layout.block_size(); }
  std::span<const std::byte> at(uint64_t off) const { return std::span<const std::byte>(disk->bytes).subspan(off, layout.block_size()); }
  Result<EpochRecord> floor_on_disk() const { return decode_epoch_record(at(epoch_offset()), layout, kNode, RecordSeal::crc_only()); }
  Result<ServiceTableRecord> table_on_disk(uint32_t b) const { return decode_service_table(at(table_offset(b)), layout, kNode, b, RecordSeal::crc_only()); }
  bool zero(uint64_t off) const {
    for (auto x : at(off))
      if (x != std::byte{0}) return false;
    return true;
  }
  size_t writes_at(uint64_t off) const {
    size_t n = 0;
    for (const auto& [k, o] : submitted) n += k == IoKind::write && o == off;
    return n;
  }
};

}  // namespace

// Regression (issue 12, item 3): a table block holding epoch e is submitted only after an epoch record
// with floor >= e completed ok — seen on the device, with the floor write held back by the disk.
TEST_CASE("region writer: the table write is not submitted until the epoch record write completed ok") {
  Rig r;
  r.store.load_floor(0);
  r.policy([&](uint64_t off) {
    return off == r.epoch_offset() ? FaultDecision{FaultDecision::Kind::hang} : FaultDecision{};
  });
  auto b = r.writer->set(entry("ledger", 7), 1);
  REQUIRE(b.ok());
  r.turns(3);
  CHECK(r.writes_at(r.epoch_offset()) == 1);
  CHECK(r.writes_at(r.table_offset(*b)) == 0);  // the floor has not landed: the table write waits
  CHECK(r.zero(r.table_offset(*b)));
  CHECK(r.replies.empty());

  SUBCASE("the floor lands: then the table block, and only then the reply") {
    r.clock.advance(Millis(50));
    r.dev.release_hung(r.clock.now());
    r.turns(3);
    auto floor = r.floor_on_disk();
    REQUIRE_MESSAGE(floor.ok(), floor.status().to_string());
    CHECK(floor->epoch_floor == 7);
    CHECK(floor->incarnation == 0xabc);
    auto t = r.table_on_disk(*b);
    REQUIRE_MESSAGE(t.ok(), t.status().to_string());
    CHECK(t->entries[0].name == "ledger");
    CHECK(t->entries[0].epoch == 7);
    REQUIRE(r.replies.size() == 1);
    CHECK(r.replies[0].waiter == 1);
    CHECK(r.replies[0].status.ok());
    // The order on the device: the epoch record, then the table block.
    std::vector<uint64_t> writes;
    for (const auto& [k, o] : r.submitted)
      if (k == IoKind::write) writes.push_back(o);
    CHECK(writes == std::vector<uint64_t>{r.epoch_offset(), r.table_offset(*b)});
  }
  SUBCASE("the floor times out: nothing more is written until the device is quiescent") {
    r.clock.advance(Millis(250));
    r.turns(2);
    REQUIRE(r.replies.size() == 1);
    CHECK_FALSE(r.replies[0].status.ok());  // svcmgr hears the change was not written
    CHECK(r.writes_at(r.table_offset(*b)) == 0);
    CHECK(r.writes_at(r.epoch_offset()) == 1);  // not rewritten while the timed-out one may still land
    r.policy([](uint64_t) { return FaultDecision{}; });
    r.dev.release_hung(r.clock.now());  // the late write lands; now the device holds nothing of ours
    r.turns(4);
    CHECK(r.writes_at(r.epoch_offset()) == 2);
    auto t = r.table_on_disk(*b);
    REQUIRE_MESSAGE(t.ok(), t.status().to_string());
    CHECK(t->entries[0].epoch == 7);
  }
}

TEST_CASE("region writer: a failing epoch record write keeps the table block off the disk") {
  Rig r;
  r.store.load_floor(2);
  r.policy([&](uint64_t off) {
    return off == r.epoch_offset() ? FaultDecision{FaultDecision::Kind::fail} : FaultDecision{};
  });
  auto b = r.writer->set(entry("web", 3), 11);
  REQUIRE(b.ok());
  for (int i = 0; i < 5; ++i) {
    r.turns(2);
    r.clock.advance(Millis(30));
  }
  CHECK(r.writes_at(r.table_offset(*b)) == 0);
  CHECK(r.zero(r.table_offset(*b)));
  CHECK(r.writes_at(r.epoch_offset()) >= 2);   // retried...
  CHECK(r.writes_at(r.epoch_offset()) <= 6);   // ...but not in a tight loop
  REQUIRE(r.replies.size() == 1);
  CHECK(r.replies[0].waiter == 11);
  CHECK_FALSE(r.replies[0].status.ok());
  // The disk heals: floor, then the change.
  r.policy([](uint64_t) { return FaultDecision{}; });
  r.clock.advance(Millis(30));
  r.turns(4);
  REQUIRE(r.floor_on_disk().ok());
  CHECK(r.floor_on_disk()->epoch_floor == 3);
  REQUIRE(r.table_on_disk(*b).ok());
}

TEST_CASE("region writer: an epoch already covered by the floor needs no epoch record write") {
  Rig r;
  r.store.load_floor(10);
  auto b = r.writer->set(entry("web", 10), 1);
  REQUIRE(b.ok());
  r.turns(2);
  CHECK(r.writes_at(r.epoch_offset()) == 0);
  CHECK(r.table_on_disk(*b).ok());
  REQUIRE(r.replies.size() == 1);
  CHECK(r.replies[0].status.ok());
}

TEST_CASE("region writer: nothing is written without a lease; corrupt blocks are rewritten once one is held") {
  Rig r;
  r.store.rebuild_floor(4, "epoch record: empty (never written)");
  r.store.mark_corrupt(0, "zeroed");
  r.store.mark_corrupt(5, "bad CRC");
  r.may_act = false;
  auto b = r.writer->set(entry("web", 1), 21);
  REQUIRE(b.ok());
  r.turns(3);
  CHECK(r.submitted.empty());
  REQUIRE(r.replies.size() == 1);
  CHECK(r.replies[0].status.code() == Code::refused);
  CHECK(r.store.corrupt().size() == 2);

  r.may_act = true;
  r.turns(4);
  auto floor = r.floor_on_disk();
  REQUIRE_MESSAGE(floor.ok(), floor.status().to_string());
  CHECK(floor->epoch_floor == 4);
  CHECK(r.table_on_disk(0).ok());
  CHECK(r.table_on_disk(5).ok());
  CHECK(r.store.corrupt().empty());
  CHECK_FALSE(r.store.floor_error().has_value());
  // Only the damaged blocks were written (svcmgr's refused change was dropped, block 0 carries it anyway).
  size_t writes = 0;
  for (const auto& s : r.submitted) writes += s.first == IoKind::write;
  CHECK(writes == 3);
}

// Issue 12, item 2: every own block is rewritten at least every scrub interval, so damage heals.
TEST_CASE("region writer: a scrub rewrites every own block within the scrub interval") {
  Rig r;
  r.store.load_floor(6);
  REQUIRE(r.writer->set(entry("web", 6), 1).ok());
  r.turns(2);
  REQUIRE(r.table_on_disk(0).ok());
  // Damage: garbage over the epoch record, a zeroed table block with an entry, another block torn.
  const uint64_t region = r.layout.epoch_record_offset(kNode);
  std::memset(r.disk->bytes.data() + region + 100, 0x77, 8);
  std::memset(r.disk->bytes.data() + r.table_offset(0), 0, r.layout.block_size());
  std::memset(r.disk->bytes.data() + r.table_offset(20) + 512, 0x11, 512);
  REQUIRE_FALSE(r.floor_on_disk().ok());
  REQUIRE_FALSE(r.table_on_disk(0).ok());

  r.clock.advance(Millis(500));
  r.turns(2);
  CHECK_FALSE(r.table_on_disk(0).ok());  // not before the interval
  r.clock.advance(Millis(500));
  r.turns(8);  // at most 8 writes in flight at once: a few turns
  CHECK(r.writer->scrubs() == 1);
  REQUIRE(r.floor_on_disk().ok());
  CHECK(r.floor_on_disk()->epoch_floor == 6);
  for (uint32_t b = 0; b < kServiceTableBlocks; ++b) CHECK_MESSAGE(r.table_on_disk(b).ok(), "block ", b);
  CHECK(r.table_on_disk(0)->entries[0].name == "web");
  CHECK(r.writer->next_wakeup(r.clock.now()) <= r.clock.now() + std::chrono::seconds(1));
}

// ---- the peer's region -----------------------------------------------------------------------------------

namespace {

// The peer's blocks 1..35 as table-peer reads them: its epoch record and 34 table blocks, `n` services.
std::vector<std::byte> peer_region(const DiskLayout& layout, const Uuid& uuid, uint32_t peer, uint32_t n,
                                   uint64_t floor) {
  const size_t bs = layout.block_size();
  std::vector<std::byte> out(size_t(kPeerRegionReadBlocks) * bs);
  EpochRecord er;
  er.cluster_uuid = uuid;
  er.node_id = peer;
  er.incarnation = 9;
  er.seq = 1;
  er.epoch_floor = floor;
  REQUIRE(encode_epoch_record(er, layout, RecordSeal::crc_only(), std::span(out).first(bs)).ok());
  for (uint32_t b = 0; b < kServiceTableBlocks; ++b) {
    ServiceTableRecord rec;
    rec.cluster_uuid = uuid;
    rec.node_id = peer;
    rec.block_index = b;
    rec.incarnation = 9;
    rec.seq = 2 + b;
    rec.entries.resize(layout.services_per_block());
    for (uint32_t i = 0; i < layout.services_per_block(); ++i) {
      const uint32_t k = b * layout.services_per_block() + i;
      if (k < n) rec.entries[i] = entry("svc" + std::to_string(k), k + 1);
    }
    REQUIRE(encode_service_table(rec, layout, RecordSeal::crc_only(), std::span(out).subspan(size_t(1 + b) * bs, bs)).ok());
  }
  return out;
}

}  // namespace

// Regression (issue 12, item 1): only the first block of the peer's table was read.
TEST_CASE("peer region: every table block is read: 40 services over two blocks") {
  DiskLayout layout = *DiskLayout::for_sector_size(512);
  const Uuid uuid = uuid_of(5);
  auto blocks = peer_region(layout, uuid, 1, 40, 40);
  PeerRegion pr = decode_peer_region(blocks, layout, 1, uuid, RecordSeal::crc_only());
  CHECK(pr.corrupt.empty());
  REQUIRE(pr.entries.size() == 40);
  CHECK(pr.entries.back().name == "svc39");
  REQUIRE(pr.floor.has_value());
  CHECK(*pr.floor == 40);
  CHECK(pr.max_epoch() == 40);
  // The test-only broken build read_block0 sees only the first block's 31.
  CHECK(decode_peer_region(blocks, layout, 1, uuid, RecordSeal::crc_only(), 1).entries.size() == layout.services_per_block());
}

// Regression (issue 12, item 2): a block that fails to decode was skipped as if it held no entries.
TEST_CASE("peer region: a block that does not decode is reported with why, never taken as empty") {
  DiskLayout layout = *DiskLayout::for_sector_size(512);
  const size_t bs = layout.block_size();
  const Uuid uuid = uuid_of(5);
  auto blocks = peer_region(layout, uuid, 1, 70, 70);
  blocks[size_t(1 + 1) * bs + 300] ^= std::byte{0x40};                        // table block 1: bad CRC
  std::memset(blocks.data() + size_t(1 + 3) * bs, 0, bs);                     // table block 3: zeroed
  auto foreign = peer_region(layout, uuid_of(99), 1, 70, 70);                 // table block 2: another cluster
  std::memcpy(blocks.data() + size_t(1 + 2) * bs, foreign.data() + size_t(1 + 2) * bs, bs);
  PeerRegion pr = decode_peer_region(blocks, layout, 1, uuid, RecordSeal::crc_only());
  REQUIRE(pr.corrupt.size() == 3);
  CHECK(pr.corrupt[0].block == 1);
  CHECK(pr.corrupt[0].reason.find("CRC") != std::string::npos);
  CHECK(pr.corrupt[1].block == 2);
  CHECK(pr.corrupt[1].reason.find("another cluster") != std::string::npos);
  CHECK(pr.corrupt[2].block == 3);
  CHECK(pr.corrupt[2].reason.find("empty") != std::string::npos);
  CHECK(pr.entries.size() == 31);  // block 0 only: blocks 1 and 2 held the other 39
  REQUIRE(pr.floor.has_value());

  // A record of the right type at the wrong place (node 2's block given as node 1's) is corrupt too.
  auto other_node = peer_region(layout, uuid, 2, 5, 5);
  PeerRegion wrong = decode_peer_region(other_node, layout, 1, uuid, RecordSeal::crc_only());
  CHECK(wrong.corrupt.size() == kServiceTableBlocks);
  CHECK_FALSE(wrong.floor.has_value());
  CHECK_FALSE(wrong.floor_error.empty());

  // An epoch record that does not decode: no floor, and why.
  std::memset(blocks.data() + 70, 0x5a, 4);
  PeerRegion nofloor = decode_peer_region(blocks, layout, 1, uuid, RecordSeal::crc_only());
  CHECK_FALSE(nofloor.floor.has_value());
  CHECK(nofloor.floor_error.find("CRC") != std::string::npos);
}
