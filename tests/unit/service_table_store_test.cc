// Tests for quorumd's copy of this node's service table (quorumd/service_table_store.h): slot
// allocation, the dirty / in-flight / blocked write cycle, and encoding that decodes back.
#include <doctest/doctest.h>

#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "quorumd/service_table_store.h"
#include "disk/disk_layout.h"
#include "disk/epoch_record.h"
#include "disk/service_table_record.h"
#include "tests/support/sample_records.h"

using namespace castor;

namespace {

constexpr uint32_t kNode = 1;
constexpr uint64_t kHighFloor = 1000000;  // a durable floor above every epoch the block tests use

Uuid fixed_uuid() {
  Uuid u;
  for (size_t i = 0; i < u.bytes.size(); ++i) u.bytes[i] = uint8_t(0xa0 + i * 7);
  return u;
}

DiskLayout layout512() {
  auto l = DiskLayout::for_sector_size(512);
  REQUIRE(l.ok());
  return *l;
}

ServiceEntry entry(const std::string& name, uint64_t epoch = 1) {
  ServiceEntry e = testing::service_entry(name, OwnershipState::owned, kNode, epoch, epoch + 100);
  e.definition_digest = 0xfeedface00000000ull + epoch;
  e.changed_wall_ns = 1764170000000000000 + int64_t(epoch);
  e.restarts = uint32_t(epoch % 5);
  return e;
}

struct Encoded {
  std::vector<std::byte> bytes;
  ServiceTableRecord rec;
};

// Encodes block b through the store and decodes it back with the record decoder.
Encoded encode_and_decode(ServiceTableStore& store, const DiskLayout& layout, uint32_t b, uint64_t incarnation,
                          int64_t wall_ns = 123) {
  Encoded out;
  out.bytes.assign(layout.block_size(), std::byte{0x5a});  // garbage: encode must overwrite all of it
  Status st = store.encode(b, incarnation, wall_ns, out.bytes);
  REQUIRE_MESSAGE(st.ok(), st.to_string());
  auto rec = decode_service_table(out.bytes, layout, kNode, b, RecordSeal::crc_only());
  REQUIRE_MESSAGE(rec.ok(), rec.status().to_string());
  out.rec = *rec;
  return out;
}

// Writes every dirty block (as quorumd's loop would, with writes that succeed); returns the blocks written.
std::vector<uint32_t> flush(ServiceTableStore& store, const DiskLayout& layout, uint64_t incarnation) {
  std::vector<uint32_t> written;
  std::vector<std::byte> buf(layout.block_size());
  while (auto b = store.next_dirty()) {
    REQUIRE(store.encode(*b, incarnation, 1, buf).ok());
    store.write_done(*b, true, false);
    written.push_back(*b);
    REQUIRE(written.size() <= kServiceTableBlocks);
  }
  return written;
}

}  // namespace

TEST_CASE("service table store: layout assumptions for 512-byte sectors") {
  DiskLayout layout = layout512();
  CHECK(layout.block_size() == 4096);
  CHECK(layout.services_per_block() == 31);
  CHECK(layout.service_slots() == 31 * kServiceTableBlocks);
  CHECK(layout.service_slots() >= kMinServiceSlots);
}

TEST_CASE("service table store: a new store is empty and clean") {
  DiskLayout layout = layout512();
  ServiceTableStore store(layout, fixed_uuid(), kNode, RecordSeal::crc_only());
  CHECK(store.entries().empty());
  CHECK_FALSE(store.next_dirty().has_value());
  CHECK_FALSE(store.blocked());
  for (uint32_t b = 0; b < kServiceTableBlocks; ++b) CHECK_FALSE(store.in_flight(b));
}

