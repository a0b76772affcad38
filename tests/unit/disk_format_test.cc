// Round-trip and corruption tests for every quorum-disk record.
#include <doctest/doctest.h>

#include <functional>
#include <vector>

#include "disk/disk_layout.h"
#include "disk/heartbeat_record.h"
#include "disk/epoch_record.h"
#include "disk/service_table_record.h"
#include "disk/superblock.h"

using namespace castor;

namespace {

Uuid test_uuid(uint8_t seed) {
  Uuid u;
  for (size_t i = 0; i < u.bytes.size(); ++i) u.bytes[i] = uint8_t(seed + i * 17);
  return u;
}

Superblock sample_superblock(const DiskLayout& layout) {
  Superblock sb;
  sb.cluster_uuid = test_uuid(1);
  sb.cluster_name = "prod-db";
  sb.sector_size = layout.sector_size();
  sb.nodes[0] = {1, "alpha"};
  sb.nodes[1] = {2, "beta.example"};
  sb.timing = *Timing::from_io_timeout(Millis(200));
  sb.service_slots = layout.service_slots();
  sb.created_wall_ns = 1764170000123456789;
  return sb;
}

HeartbeatRecord sample_heartbeat() {
  HeartbeatRecord hb;
  hb.cluster_uuid = test_uuid(1);
  hb.node_id = 2;
  hb.incarnation = 0x1122334455667788ull;
  hb.seq = 42;
  hb.wall_time_ns = 1764170000000000000;
  hb.state = NodeState::leaving;
  hb.peer_view = PeerView::dead;
  hb.last_io_latency_us = 812;
  hb.max_io_latency_us = 90000;
  hb.services_digest = 0xdeadbeefcafef00dull;
  hb.peer_incarnation = 77;
  hb.peer_seq = 9;
  return hb;
}

EpochRecord sample_epoch() {
  EpochRecord ep;
  ep.cluster_uuid = test_uuid(1);
  ep.node_id = 1;
  ep.incarnation = 5;
  ep.seq = 3;
  ep.wall_time_ns = 1;
  ep.epoch_floor = 0x0102030405060708ull;
  return ep;
}

ServiceTableRecord sample_table(const DiskLayout& layout, uint32_t block_index) {
  ServiceTableRecord rec;
  rec.cluster_uuid = test_uuid(1);
  rec.node_id = 1;
  rec.block_index = block_index;
  rec.incarnation = 9;
  rec.seq = 1234;
  rec.wall_time_ns = 5;
  rec.entries.resize(layout.services_per_block());
  rec.entries[0] = {true, OwnershipState::owned, 0, 1, 17, 3, 0xabcdef, 77, 2, "web"};
  rec.entries[rec.entries.size() - 1] = {true, OwnershipState::claiming, ServiceEntry::kFrozen, 2, 18, 4, 1, 78, 0,
                                         std::string(63, 'x')};
  return rec;
}

// Flips each byte of `block` in turn (XOR with each of a few masks) and requires `decode` to refuse.
void require_every_flip_rejected(std::vector<std::byte> block, const std::function<Status(std::span<const std::byte>)>& decode) {
  REQUIRE(decode(block).ok());
  size_t rejected = 0;
  for (size_t i = 0; i < block.size(); ++i) {
    for (uint8_t mask : {uint8_t(0x01), uint8_t(0x80), uint8_t(0xFF)}) {
      block[i] ^= std::byte(mask);
      Status st = decode(block);
      block[i] ^= std::byte(mask);
      if (st.ok()) FAIL("flipping byte " << i << " with mask " << int(mask) << " was accepted");
      CHECK((st.code() == Code::corrupt || st.code() == Code::unsupported));
      ++rejected;
    }
  }
  CHECK(rejected == block.size() * 3);
}

}  // namespace

