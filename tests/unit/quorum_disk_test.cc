// initialize_quorum_disk + read_disk_snapshot over the in-memory device.
#include <doctest/doctest.h>

#include <algorithm>

#include "common/aligned_buffer.h"
#include "disk/disk_snapshot.h"
#include "disk/testing/memory_block_device.h"
#include "disk/quorum_disk_init.h"
#include "common/cli_args.h"

using namespace castor;

namespace {
Superblock make_sb(uint32_t sector) {
  auto layout = *DiskLayout::for_sector_size(sector);
  Superblock sb;
  sb.cluster_uuid = *random_uuid();
  sb.cluster_name = "c1";
  sb.sector_size = sector;
  sb.nodes = {NodeEntry{1, "a"}, NodeEntry{2, "b"}};
  sb.timing = *Timing::from_io_timeout(Millis(200));
  sb.service_slots = layout.service_slots();
  sb.created_wall_ns = wall_time_ns();
  return sb;
}
}  // namespace

TEST_CASE("init writes a superblock pair, epoch records (floor 0) and valid empty tables; a snapshot reads them back") {
  for (uint32_t sector : {512u, 4096u}) {
    auto disk = std::make_shared<MemoryDisk>(sector, 4 << 20);
    // Old junk everywhere: init must clear the node regions.
    for (size_t i = 0; i < disk->bytes.size(); ++i) disk->bytes[i] = std::byte(i * 13 + 1);
    MemoryBlockDevice dev(disk, "mem");
    FakeClock clock;
    Superblock sb = make_sb(sector);
    REQUIRE(initialize_quorum_disk(dev, clock, sb, RecordSeal::crc_only(), Millis(100)).ok());
    auto snap = read_disk_snapshot(dev, clock, Millis(100), RecordSeal::crc_only());
    REQUIRE(snap.ok());
    REQUIRE(snap->superblock.record);
    CHECK(*snap->superblock.record == sb);
    CHECK(*snap->superblock_backup.record == sb);
    CHECK(snap->invalid_records() == 0);
    auto layout = *DiskLayout::for_sector_size(sector);
    for (const auto& n : snap->nodes) {
      CHECK(n.heartbeat.status.code() == Code::not_found);  // a heartbeat is written by the node itself
      REQUIRE_MESSAGE(n.epoch.record, n.epoch.status.to_string());
      CHECK(n.epoch.record->epoch_floor == 0);
      CHECK(n.epoch.record->node_id == n.node_id);
      CHECK(n.epoch.record->incarnation == 0);
      CHECK(n.epoch.record->cluster_uuid == sb.cluster_uuid);
      REQUIRE(n.table.size() == kServiceTableBlocks);
      for (uint32_t b = 0; b < kServiceTableBlocks; ++b) {
        const auto& t = n.table[b];
        REQUIRE_MESSAGE(t.record, t.status.to_string());
        CHECK(t.record->block_index == b);
        CHECK(t.record->node_id == n.node_id);
        CHECK(t.record->incarnation == 0);
        CHECK(t.record->entries.size() == layout.services_per_block());
        for (const auto& e : t.record->entries) CHECK_FALSE(e.in_use);
      }
    }
  }
}

TEST_CASE("after init, a zeroed epoch or table block is damage (corrupt), not an empty table") {
  auto disk = std::make_shared<MemoryDisk>(512, 4 << 20);
  MemoryBlockDevice dev(disk, "mem");
  FakeClock clock;
  Superblock sb = make_sb(512);
  REQUIRE(initialize_quorum_disk(dev, clock, sb, RecordSeal::crc_only(), Millis(100)).ok());
  auto layout = *DiskLayout::for_sector_size(512);
  auto zero = [&](uint64_t off) { std::fill_n(disk->bytes.begin() + off, layout.block_size(), std::byte{0}); };
  zero(layout.service_table_offset(2) + 33 * uint64_t(layout.block_size()));  // node 2's last table block
  zero(layout.epoch_record_offset(1));
  auto snap = read_disk_snapshot(dev, clock, Millis(100), RecordSeal::crc_only());
  REQUIRE(snap.ok());
  CHECK(snap->nodes[1].table[33].status.code() == Code::corrupt);
  CHECK(snap->nodes[1].table[33].status.message().find("zeroed") != std::string::npos);
  CHECK(snap->nodes[1].table[32].status.ok());
  CHECK(snap->nodes[0].epoch.status.code() == Code::corrupt);
  CHECK(snap->invalid_records() == 2);
}

