// open_quorum_device_set(): a set of three quorum devices is found and ordered by each one's superblock, runs
// on a majority with the lost member in its place, and what must never run is refused (issue 17).
#include <doctest/doctest.h>

#include <map>
#include <memory>

#include "disk/failed_block_device.h"
#include "disk/quorum_device_set.h"
#include "disk/quorum_disk_init.h"
#include "disk/testing/memory_block_device.h"
#include "tests/support/test_superblock.h"

using namespace castor;

namespace {

const Millis kTimeout{200};

Uuid id_of(uint8_t seed) {
  Uuid u;
  u.bytes[0] = seed;
  u.bytes[15] = 0x5c;
  return u;
}

// Named memory disks, opened by name as AioBlockDevice::open opens paths.
struct Disks {
  std::map<std::string, std::shared_ptr<MemoryDisk>> by_name;
  FakeClock clock;
  std::shared_ptr<MemoryDisk> add(const std::string& name) {
    return by_name[name] = std::make_shared<MemoryDisk>(512, 4 << 20);
  }
  OpenQuorumDevice opener() {
    return [this](const std::string& path) -> Result<std::unique_ptr<BlockDevice>> {
      auto it = by_name.find(path);
      if (it == by_name.end()) return Error(Code::not_found, path + ": no such device");
      return std::unique_ptr<BlockDevice>(std::make_unique<MemoryBlockDevice>(it->second, path));
    };
  }
  Status init_set(const std::vector<std::string>& names, const std::string& cluster = "test", uint8_t seed = 1) {
    Superblock sb = testing::two_node_superblock(cluster, *Timing::from_io_timeout(kTimeout));
    sb.devices.count = kQuorumDevices;
    sb.devices.members = {id_of(seed), id_of(uint8_t(seed + 1)), id_of(uint8_t(seed + 2))};
    std::vector<std::unique_ptr<MemoryBlockDevice>> devs;
    std::vector<BlockDevice*> raw;
    for (const auto& n : names) {
      devs.push_back(std::make_unique<MemoryBlockDevice>(add(n), n));
      raw.push_back(devs.back().get());
    }
    return initialize_quorum_device_set(raw, clock, sb, RecordSeal::crc_only(), kTimeout);
  }
  Result<QuorumDeviceSet> open(const std::vector<std::string>& paths) {
    return open_quorum_device_set(paths, opener(), clock, kTimeout, RecordSeal::crc_only());
  }
};

}  // namespace

TEST_CASE("device set: three members are ordered by their superblocks, whatever order they are listed in") {
  Disks d;
  REQUIRE(d.init_set({"a", "b", "c"}).ok());
  auto set = d.open({"c", "a", "b"});
  REQUIRE_MESSAGE(set.ok(), set.status().to_string());
  REQUIRE(set->members.size() == kQuorumDevices);
  CHECK(set->members[0].path == "a");
  CHECK(set->members[1].path == "b");
  CHECK(set->members[2].path == "c");
  CHECK(set->answering() == 3);
  CHECK(set->lost_text().empty());
  for (uint32_t i = 0; i < kQuorumDevices; ++i) {
    REQUIRE(set->members[i].superblock);
    CHECK(set->members[i].superblock->devices.index == i);
  }
  CHECK(set->superblock.devices.count == kQuorumDevices);
  CHECK(set->superblock.cluster_name == "test");
}