TEST_CASE("service table store: set() picks a free slot and marks its block dirty") {
  DiskLayout layout = layout512();
  ServiceTableStore store(layout, fixed_uuid(), kNode, RecordSeal::crc_only());
  store.load_floor(kHighFloor);  // epochs are covered: these cases are about blocks

  auto b = store.set(entry("web"));
  REQUIRE_MESSAGE(b.ok(), b.status().to_string());
  CHECK(*b < kServiceTableBlocks);
  REQUIRE(store.next_dirty().has_value());
  CHECK(*store.next_dirty() == *b);
  CHECK_FALSE(store.in_flight(*b));

  auto all = store.entries();
  REQUIRE(all.size() == 1);
  CHECK(all[0] == entry("web"));

  // in_use is forced on even if the caller forgot it.
  ServiceEntry e = entry("db", 2);
  e.in_use = false;
  auto b2 = store.set(e);
  REQUIRE(b2.ok());
  all = store.entries();
  REQUIRE(all.size() == 2);
  for (const auto& x : all) CHECK(x.in_use);

  // Both services landed in distinct slots of the encoded block.
  auto enc = encode_and_decode(store, layout, *b, 7);
  int used = 0;
  for (const auto& x : enc.rec.entries) used += x.in_use;
  if (*b2 == *b) CHECK(used == 2);
  else CHECK(used == 1);
}

TEST_CASE("service table store: set() of the same name keeps its slot") {
  DiskLayout layout = layout512();
  ServiceTableStore store(layout, fixed_uuid(), kNode, RecordSeal::crc_only());
  store.load_floor(kHighFloor);  // epochs are covered: these cases are about blocks
  // Enough names to spill into a second block.
  std::vector<uint32_t> blocks;
  for (uint32_t i = 0; i < layout.services_per_block() + 3; ++i) {
    auto b = store.set(entry("svc-" + std::to_string(i)));
    REQUIRE(b.ok());
    blocks.push_back(*b);
  }
  CHECK(blocks.front() != blocks.back());
  flush(store, layout, 9);
  CHECK_FALSE(store.next_dirty().has_value());

  // Update one in the middle of each block: same block, same index, only that block dirty.
  const std::string name = "svc-" + std::to_string(layout.services_per_block() + 1);
  auto before = encode_and_decode(store, layout, blocks.back(), 9);
  store.write_done(blocks.back(), true, false);
  int index_before = -1;
  for (size_t i = 0; i < before.rec.entries.size(); ++i)
    if (before.rec.entries[i].name == name) index_before = int(i);
  REQUIRE(index_before >= 0);

  ServiceEntry updated = entry(name, 77);
  updated.state = OwnershipState::releasing;
  updated.flags = ServiceEntry::kFrozen;
  auto b = store.set(updated);
  REQUIRE(b.ok());
  CHECK(*b == blocks.back());
  REQUIRE(store.next_dirty().has_value());
  CHECK(*store.next_dirty() == *b);

  auto after = encode_and_decode(store, layout, *b, 9);
  CHECK(after.rec.entries[size_t(index_before)] == updated);
  int count = 0;
  for (const auto& x : after.rec.entries) count += x.in_use && x.name == name;
  CHECK(count == 1);
  CHECK(store.entries().size() == layout.services_per_block() + 3);
}

TEST_CASE("service table store: encode() decodes to the same entries with the incarnation and rising seq") {
  DiskLayout layout = layout512();
  const Uuid uuid = fixed_uuid();
  ServiceTableStore store(layout, uuid, kNode, RecordSeal::crc_only());
  store.load_floor(kHighFloor);  // epochs are covered: these cases are about blocks
  std::vector<ServiceEntry> set_entries;
  for (int i = 0; i < 5; ++i) {
    ServiceEntry e = entry("svc" + std::to_string(i), uint64_t(i + 1));
    e.state = OwnershipState(i % (kMaxOwnershipState + 1));
    e.node = uint32_t(i % 3);
    e.flags = (i % 2) ? ServiceEntry::kFrozen : 0;
    set_entries.push_back(e);
    REQUIRE(store.set(e).ok());
  }
  // A 63-byte name (the longest) too.
  set_entries.push_back(entry(std::string(kNameWidth - 1, 'n'), 99));
  REQUIRE(store.set(set_entries.back()).ok());

  auto b = store.next_dirty();
  REQUIRE(b.has_value());
  const uint64_t inc = 0x1122334455667788ull;
  auto enc = encode_and_decode(store, layout, *b, inc, 4242);
  CHECK(enc.rec.cluster_uuid == uuid);
  CHECK(enc.rec.node_id == kNode);
  CHECK(enc.rec.block_index == *b);
  CHECK(enc.rec.incarnation == inc);
  CHECK(enc.rec.wall_time_ns == 4242);
  CHECK(enc.rec.entries.size() == layout.services_per_block());
  std::vector<ServiceEntry> decoded;
  for (const auto& e : enc.rec.entries)
    if (e.in_use) decoded.push_back(e);
  CHECK(decoded == set_entries);  // first free slots are taken in order
  CHECK(decoded == store.entries());

  // Seq strictly increases from one encode to the next, whatever block.
  uint64_t last_seq = enc.rec.seq;
  CHECK(last_seq > 0);
  store.write_done(*b, true, false);
  for (int round = 0; round < 5; ++round) {
    REQUIRE(store.set(entry("svc0", uint64_t(50 + round))).ok());
    auto again = encode_and_decode(store, layout, *b, inc);
    CHECK(again.rec.seq > last_seq);
    last_seq = again.rec.seq;
    store.write_done(*b, true, false);
  }
  // An untouched block encodes too (empty), with a higher seq still.
  const uint32_t other = (*b + 1) % kServiceTableBlocks;
  auto empty = encode_and_decode(store, layout, other, inc);
  CHECK(empty.rec.seq > last_seq);
  for (const auto& e : empty.rec.entries) CHECK_FALSE(e.in_use);
}