TEST_CASE("snapshot: a damaged primary superblock falls back to the backup; foreign records are flagged") {
  auto disk = std::make_shared<MemoryDisk>(512, 4 << 20);
  MemoryBlockDevice dev(disk, "mem");
  FakeClock clock;
  Superblock sb = make_sb(512);
  REQUIRE(initialize_quorum_disk(dev, clock, sb, RecordSeal::crc_only(), Millis(100)).ok());
  disk->bytes[100] ^= std::byte{0x40};
  auto layout = *DiskLayout::for_sector_size(512);
  // A heartbeat of another cluster in node 1's region.
  HeartbeatRecord hb;
  hb.cluster_uuid = *random_uuid();
  hb.node_id = 1;
  hb.incarnation = 3;
  hb.seq = 1;
  AlignedBuffer block(layout.block_size(), 4096);
  encode_heartbeat(hb, layout, RecordSeal::crc_only(), block.span());
  REQUIRE(write_blocking(dev, clock, layout.heartbeat_offset(1), block.span(), Millis(100)).ok());

  auto snap = read_disk_snapshot(dev, clock, Millis(100), RecordSeal::crc_only());
  REQUIRE(snap.ok());
  CHECK(snap->superblock.status.code() == Code::corrupt);
  REQUIRE(snap->valid_superblock() != nullptr);
  CHECK(snap->valid_superblock()->cluster_uuid == sb.cluster_uuid);
  CHECK(snap->nodes[0].heartbeat.status.code() == Code::corrupt);
  CHECK(snap->nodes[0].heartbeat.status.message().find("another cluster") != std::string::npos);
  CHECK(snap->invalid_records() == 2);
}

TEST_CASE("snapshot refuses a device smaller than the layout") {
  auto disk = std::make_shared<MemoryDisk>(512, 64 * 1024);
  MemoryBlockDevice dev(disk, "tiny");
  FakeClock clock;
  CHECK(read_disk_snapshot(dev, clock, Millis(100), RecordSeal::crc_only()).status().code() == Code::invalid_argument);
  CHECK_FALSE(initialize_quorum_disk(dev, clock, make_sb(512), RecordSeal::crc_only(), Millis(100)).ok());
}

TEST_CASE("cli args: options, flags, positional, and clear errors") {
  std::vector<OptionSpec> spec = {{"--cluster", true}, {"--force", false}};
  auto a = parse_cli_args({"/dev/x", "--cluster", "c", "--force"}, spec);
  REQUIRE(a.ok());
  CHECK(a->positional == std::vector<std::string>{"/dev/x"});
  CHECK(*a->value("--cluster") == "c");
  CHECK(a->has("--force"));
  CHECK(parse_cli_args({"--cluster=c2"}, spec)->value("--cluster") == "c2");
  CHECK(parse_cli_args({"--bogus"}, spec).status().message() == "unknown option --bogus");
  CHECK(parse_cli_args({"--cluster"}, spec).status().message() == "option --cluster needs a value");
  CHECK(parse_cli_args({"--force=1"}, spec).status().code() == Code::invalid_argument);
  CHECK(parse_int("12x", 0, 100, "--io-timeout").status().code() == Code::invalid_argument);
  CHECK(parse_int("200", 0, 100, "--io-timeout").status().message() == "--io-timeout 200 is outside [0, 100]");
  CHECK(*parse_int("42", 0, 100, "n") == 42);
}

