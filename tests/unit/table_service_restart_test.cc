// What a restarted quorumd makes of its own region (TableService::load_own_region, from the start-up
// snapshot), as the spin model's restart step has it (tests/model/castor.pml, the corrupt_restart run):
//  - a corrupt own table block starts empty and is reported, but the epoch record that decodes is loaded as
//    the durable floor: the epoch the lost block held stays below every new one (the model's seeded
//    BUG_RESTART_REBUILD_FLOOR rebuilds the floor here instead and grants that epoch again);
//  - a corrupt epoch record is rebuilt from the own valid entries, the peer's valid entries and the peer's
//    floor, and nothing counts as durable until the rebuilt record is written.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <unistd.h>

#include "common/aligned_buffer.h"
#include "common/clock.h"
#include "common/uuid.h"
#include "control/control_server.h"
#include "disk/disk_layout.h"
#include "disk/disk_snapshot.h"
#include "disk/epoch_record.h"
#include "disk/quorum_disk_init.h"
#include "disk/service_table_record.h"
#include "disk/superblock.h"
#include "disk/testing/memory_block_device.h"
#include "quorumd/heartbeat_io.h"
#include "quorumd/table_service.h"
#include "tests/support/test_superblock.h"

using namespace castor;

namespace {

const Millis kTimeout{200};

struct Region {
  FakeClock clock;
  DiskLayout layout = *DiskLayout::for_sector_size(512);
  std::shared_ptr<MemoryDisk> disk = std::make_shared<MemoryDisk>(512, 4 << 20);
  MemoryBlockDevice dev{disk, "mem"};
  Superblock sb = testing::two_node_superblock("test", *Timing::from_io_timeout(kTimeout));
  std::string dir;

  Region() {
    REQUIRE(initialize_quorum_disk(dev, clock, sb, RecordSeal::crc_only(), kTimeout).ok());
    char tmpl[] = "/tmp/castor-table-restart-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
  }
  ~Region() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  void write_block(uint64_t offset, const AlignedBuffer& b) {
    REQUIRE(write_blocking(dev, clock, offset, b.span(), kTimeout).ok());
  }
  void floor(uint32_t node, uint64_t f) {
    AlignedBuffer b(layout.block_size(), layout.block_size());
    EpochRecord r;
    r.cluster_uuid = sb.cluster_uuid;
    r.node_id = node;
    r.incarnation = 7;
    r.seq = 10;
    r.epoch_floor = f;
    REQUIRE(encode_epoch_record(r, layout, RecordSeal::crc_only(), b.span()).ok());
    write_block(layout.epoch_record_offset(node), b);
  }
  // Table block 0 of `node` holding `name`, owned by `node` with epoch `epoch`.
  void table(uint32_t node, const std::string& name, uint64_t epoch) {
    AlignedBuffer b(layout.block_size(), layout.block_size());
    ServiceTableRecord r;
    r.cluster_uuid = sb.cluster_uuid;
    r.node_id = node;
    r.block_index = 0;
    r.incarnation = 7;
    r.seq = 11;
    r.entries.resize(layout.services_per_block());
    ServiceEntry& e = r.entries[0];
    e.in_use = true;
    e.name = name;
    e.state = OwnershipState::owned;
    e.node = node;
    e.ballot = epoch + 1;
    e.epoch = epoch;
    REQUIRE(encode_service_table(r, layout, RecordSeal::crc_only(), b.span()).ok());
    write_block(layout.service_table_offset(node), b);
  }
  void garbage(uint64_t offset) {
    AlignedBuffer b(layout.block_size(), layout.block_size());
    for (size_t i = 0; i < b.span().size(); ++i) b.span()[i] = std::byte(0x5a ^ (i * 31));
    write_block(offset, b);
  }

  // A new quorumd process of `node` loads its region from a fresh start-up snapshot.
  std::unique_ptr<TableService> restart(uint32_t node) {
    auto snap = read_disk_snapshot(dev, clock, kTimeout, RecordSeal::crc_only());
    REQUIRE_MESSAGE(snap.ok(), snap.status().to_string());
    server = ControlServer::listen(dir + "/q" + std::to_string(++listens) + ".sock").value();
    io = std::make_unique<HeartbeatIo>();
    auto t = TableService::create(layout, sb, node, RecordSeal::crc_only(), *snap, TableService::Options{}, clock.now(), *server, dev, *io);
    REQUIRE_MESSAGE(t.ok(), t.status().to_string());
    return std::move(t).value();
  }
  std::unique_ptr<ControlServer> server;
  std::unique_ptr<HeartbeatIo> io;
  int listens = 0;
};

}  // namespace

TEST_CASE("table service restart: a corrupt own table block starts empty; the floor of the epoch record stays") {
  Region r;
  r.floor(2, 3);
  r.table(2, "web", 3);
  {
    auto t = r.restart(2);  // the region intact: loaded as written
    REQUIRE(t->store().entries().size() == 1);
    CHECK(t->store().durable_floor() == 3);
  }
  r.garbage(r.layout.service_table_offset(2));  // garbage over table block 0 while the node is down
  auto t = r.restart(2);
  CHECK(t->store().entries().empty());
  CHECK(t->store().corrupt().count(0) == 1);
  CHECK_FALSE(t->store().floor_error().has_value());
  // The epoch record decodes: its floor is durable at once; the epoch 3 the lost block held is covered.
  CHECK(t->store().durable_floor() == 3);
  CHECK(t->store().wanted_floor() == 3);
}

TEST_CASE("table service restart: a corrupt own epoch record is rebuilt from both nodes' entries and the peer's floor") {
  Region r;
  r.floor(2, 3);
  r.table(2, "web", 3);
  r.floor(1, 5);
  r.table(1, "db", 4);
  r.garbage(r.layout.epoch_record_offset(2));
  auto t = r.restart(2);
  REQUIRE(t->store().entries().size() == 1);  // the own table block decodes
  CHECK(t->store().corrupt().empty());
  CHECK(t->store().floor_error().has_value());
  CHECK(t->store().durable_floor() == 0);  // nothing durable until the rebuilt record is written
  CHECK(t->store().wanted_floor() == 5);   // own entry 3, peer entry 4, peer floor 5
  // ... and that record goes before any table block.
  CHECK(t->store().next_dirty() == ServiceTableStore::kEpochRecord);
}