TEST_CASE("service table store: the dirty / in-flight / write_done cycle") {
  DiskLayout layout = layout512();
  ServiceTableStore store(layout, fixed_uuid(), kNode, RecordSeal::crc_only());
  store.load_floor(kHighFloor);  // epochs are covered: these cases are about blocks
  std::vector<std::byte> buf(layout.block_size());

  auto b = store.set(entry("web"));
  REQUIRE(b.ok());
  REQUIRE(store.next_dirty() == *b);

  SUBCASE("a successful write leaves the block clean") {
    REQUIRE(store.encode(*b, 5, 1, buf).ok());
    CHECK(store.in_flight(*b));
    CHECK_FALSE(store.next_dirty().has_value());
    store.write_done(*b, true, false);
    CHECK_FALSE(store.in_flight(*b));
    CHECK_FALSE(store.next_dirty().has_value());
    CHECK_FALSE(store.blocked());
  }
  SUBCASE("a failed write makes the block dirty again") {
    REQUIRE(store.encode(*b, 5, 1, buf).ok());
    CHECK_FALSE(store.next_dirty().has_value());
    store.write_done(*b, false, false);
    CHECK_FALSE(store.in_flight(*b));
    CHECK_FALSE(store.blocked());
    REQUIRE(store.next_dirty().has_value());
    CHECK(*store.next_dirty() == *b);
  }
  SUBCASE("a change while in flight waits for the write to finish") {
    REQUIRE(store.encode(*b, 5, 1, buf).ok());
    auto b2 = store.set(entry("web", 2));
    REQUIRE(b2.ok());
    CHECK(*b2 == *b);
    CHECK_FALSE(store.next_dirty().has_value());  // never two writes of one block in the kernel
    store.write_done(*b, true, false);
    REQUIRE(store.next_dirty().has_value());  // the newer content still needs writing
    CHECK(*store.next_dirty() == *b);
    auto enc = encode_and_decode(store, layout, *b, 5);
    bool found = false;
    for (const auto& e : enc.rec.entries)
      if (e.in_use && e.name == "web") {
        CHECK(e.epoch == 2);
        found = true;
      }
    CHECK(found);
  }
  SUBCASE("other blocks are written while one is in flight") {
    // Fill the rest of block b so the next name goes elsewhere.
    for (uint32_t i = 1; i < layout.services_per_block(); ++i) REQUIRE(store.set(entry("fill" + std::to_string(i))).ok());
    REQUIRE(store.encode(*b, 5, 1, buf).ok());
    auto other = store.set(entry("elsewhere"));
    REQUIRE(other.ok());
    REQUIRE(*other != *b);
    REQUIRE(store.next_dirty().has_value());
    CHECK(*store.next_dirty() == *other);
  }
  SUBCASE("a timed-out write blocks every block until the device is quiescent") {
    // Dirty a second block as well.
    for (uint32_t i = 1; i < layout.services_per_block(); ++i) REQUIRE(store.set(entry("fill" + std::to_string(i))).ok());
    auto other = store.set(entry("elsewhere"));
    REQUIRE(other.ok());
    REQUIRE(*other != *b);

    REQUIRE(store.encode(*b, 5, 1, buf).ok());
    store.write_done(*b, false, true);
    CHECK(store.blocked());
    CHECK_FALSE(store.in_flight(*b));
    CHECK_FALSE(store.next_dirty().has_value());  // neither b (dirty again) nor `other`

    // More changes while blocked stay pending.
    REQUIRE(store.set(entry("web", 3)).ok());
    CHECK_FALSE(store.next_dirty().has_value());
    CHECK(store.blocked());

    store.device_quiescent();
    CHECK_FALSE(store.blocked());
    std::set<uint32_t> dirty;
    while (auto d = store.next_dirty()) {
      dirty.insert(*d);
      REQUIRE(store.encode(*d, 5, 1, buf).ok());
      store.write_done(*d, true, false);
      REQUIRE(dirty.size() <= 2);
    }
    CHECK(dirty == std::set<uint32_t>{*b, *other});
  }
  SUBCASE("a timed-out write of one block while another is in flight") {
    for (uint32_t i = 1; i < layout.services_per_block(); ++i) REQUIRE(store.set(entry("fill" + std::to_string(i))).ok());
    auto other = store.set(entry("elsewhere"));
    REQUIRE(other.ok());
    REQUIRE(store.encode(*b, 5, 1, buf).ok());
    REQUIRE(store.encode(*other, 5, 1, buf).ok());
    store.write_done(*b, false, true);
    CHECK(store.blocked());
    CHECK(store.in_flight(*other));
    store.write_done(*other, true, false);
    CHECK(store.blocked());
    CHECK_FALSE(store.next_dirty().has_value());
    store.device_quiescent();
    REQUIRE(store.next_dirty().has_value());
    CHECK(*store.next_dirty() == *b);
  }
}