TEST_CASE("device set: a missing or unreadable member keeps its place as a failed device; two lost are refused") {
  Disks d;
  REQUIRE(d.init_set({"a", "b", "c"}).ok());
  SUBCASE("one path does not open") {
    auto set = d.open({"a", "b", "gone"});
    REQUIRE_MESSAGE(set.ok(), set.status().to_string());
    CHECK(set->answering() == 2);
    CHECK(set->members[2].lost());
    CHECK(set->members[2].path == "gone");
    CHECK(dynamic_cast<FailedBlockDevice*>(set->members[2].device.get()) != nullptr);
    CHECK(set->lost_text().find("gone (member 2)") != std::string::npos);
  }
  SUBCASE("one member zeroed: its superblock does not decode") {
    auto& bytes = d.by_name["b"]->bytes;
    std::fill(bytes.begin(), bytes.end(), std::byte{0});
    auto set = d.open({"a", "b", "c"});
    REQUIRE_MESSAGE(set.ok(), set.status().to_string());
    CHECK(set->members[1].lost());
    CHECK(set->members[1].path == "b");
    CHECK(set->answering() == 2);
  }
  SUBCASE("two members lost") {
    auto& bytes = d.by_name["b"]->bytes;
    std::fill(bytes.begin(), bytes.end(), std::byte{0});
    auto set = d.open({"a", "b", "gone"});
    REQUIRE_FALSE(set.ok());
    CHECK(set.status().code() == Code::refused);
    CHECK(set.status().message().find("majority") != std::string::npos);
  }
}

TEST_CASE("device set: what must never run is refused") {
  Disks d;
  REQUIRE(d.init_set({"a", "b", "c"}).ok());
  SUBCASE("one member listed alone") {
    auto one = d.open({"b"});
    REQUIRE_FALSE(one.ok());
    CHECK(one.status().code() == Code::refused);
    CHECK(one.status().message().find("member 1 of a set") != std::string::npos);
  }
  SUBCASE("a member of another cluster") {
    REQUIRE(d.init_set({"x", "y", "z"}, "other", 11).ok());
    auto mixed = d.open({"a", "b", "z"});
    REQUIRE_FALSE(mixed.ok());
    CHECK(mixed.status().message().find("different clusters") != std::string::npos);
  }
  SUBCASE("a single quorum disk among them") {
    Superblock sb = testing::two_node_superblock("test", *Timing::from_io_timeout(kTimeout));
    MemoryBlockDevice single(d.add("s"), "s");
    REQUIRE(initialize_quorum_disk(single, d.clock, sb, RecordSeal::crc_only(), kTimeout).ok());
    auto mixed = d.open({"a", "b", "s"});
    REQUIRE_FALSE(mixed.ok());
    CHECK(mixed.status().message().find("single quorum disk") != std::string::npos);
  }
  SUBCASE("one device under two names") {
    d.by_name["a2"] = d.by_name["a"];
    auto twice = d.open({"a", "a2", "b"});
    REQUIRE_FALSE(twice.ok());
    CHECK(twice.status().message().find("same quorum device") != std::string::npos);
  }
  SUBCASE("two paths, or four") {
    CHECK(d.open({"a", "b"}).status().code() == Code::invalid_argument);
    CHECK(d.open({"a", "b", "c", "a"}).status().code() == Code::invalid_argument);
  }
}

TEST_CASE("device set: a member replaced out of the set (an older generation not in the newest list) is lost") {
  Disks d;
  REQUIRE(d.init_set({"a", "b", "c"}).ok());
  // What castor disk replace leaves: b and c name a new member 0 at generation 1; "a" still says generation 0.
  for (const char* n : {"b", "c"}) {
    MemoryBlockDevice dev(d.by_name[n], n);
    auto sb = read_device_superblock(dev, d.clock, kTimeout, RecordSeal::crc_only());
    REQUIRE(sb.ok());
    sb->devices.generation = 1;
    sb->devices.members[0] = id_of(42);
    auto layout = *DiskLayout::for_sector_size(512);
    std::vector<std::byte> block(layout.block_size());
    REQUIRE(encode_superblock(*sb, layout, RecordSeal::crc_only(), block).ok());
    for (uint64_t off : {layout.superblock_offset(), layout.superblock_backup_offset()})
      REQUIRE(write_blocking(dev, d.clock, off, block, kTimeout).ok());
  }
  auto set = d.open({"a", "b", "c"});
  REQUIRE_MESSAGE(set.ok(), set.status().to_string());
  CHECK(set->members[0].lost());
  CHECK(set->members[0].status.message().find("no longer a member") != std::string::npos);
  CHECK(set->answering() == 2);
  CHECK(set->superblock.devices.generation == 1);
}