TEST_CASE("layout: blocks are max(sector, 4096), aligned, disjoint, and the table holds >= 1024 services") {
  for (uint32_t ss : {512u, 1024u, 4096u, 8192u}) {
    auto l = DiskLayout::for_sector_size(ss);
    REQUIRE(l.ok());
    CHECK(l->block_size() == std::max(ss, 4096u));
    CHECK(l->service_slots() >= kMinServiceSlots);
    std::vector<uint64_t> offsets = {l->superblock_offset(), l->superblock_backup_offset()};
    for (uint32_t n = 1; n <= kNodeCount; ++n) {
      offsets.push_back(l->heartbeat_offset(n));
      offsets.push_back(l->epoch_record_offset(n));
      for (uint32_t b = 0; b < kServiceTableBlocks; ++b) offsets.push_back(l->service_table_offset(n) + b * l->block_size());
    }
    std::sort(offsets.begin(), offsets.end());
    for (size_t i = 0; i < offsets.size(); ++i) {
      CHECK(offsets[i] % l->block_size() == 0);
      CHECK(offsets[i] % ss == 0);
      if (i > 0) CHECK(offsets[i] - offsets[i - 1] >= l->block_size());  // one record per block: one writer per sector
    }
    CHECK(offsets.back() + l->block_size() <= l->required_bytes());
    // Node regions do not overlap.
    CHECK(l->region_offset(2) - l->region_offset(1) == uint64_t(kRegionBlocks) * l->block_size());
  }
  CHECK_FALSE(DiskLayout::for_sector_size(1000).ok());
  CHECK_FALSE(DiskLayout::for_sector_size(256).ok());
}

TEST_CASE("timing follows one formula of io_timeout") {
  auto t = Timing::from_io_timeout(Millis(200));
  REQUIRE(t.ok());
  CHECK(t->renew_interval == Millis(100));
  CHECK(t->lease == Millis(600));
  CHECK(t->kill_grace == Millis(200));
  CHECK(t->watchdog == Millis(200));
  CHECK(t->dead == Millis(1200));
  CHECK(t->dead >= t->lease + 2 * t->watchdog + t->io_timeout);
  CHECK(t->check_formula().ok());
  Timing bad = *t;
  bad.dead = Millis(1000);
  CHECK(bad.check_formula().code() == Code::corrupt);
  CHECK_FALSE(Timing::from_io_timeout(Millis(5)).ok());
  CHECK_FALSE(Timing::from_io_timeout(Millis(201)).ok());
}

TEST_CASE("timing: D covers the lease, the latest watchdog reset after it (pet guard, late pet, close ping) and clock rates") {
  for (int64_t ms = Timing::kMinIoTimeout.count(); ms <= 20000; ms += 2) {
    auto t = Timing::from_io_timeout(Millis(ms));
    REQUIRE(t.ok());
    CHECK_MESSAGE(t->check_margin().ok(), t->check_margin().to_string());
    // A pet needs W of lease left; the watchdog then fires by the lease end + 2W + 3 tolerance.
    CHECK(t->pet_guard() == t->watchdog);
    CHECK(t->latest_reset_after_lease_end() == 2 * t->watchdog + 3 * t->watchdog_tolerance());
    CHECK(t->watchdog_tolerance() >= Millis(ms / 4));
  }
  // The old formula (W = 2T, D = F + W + T) does not hold once a late pet and the close ping are counted.
  Timing old = *Timing::from_io_timeout(Millis(2000));
  old.watchdog = Millis(4000);
  old.dead = old.lease + old.watchdog + old.io_timeout;
  CHECK(old.check_margin().code() == Code::invalid_argument);
}

TEST_CASE("superblock round-trips and refuses every flipped byte") {
  for (uint32_t ss : {512u, 4096u}) {
    auto layout = *DiskLayout::for_sector_size(ss);
    std::vector<std::byte> block(layout.block_size());
    Superblock sb = sample_superblock(layout);
    REQUIRE(encode_superblock(sb, layout, RecordSeal::crc_only(), block).ok());
    auto back = decode_superblock(block, layout, RecordSeal::crc_only());
    REQUIRE_MESSAGE(back.ok(), back.status().to_string());
    CHECK(*back == sb);
    require_every_flip_rejected(block, [&](auto b) { return decode_superblock(b, layout, RecordSeal::crc_only()).status(); });
  }
}

TEST_CASE("superblock checks what the CRC cannot: names, sector size, timing") {
  auto layout = *DiskLayout::for_sector_size(512);
  std::vector<std::byte> block(layout.block_size());
  Superblock sb = sample_superblock(layout);
  sb.nodes[1].name = "alpha";
  // Encoding does not catch duplicate names (decode does): the decoder never accepts them.
  REQUIRE(encode_superblock(sb, layout, RecordSeal::crc_only(), block).ok());
  CHECK(decode_superblock(block, layout, RecordSeal::crc_only()).status().code() == Code::corrupt);

  sb = sample_superblock(layout);
  REQUIRE(encode_superblock(sb, layout, RecordSeal::crc_only(), block).ok());
  auto layout4k = *DiskLayout::for_sector_size(4096);
  // Same block size (4096) but the disk now reports 4096-byte sectors: refused, with the reason.
  auto st = decode_superblock(block, layout4k, RecordSeal::crc_only()).status();
  CHECK(st.code() == Code::corrupt);
  CHECK(st.message().find("sector size") != std::string::npos);

  sb.cluster_name = "bad name";
  CHECK(encode_superblock(sb, layout, RecordSeal::crc_only(), block).code() == Code::invalid_argument);
}