TEST_CASE("service table store: load() restores slots") {
  DiskLayout layout = layout512();
  const Uuid uuid = fixed_uuid();

  // What a previous quorumd wrote: block 3 with two services at slots 4 and 30, seq 500.
  ServiceTableRecord rec;
  rec.cluster_uuid = uuid;
  rec.node_id = kNode;
  rec.block_index = 3;
  rec.incarnation = 41;
  rec.seq = 500;
  rec.wall_time_ns = 9;
  rec.entries.resize(layout.services_per_block());
  rec.entries[4] = entry("ledger", 11);
  rec.entries[30] = entry("queue", 12);
  // Round trip through the disk format, as a snapshot would be read.
  std::vector<std::byte> disk(layout.block_size());
  REQUIRE(encode_service_table(rec, layout, RecordSeal::crc_only(), disk).ok());
  auto from_disk = decode_service_table(disk, layout, kNode, 3, RecordSeal::crc_only());
  REQUIRE(from_disk.ok());

  ServiceTableStore store(layout, uuid, kNode, RecordSeal::crc_only());
  store.load_floor(kHighFloor);  // epochs are covered: these cases are about blocks
  store.load(3, *from_disk);
  CHECK_FALSE(store.next_dirty().has_value());  // loading writes nothing
  auto all = store.entries();
  REQUIRE(all.size() == 2);
  CHECK(all[0] == entry("ledger", 11));
  CHECK(all[1] == entry("queue", 12));

  // A loaded name keeps its block and slot.
  auto b = store.set(entry("queue", 13));
  REQUIRE(b.ok());
  CHECK(*b == 3);
  auto enc = encode_and_decode(store, layout, 3, 42);
  CHECK(enc.rec.entries[30] == entry("queue", 13));
  CHECK(enc.rec.entries[4] == entry("ledger", 11));
  CHECK(enc.rec.seq > 500);  // seq continues above what is on disk
  CHECK(enc.rec.incarnation == 42);
  store.write_done(3, true, false);

  // A new name takes the first free slot: block 0, slot 0.
  auto n = store.set(entry("fresh"));
  REQUIRE(n.ok());
  CHECK(*n == 0);
  auto enc0 = encode_and_decode(store, layout, 0, 42);
  CHECK(enc0.rec.entries[0].name == "fresh");
  CHECK(enc0.rec.seq > enc.rec.seq);
  store.write_done(0, true, false);

  // Free slots inside a loaded block are reused after block 0 is full.
  for (uint32_t i = 1; i < layout.services_per_block(); ++i) {
    auto x = store.set(entry("b0-" + std::to_string(i)));
    REQUIRE(x.ok());
    CHECK(*x == 0);
  }
  for (uint32_t b1 = 1; b1 < 3; ++b1)
    for (uint32_t i = 0; i < layout.services_per_block(); ++i) {
      auto x = store.set(entry("b" + std::to_string(b1) + "-" + std::to_string(i)));
      REQUIRE(x.ok());
      CHECK(*x == b1);
    }
  auto in3 = store.set(entry("into-block-3"));
  REQUIRE(in3.ok());
  CHECK(*in3 == 3);
  auto enc3 = encode_and_decode(store, layout, 3, 42);
  CHECK(enc3.rec.entries[0].name == "into-block-3");
  CHECK(enc3.rec.entries[4].name == "ledger");
}