// Review R5: castor init --force carries the highest epoch of the old disk into the new epoch records.
TEST_CASE("read_highest_epoch: both floors and every valid entry, of any cluster; unreadable records listed") {
  auto disk = std::make_shared<MemoryDisk>(4096, 4 << 20);
  MemoryBlockDevice dev(disk, "mem");
  FakeClock clock;
  Superblock old_sb = make_sb(4096);
  REQUIRE(initialize_quorum_disk(dev, clock, old_sb, RecordSeal::crc_only(), Millis(100), 7).ok());
  auto layout = *DiskLayout::for_sector_size(4096);
  // Node 2, table block 3: one service at epoch 41 (above both floors), written for another cluster.
  ServiceTableRecord t;
  t.cluster_uuid = *random_uuid();
  t.node_id = 2;
  t.block_index = 3;
  t.incarnation = 5;
  t.seq = 9;
  t.entries.resize(layout.services_per_block());
  t.entries[2].in_use = true;
  t.entries[2].state = OwnershipState::owned;
  t.entries[2].node = 2;
  t.entries[2].epoch = 41;
  t.entries[2].name = "web";
  const uint64_t off = layout.service_table_offset(2) + 3 * uint64_t(layout.block_size());
  REQUIRE(encode_service_table(t, layout, RecordSeal::crc_only(), std::span(disk->bytes).subspan(off, layout.block_size())).ok());
  auto h = read_highest_epoch(dev, clock, Millis(100), RecordSeal::tag_unchecked());
  REQUIRE(h.ok());
  CHECK(h->floors[0] == std::optional<uint64_t>(7));
  CHECK(h->floors[1] == std::optional<uint64_t>(7));
  CHECK(h->entries == 1);
  CHECK(h->highest_entry == 41);
  CHECK(h->highest == 41);
  CHECK(h->unreadable.empty());

  // Node 1's epoch record garbled and node 1's table block 0 zeroed (an older init's disk): the garbled
  // record is listed, the zeroed table block is not; the highest epoch still comes from what reads.
  disk->bytes[layout.epoch_record_offset(1) + 100] ^= std::byte{0x55};
  std::fill_n(disk->bytes.begin() + layout.service_table_offset(1), layout.block_size(), std::byte{0});
  h = read_highest_epoch(dev, clock, Millis(100), RecordSeal::tag_unchecked());
  REQUIRE(h.ok());
  CHECK_FALSE(h->floors[0]);
  CHECK(h->floors[1] == std::optional<uint64_t>(7));
  CHECK(h->highest == 41);
  REQUIRE(h->unreadable.size() == 1);
  CHECK(h->unreadable[0].find("epoch record of node 1") == 0);

  // The new disk (another cluster) starts its floors there, and reads them back.
  Superblock new_sb = make_sb(4096);
  REQUIRE(initialize_quorum_disk(dev, clock, new_sb, RecordSeal::crc_only(), Millis(100), h->highest).ok());
  auto snap = read_disk_snapshot(dev, clock, Millis(100), RecordSeal::crc_only());
  REQUIRE(snap.ok());
  for (const auto& n : snap->nodes) {
    REQUIRE(n.epoch.record);
    CHECK(n.epoch.record->epoch_floor == 41);
  }
}

// Review R7: castor init --force watches the dead time its nodes run with, also on an older init's disk.
TEST_CASE("raw_superblock_timing: the io_timeout of a copy with an older formula; nothing from a damaged copy") {
  auto layout = *DiskLayout::for_sector_size(4096);
  Superblock sb = make_sb(4096);
  sb.timing = *Timing::from_io_timeout(Millis(120000));
  AlignedBuffer block(layout.block_size(), layout.block_size());
  REQUIRE(encode_superblock(sb, layout, RecordSeal::crc_only(), block.span()).ok());
  auto t = raw_superblock_timing(block.span(), layout);
  REQUIRE(t.ok());
  CHECK(t->io_timeout == Millis(120000));
  CHECK(t->dead == Millis(720000));

  // The older init's formula (W = 2T, D = F + W + T = 6T): decode_superblock refuses it, the raw timing holds.
  ByteWriter w(block.span());
  w.seek(288);
  w.u32(240000);
  seal_block(block.span(), RecordSeal::crc_only());
  CHECK_FALSE(decode_superblock(block.span(), layout, RecordSeal::crc_only()).ok());
  t = raw_superblock_timing(block.span(), layout);
  REQUIRE(t.ok());
  CHECK(t->io_timeout == Millis(120000));
  CHECK(t->dead == Millis(720000));

  // A copy whose CRC fails: its fields may be anything, so it gives no timing.
  block.span()[200] ^= std::byte{0x01};
  CHECK_FALSE(raw_superblock_timing(block.span(), layout).ok());
  // Nor does an io_timeout field of 0 with a valid CRC.
  block.span()[200] ^= std::byte{0x01};
  w.seek(272);
  w.u32(0);
  seal_block(block.span(), RecordSeal::crc_only());
  CHECK_FALSE(raw_superblock_timing(block.span(), layout).ok());
}