TEST_CASE("superblock of a member of a device set: round-trips, refuses bad sets; a build without sets refuses it") {
  auto layout = *DiskLayout::for_sector_size(4096);
  std::vector<std::byte> block(layout.block_size());
  Superblock sb = sample_superblock(layout);
  Uuid a, b, c;
  a.bytes[0] = 1, b.bytes[0] = 2, c.bytes[0] = 3;
  sb.devices.count = kQuorumDevices;
  sb.devices.index = 2;
  sb.devices.generation = 7;
  sb.devices.members = {a, b, c};
  REQUIRE(encode_superblock(sb, layout, RecordSeal::crc_only(), block).ok());
  auto back = decode_superblock(block, layout, RecordSeal::crc_only());
  REQUIRE_MESSAGE(back.ok(), back.status().to_string());
  CHECK(*back == sb);
  CHECK(back->devices.id() == c);
  require_every_flip_rejected(block, [&](auto blk) { return decode_superblock(blk, layout, RecordSeal::crc_only()).status(); });

  // What encode refuses: a set of two, an index outside, a nil or a repeated member, set fields on a single device.
  for (auto bad : std::vector<std::function<void(Superblock&)>>{
           [](Superblock& s) { s.devices.count = 2; },
           [](Superblock& s) { s.devices.index = 3; },
           [](Superblock& s) { s.devices.members[1] = Uuid{}; },
           [&](Superblock& s) { s.devices.members[2] = a; },
           [](Superblock& s) { s.devices.count = 1; },
       }) {
    Superblock x = sb;
    bad(x);
    CHECK(encode_superblock(x, layout, RecordSeal::crc_only(), block).code() == Code::invalid_argument);
  }
  // A member's superblock has flag bit 1: a decoder that knows only bit 0 refuses it, as "unknown flags".
  REQUIRE(encode_superblock(sb, layout, RecordSeal::crc_only(), block).ok());
  CHECK(uint8_t(block[308]) == 2);
}

TEST_CASE("an empty block is 'never written', not corruption; foreign data is corruption") {
  auto layout = *DiskLayout::for_sector_size(512);
  std::vector<std::byte> block(layout.block_size());
  CHECK(decode_superblock(block, layout, RecordSeal::crc_only()).status().code() == Code::not_found);
  CHECK(decode_heartbeat(block, layout, 1, RecordSeal::crc_only()).status().code() == Code::not_found);
  for (size_t i = 0; i < block.size(); ++i) block[i] = std::byte(i * 31 + 7);
  CHECK(decode_superblock(block, layout, RecordSeal::crc_only()).status().code() == Code::corrupt);
}

TEST_CASE("heartbeat round-trips, refuses every flipped byte, and names its writer") {
  for (uint32_t ss : {512u, 4096u, 8192u}) {
    auto layout = *DiskLayout::for_sector_size(ss);
    std::vector<std::byte> block(layout.block_size());
    HeartbeatRecord hb = sample_heartbeat();
    encode_heartbeat(hb, layout, RecordSeal::crc_only(), block);
    auto back = decode_heartbeat(block, layout, 2, RecordSeal::crc_only());
    REQUIRE(back.ok());
    CHECK(*back == hb);
    if (ss == 512) require_every_flip_rejected(block, [&](auto b) { return decode_heartbeat(b, layout, 2, RecordSeal::crc_only()).status(); });
    // The same record read from the other node's region is not accepted.
    auto wrong = decode_heartbeat(block, layout, 1, RecordSeal::crc_only());
    CHECK(wrong.status().code() == Code::corrupt);
    CHECK(wrong.status().message().find("written by node 2") != std::string::npos);
  }
}