TEST_CASE("service table store: load() ignores what does not fit") {
  DiskLayout layout = layout512();
  ServiceTableStore store(layout, fixed_uuid(), kNode, RecordSeal::crc_only());
  store.load_floor(kHighFloor);  // epochs are covered: these cases are about blocks
  ServiceTableRecord rec;
  rec.seq = 10;
  rec.entries.resize(layout.services_per_block());
  rec.entries[0] = entry("ghost");
  store.load(kServiceTableBlocks, rec);  // block out of range
  CHECK(store.entries().empty());

  ServiceTableRecord short_rec = rec;
  short_rec.entries.resize(layout.services_per_block() - 1);
  store.load(0, short_rec);  // wrong number of entries
  CHECK(store.entries().empty());

  // An empty (never written) block loads as empty.
  ServiceTableRecord empty;
  empty.entries.resize(layout.services_per_block());
  store.load(0, empty);
  CHECK(store.entries().empty());
  CHECK_FALSE(store.next_dirty().has_value());
}

TEST_CASE("service table store: a full table refuses one more name") {
  DiskLayout layout = layout512();
  ServiceTableStore store(layout, fixed_uuid(), kNode, RecordSeal::crc_only());
  store.load_floor(kHighFloor);  // epochs are covered: these cases are about blocks
  const uint32_t slots = layout.service_slots();
  std::vector<uint32_t> per_block(kServiceTableBlocks, 0);
  for (uint32_t i = 0; i < slots; ++i) {
    auto b = store.set(entry("s" + std::to_string(i), i + 1));
    REQUIRE_MESSAGE(b.ok(), b.status().to_string());
    ++per_block[*b];
  }
  for (uint32_t b = 0; b < kServiceTableBlocks; ++b) CHECK(per_block[b] == layout.services_per_block());
  CHECK(store.entries().size() == slots);

  auto more = store.set(entry("one-too-many"));
  REQUIRE_FALSE(more.ok());
  CHECK(more.status().code() == Code::refused);
  CHECK(store.entries().size() == slots);

  // Existing names can still be updated.
  auto upd = store.set(entry("s0", 999));
  REQUIRE(upd.ok());
  CHECK(*upd == 0);

  // Every block encodes and decodes to full.
  auto written = flush(store, layout, 3);
  CHECK(written.size() == kServiceTableBlocks);
  size_t total = 0;
  for (uint32_t b = 0; b < kServiceTableBlocks; ++b) {
    auto enc = encode_and_decode(store, layout, b, 3);
    for (const auto& e : enc.rec.entries) total += e.in_use;
    store.write_done(b, true, false);
  }
  CHECK(total == slots);
}

TEST_CASE("service table store: bad names are refused") {
  DiskLayout layout = layout512();
  ServiceTableStore store(layout, fixed_uuid(), kNode, RecordSeal::crc_only());
  store.load_floor(kHighFloor);  // epochs are covered: these cases are about blocks
  for (const std::string& name : {std::string(kNameWidth, 'x'), std::string(kNameWidth + 1, 'x'),
                                  std::string(1000, 'x'), std::string()}) {
    CAPTURE(name.size());
    auto r = store.set(entry(name));
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::invalid_argument);
  }
  CHECK(store.entries().empty());
  CHECK_FALSE(store.next_dirty().has_value());  // a refused set() dirties nothing

  auto ok = store.set(entry(std::string(kNameWidth - 1, 'x')));
  CHECK(ok.ok());
}

// Regression: set() once checked only the name's length, so it accepted entries that cannot be encoded
// (a NUL in the name) or that read back as corrupt (non-ASCII names, node > 2, state > 5, unknown flags),
// making the whole block of 31 services unwritable or unreadable.
TEST_CASE("service table store: set() refuses entries that would not round-trip") {
  DiskLayout layout = layout512();
  auto bad_entries = [] {
    std::vector<ServiceEntry> v;
    v.push_back(entry(std::string("we\0b", 4)));
    v.push_back(entry("we\nb"));
    v.push_back(entry("caf\xc3\xa9"));
    ServiceEntry e = entry("node3");
    e.node = kNodeCount + 1;
    v.push_back(e);
    e = entry("state9");
    e.state = OwnershipState(kMaxOwnershipState + 4);
    v.push_back(e);
    e = entry("flags");
    e.flags = 0x8000;
    v.push_back(e);
    return v;
  }();
  for (const ServiceEntry& e : bad_entries) {
    CAPTURE(e.name);
    ServiceTableStore store(layout, fixed_uuid(), kNode, RecordSeal::crc_only());
    store.load_floor(kHighFloor);  // epochs are covered: these cases are about blocks
    REQUIRE(store.set(entry("neighbour")).ok());
    auto b = store.set(e);
    if (!b.ok()) continue;  // refused: fixed
    std::vector<std::byte> buf(layout.block_size());
    Status st = store.encode(*b, 5, 1, buf);
    CHECK_MESSAGE(st.ok(), "set() accepted an entry that never encodes: ", st.message());
    if (st.ok()) CHECK_MESSAGE(decode_service_table(buf, layout, kNode, *b, RecordSeal::crc_only()).ok(), "encoded block does not decode");
  }
}

// Regression: with no lease, quorumd dropped a pending block write with write_done(ok), which left the
// block dirty, so pump_table() looped on it forever at 100% CPU. discard() is what it must use.
TEST_CASE("service table store: discard() forgets a pending write") {
  auto layout = *DiskLayout::for_sector_size(512);
  Uuid u;
  u.bytes[0] = 9;
  ServiceTableStore store(layout, u, 1, RecordSeal::crc_only());
  ServiceEntry e;
  e.in_use = true;
  e.name = "web";
  e.state = OwnershipState::claiming;
  e.node = 1;
  auto b = store.set(e);
  REQUIRE(b.ok());
  REQUIRE(store.next_dirty() == *b);
  store.discard(*b);
  CHECK_FALSE(store.next_dirty().has_value());
}

// ---- the epoch floor, corrupt blocks, scrubs (issue 12) ------------------------------------------------

namespace {

uint64_t floor_of(ServiceTableStore& store, const DiskLayout& layout, uint64_t inc = 5) {
  std::vector<std::byte> buf(layout.block_size());
  Status st = store.encode(ServiceTableStore::kEpochRecord, inc, 1, buf);
  REQUIRE_MESSAGE(st.ok(), st.to_string());
  auto rec = decode_epoch_record(buf, layout, kNode, RecordSeal::crc_only());
  REQUIRE_MESSAGE(rec.ok(), rec.status().to_string());
  CHECK(rec->cluster_uuid == fixed_uuid());
  CHECK(rec->incarnation == inc);
  return rec->epoch_floor;
}

}  // namespace