TEST_CASE("heartbeat flags: standby and no-watchdog round-trip; an unknown flag is refused") {
  auto layout = *DiskLayout::for_sector_size(512);
  std::vector<std::byte> block(layout.block_size());
  HeartbeatRecord hb = sample_heartbeat();
  hb.flags = HeartbeatRecord::kStandby | HeartbeatRecord::kNoWatchdog;
  encode_heartbeat(hb, layout, RecordSeal::crc_only(), block);
  auto back = decode_heartbeat(block, layout, 2, RecordSeal::crc_only());
  REQUIRE(back.ok());
  CHECK(back->flags == (HeartbeatRecord::kStandby | HeartbeatRecord::kNoWatchdog));
  hb.flags = HeartbeatRecord::kFenceIntent;
  encode_heartbeat(hb, layout, RecordSeal::crc_only(), block);
  CHECK(decode_heartbeat(block, layout, 2, RecordSeal::crc_only())->flags == HeartbeatRecord::kFenceIntent);
  hb.flags = HeartbeatRecord::kPeerRegionDamaged;
  encode_heartbeat(hb, layout, RecordSeal::crc_only(), block);
  CHECK(decode_heartbeat(block, layout, 2, RecordSeal::crc_only())->flags == HeartbeatRecord::kPeerRegionDamaged);
  hb.flags = 16;
  encode_heartbeat(hb, layout, RecordSeal::crc_only(), block);
  auto bad = decode_heartbeat(block, layout, 2, RecordSeal::crc_only());
  CHECK(bad.status().code() == Code::corrupt);
  CHECK(bad.status().message().find("unknown flags") != std::string::npos);
}

TEST_CASE("heartbeat peer requests: round-trip; a record of an older writer reads as none; unknown kinds read as none") {
  auto layout = *DiskLayout::for_sector_size(512);
  std::vector<std::byte> plain(layout.block_size()), asked(layout.block_size());
  HeartbeatRecord hb = sample_heartbeat();
  encode_heartbeat(hb, layout, RecordSeal::crc_only(), plain);
  hb.peer_request = PeerRequest::standby;
  hb.peer_request_serial = 41;
  hb.features = HeartbeatRecord::kTakesPeerRequests;
  hb.handled_request_incarnation = 7;
  hb.handled_request_serial = 9;
  hb.started_mark = 77;
  hb.not_started = {5, 70};
  hb.features |= HeartbeatRecord::kPublishesTableGeneration;
  hb.table_generation = 0x0102030405060708ull;
  encode_heartbeat(hb, layout, RecordSeal::crc_only(), asked);
  auto back = decode_heartbeat(asked, layout, 2, RecordSeal::crc_only());
  REQUIRE(back.ok());
  CHECK(*back == hb);
  // What an older writer wrote (and an older reader reads): the first 104 bytes are the same but for the
  // CRC, so an older node reads a newer one's heartbeat field for field.
  for (size_t i = 0; i < 104; ++i)
    if (i < 12 || i >= 16) CHECK_MESSAGE(plain[i] == asked[i], "byte " << i << " differs");
  auto old = decode_heartbeat(plain, layout, 2, RecordSeal::crc_only());
  REQUIRE(old.ok());
  CHECK(old->peer_request == PeerRequest::none);
  CHECK(old->features == 0);
  CHECK(old->handled_request_serial == 0);
  CHECK(old->started_mark == 0);
  CHECK(old->not_started.empty());
  CHECK(old->table_generation == 0);
  // A kind a later version added: the record still decodes (it proves its writer alive), the request is none.
  asked[104] = std::byte{7};
  seal_block(asked, RecordSeal::crc_only());
  auto later = decode_heartbeat(asked, layout, 2, RecordSeal::crc_only());
  REQUIRE(later.ok());
  CHECK(later->peer_request == PeerRequest::none);
  CHECK(later->peer_request_serial == 0);
  // A not-started count past the bound: the mark is unusable (0: every claim reads as starting).
  hb.started_mark = 90;
  hb.not_started = {5};
  encode_heartbeat(hb, layout, RecordSeal::crc_only(), asked);
  asked[144] = std::byte{33};
  seal_block(asked, RecordSeal::crc_only());
  auto past = decode_heartbeat(asked, layout, 2, RecordSeal::crc_only());
  REQUIRE(past.ok());
  CHECK(past->started_mark == 0);
  CHECK(past->not_started.empty());
  // A request without a serial is no request.
  hb.peer_request_serial = 0;
  encode_heartbeat(hb, layout, RecordSeal::crc_only(), asked);
  CHECK(decode_heartbeat(asked, layout, 2, RecordSeal::crc_only())->peer_request == PeerRequest::none);
}

TEST_CASE("a record read with the wrong type is refused") {
  auto layout = *DiskLayout::for_sector_size(512);
  std::vector<std::byte> block(layout.block_size());
  encode_heartbeat(sample_heartbeat(), layout, RecordSeal::crc_only(), block);
  CHECK(decode_epoch_record(block, layout, 2, RecordSeal::crc_only()).status().code() == Code::corrupt);
}