// Regression (issue 12, item 3): epochs were reused when a table block was lost. A table block holding
// epoch e may be written only after an epoch record with floor >= e completed ok.
TEST_CASE("service table store: the epoch record is written and completed before a table block it must cover") {
  DiskLayout layout = layout512();
  ServiceTableStore store(layout, fixed_uuid(), kNode, RecordSeal::crc_only());
  store.load_floor(3);
  std::vector<std::byte> buf(layout.block_size());

  // Epoch 3 is covered: the table block goes at once, no epoch record write.
  auto b = store.set(entry("web", 3));
  REQUIRE(b.ok());
  REQUIRE(store.next_dirty() == *b);
  REQUIRE(store.encode(*b, 5, 1, buf).ok());
  store.write_done(*b, true, false);
  CHECK_FALSE(store.next_dirty().has_value());

  // Epoch 9 is not: the epoch record first, the table block only once that write completed ok.
  REQUIRE(store.set(entry("web", 9)).ok());
  CHECK(store.waits_for_floor(*b));
  REQUIRE(store.next_dirty() == ServiceTableStore::kEpochRecord);
  CHECK_FALSE(store.encode(*b, 5, 1, buf).ok());  // refused even if asked directly
  CHECK(floor_of(store, layout) == 9);
  CHECK(store.in_flight(ServiceTableStore::kEpochRecord));
  CHECK_FALSE(store.next_dirty().has_value());  // the table block waits while the floor is in flight

  SUBCASE("the floor write completes ok: then the table block") {
    store.write_done(ServiceTableStore::kEpochRecord, true, false);
    CHECK(store.durable_floor() == 9);
    REQUIRE(store.next_dirty() == *b);
    REQUIRE(store.encode(*b, 5, 1, buf).ok());
  }
  SUBCASE("the floor write fails: the floor again, never the table block") {
    store.write_done(ServiceTableStore::kEpochRecord, false, false);
    CHECK(store.durable_floor() == 3);
    REQUIRE(store.next_dirty() == ServiceTableStore::kEpochRecord);
    CHECK(floor_of(store, layout) == 9);
    CHECK_FALSE(store.next_dirty().has_value());
  }
  SUBCASE("the floor write times out: nothing until quiescent, then the floor again") {
    store.write_done(ServiceTableStore::kEpochRecord, false, true);
    CHECK(store.blocked());
    CHECK_FALSE(store.next_dirty().has_value());
    store.device_quiescent();
    REQUIRE(store.next_dirty() == ServiceTableStore::kEpochRecord);
  }
  SUBCASE("a higher epoch while the floor is in flight: a second floor write before the table block") {
    REQUIRE(store.set(entry("web", 12)).ok());
    store.write_done(ServiceTableStore::kEpochRecord, true, false);
    CHECK(store.durable_floor() == 9);
    REQUIRE(store.next_dirty() == ServiceTableStore::kEpochRecord);
    CHECK(floor_of(store, layout) == 12);
    store.write_done(ServiceTableStore::kEpochRecord, true, false);
    REQUIRE(store.next_dirty() == *b);
  }
}

TEST_CASE("service table store: the floor never goes down and covers what was loaded and seen") {
  DiskLayout layout = layout512();
  ServiceTableStore store(layout, fixed_uuid(), kNode, RecordSeal::crc_only());
  // An older disk: an entry with epoch 40 but a floor of 10.
  ServiceTableRecord rec;
  rec.cluster_uuid = fixed_uuid();
  rec.node_id = kNode;
  rec.block_index = 2;
  rec.incarnation = 1;
  rec.seq = 1;
  rec.entries.resize(layout.services_per_block());
  rec.entries[0] = entry("db", 40);
  store.load(2, rec);
  store.load_floor(10);
  CHECK(store.durable_floor() == 10);
  REQUIRE(store.next_dirty() == ServiceTableStore::kEpochRecord);
  CHECK(floor_of(store, layout) == 40);
  store.write_done(ServiceTableStore::kEpochRecord, true, false);
  CHECK(store.durable_floor() == 40);
  CHECK_FALSE(store.next_dirty().has_value());
  // An epoch seen in the peer's table raises it too; a lower one changes nothing.
  store.raise_floor(7);
  CHECK_FALSE(store.next_dirty().has_value());
  store.raise_floor(55);
  REQUIRE(store.next_dirty() == ServiceTableStore::kEpochRecord);
  CHECK(floor_of(store, layout) == 55);
  store.write_done(ServiceTableStore::kEpochRecord, true, false);
  // A scrub rewrites it at the same value.
  store.scrub();
  REQUIRE(store.next_dirty() == ServiceTableStore::kEpochRecord);
  CHECK(floor_of(store, layout) == 55);
}

TEST_CASE("service table store: a corrupt epoch record is rebuilt and nothing counts as durable until written") {
  DiskLayout layout = layout512();
  ServiceTableStore store(layout, fixed_uuid(), kNode, RecordSeal::crc_only());
  store.rebuild_floor(17, "epoch record: bad CRC");
  CHECK(store.durable_floor() == 0);
  REQUIRE(store.floor_error().has_value());
  auto b = store.set(entry("web", 18));
  REQUIRE(b.ok());
  REQUIRE(store.next_dirty() == ServiceTableStore::kEpochRecord);
  CHECK(floor_of(store, layout) == 18);
  store.write_done(ServiceTableStore::kEpochRecord, true, false);
  CHECK_FALSE(store.floor_error().has_value());
  CHECK(store.durable_floor() == 18);
  CHECK(store.next_dirty() == *b);
}

// Issue 12, item 2: own blocks found corrupt at start are rewritten, and reported until they are.
TEST_CASE("service table store: blocks found corrupt at start are rewritten and reported until then") {
  DiskLayout layout = layout512();
  ServiceTableStore store(layout, fixed_uuid(), kNode, RecordSeal::crc_only());
  store.load_floor(0);
  store.mark_corrupt(4, "service table block 4: bad CRC");
  store.mark_corrupt(9, "service table: empty (never written)");
  CHECK(store.corrupt().size() == 2);
  std::vector<std::byte> buf(layout.block_size());
  std::vector<uint32_t> written;
  while (auto b = store.next_dirty()) {
    REQUIRE(store.encode(*b, 5, 1, buf).ok());
    auto rec = decode_service_table(buf, layout, kNode, *b, RecordSeal::crc_only());
    REQUIRE_MESSAGE(rec.ok(), rec.status().to_string());  // a valid (empty) block
    if (*b == 9) {
      store.write_done(*b, false, false);  // a failed rewrite: still corrupt, tried again
      CHECK(store.corrupt().count(9) == 1);
      REQUIRE(store.next_dirty() == 9u);
      REQUIRE(store.encode(9, 5, 1, buf).ok());
    }
    store.write_done(*b, true, false);
    written.push_back(*b);
  }
  CHECK(written == std::vector<uint32_t>{4, 9});
  CHECK(store.corrupt().empty());
}

TEST_CASE("service table store: a scrub rewrites every block once, svcmgr's changes first") {
  DiskLayout layout = layout512();
  ServiceTableStore store(layout, fixed_uuid(), kNode, RecordSeal::crc_only());
  store.load_floor(100);
  store.scrub();
  // A change while the scrub is pending goes before the scrub's blocks (after the epoch record).
  for (uint32_t i = 0; i < 2 * layout.services_per_block() + 1; ++i) REQUIRE(store.set(entry("s" + std::to_string(i), 50)).ok());
  std::vector<std::byte> buf(layout.block_size());
  std::vector<uint32_t> order;
  while (auto b = store.next_dirty()) {
    REQUIRE(store.encode(*b, 5, 1, buf).ok());
    store.write_done(*b, true, false);
    order.push_back(*b);
    REQUIRE(order.size() <= kServiceTableBlocks + 1);
  }
  REQUIRE(order.size() == kServiceTableBlocks + 1);
  CHECK(order[0] == ServiceTableStore::kEpochRecord);
  CHECK(order[1] == 0);
  CHECK(order[2] == 1);
  CHECK(order[3] == 2);
  CHECK(std::set<uint32_t>(order.begin(), order.end()).size() == kServiceTableBlocks + 1);
}

TEST_CASE("service table store: up_entries() names what may run here") {
  DiskLayout layout = layout512();
  ServiceTableStore store(layout, fixed_uuid(), kNode, RecordSeal::crc_only());
  for (uint8_t s = 0; s <= kMaxOwnershipState; ++s) {
    ServiceEntry e = entry(std::string("svc-") + ownership_state_name(OwnershipState(s)));
    e.state = OwnershipState(s);
    REQUIRE(store.set(e).ok());
  }
  auto up = store.up_entries();
  CHECK(up == std::vector<std::string>{"svc-claiming (claiming)", "svc-owned (owned)", "svc-releasing (releasing)"});
}