TEST_CASE("a torn write (new first sectors, old rest) is detected") {
  auto layout = *DiskLayout::for_sector_size(512);
  std::vector<std::byte> old_block(layout.block_size()), new_block(layout.block_size());
  HeartbeatRecord hb = sample_heartbeat();
  encode_heartbeat(hb, layout, RecordSeal::crc_only(), old_block);
  hb.seq++;
  hb.wall_time_ns += 1000;
  encode_heartbeat(hb, layout, RecordSeal::crc_only(), new_block);
  // A heartbeat's payload sits in the first sector; tear a service table block instead, whose entries span sectors.
  ServiceTableRecord a = sample_table(layout, 0), b = a;
  b.seq++;
  b.entries[b.entries.size() - 1].epoch++;
  encode_service_table(a, layout, RecordSeal::crc_only(), old_block).ok();
  REQUIRE(encode_service_table(b, layout, RecordSeal::crc_only(), new_block).ok());
  for (size_t sectors = 1; sectors < layout.block_size() / 512; ++sectors) {
    std::vector<std::byte> torn = old_block;
    std::copy(new_block.begin(), new_block.begin() + sectors * 512, torn.begin());
    CHECK(decode_service_table(torn, layout, 1, 0, RecordSeal::crc_only()).status().code() == Code::corrupt);
  }
}

TEST_CASE("epoch record round-trips and refuses every flipped byte") {
  auto layout = *DiskLayout::for_sector_size(4096);
  std::vector<std::byte> block(layout.block_size());
  EpochRecord ep = sample_epoch();
  REQUIRE(encode_epoch_record(ep, layout, RecordSeal::crc_only(), block).ok());
  auto back = decode_epoch_record(block, layout, 1, RecordSeal::crc_only());
  REQUIRE_MESSAGE(back.ok(), back.status().to_string());
  CHECK(*back == ep);
  require_every_flip_rejected(block, [&](auto b) { return decode_epoch_record(b, layout, 1, RecordSeal::crc_only()).status(); });
}

TEST_CASE("service table blocks round-trip, know their index, and refuse every flipped byte") {
  auto layout = *DiskLayout::for_sector_size(512);
  std::vector<std::byte> block(layout.block_size());
  ServiceTableRecord rec = sample_table(layout, 7);
  REQUIRE(encode_service_table(rec, layout, RecordSeal::crc_only(), block).ok());
  auto back = decode_service_table(block, layout, 1, 7, RecordSeal::crc_only());
  REQUIRE_MESSAGE(back.ok(), back.status().to_string());
  CHECK(*back == rec);
  CHECK(decode_service_table(block, layout, 1, 8, RecordSeal::crc_only()).status().code() == Code::corrupt);
  require_every_flip_rejected(block, [&](auto b) { return decode_service_table(b, layout, 1, 7, RecordSeal::crc_only()).status(); });
  rec.entries[1] = {true, OwnershipState::owned, 0, 1, 1, 1, 1, 1, 0, ""};
  CHECK(encode_service_table(rec, layout, RecordSeal::crc_only(), block).code() == Code::invalid_argument);
}

TEST_CASE("castor init's records (incarnation 0, seq 0, no entries) decode as valid, empty blocks") {
  auto layout = *DiskLayout::for_sector_size(512);
  std::vector<std::byte> block(layout.block_size());
  ServiceTableRecord rec;
  rec.cluster_uuid = test_uuid(1);
  rec.node_id = 2;
  rec.block_index = 33;
  rec.entries.resize(layout.services_per_block());
  REQUIRE(encode_service_table(rec, layout, RecordSeal::crc_only(), block).ok());
  auto back = decode_service_table(block, layout, 2, 33, RecordSeal::crc_only());
  REQUIRE_MESSAGE(back.ok(), back.status().to_string());
  CHECK(*back == rec);
  CHECK(back->incarnation == 0);
  EpochRecord ep;
  ep.cluster_uuid = test_uuid(1);
  ep.node_id = 2;
  REQUIRE(encode_epoch_record(ep, layout, RecordSeal::crc_only(), block).ok());
  auto eback = decode_epoch_record(block, layout, 2, RecordSeal::crc_only());
  REQUIRE_MESSAGE(eback.ok(), eback.status().to_string());
  CHECK(eback->epoch_floor == 0);
  CHECK(eback->incarnation == 0);
}
