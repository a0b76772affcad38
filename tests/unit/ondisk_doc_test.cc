// docs/ondisk-format.md is the one byte-level spec of the quorum disk; the headers of lib/disk point to it
// instead of repeating its tables. This test keeps the spec and the encoders in step: for every row of
// every table in the spec, it changes the one field of the record that row describes, encodes both, and
// checks that the bytes that differ (CRC aside) lie inside that row's offset and size, and that the
// spec has no row the test does not know and the test no field the spec lacks. Rows marked reserved must
// encode as zero.
#include <doctest/doctest.h>

#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "common/aligned_buffer.h"
#include "disk/disk_layout.h"
#include "disk/epoch_record.h"
#include "disk/heartbeat_record.h"
#include "disk/record_header.h"
#include "disk/record_seal.h"
#include "disk/service_table_record.h"
#include "disk/superblock.h"
#include "disk/timing.h"
#include "tests/support/test_seal.h"

namespace castor {
namespace {

struct Row {
  uint32_t off = 0;
  uint32_t size = 0;  // 0 for "to the end of the block"
  std::string field;
};

std::optional<std::string> read_spec() {
  std::vector<std::string> paths;
  if (const char* d = std::getenv("CASTOR_SOURCE_DIR")) paths.push_back(std::string(d) + "/docs/ondisk-format.md");
  paths.push_back("docs/ondisk-format.md");
  std::string here = __FILE__;  // .../tests/unit/ondisk_doc_test.cc
  if (auto pos = here.rfind("tests/unit/"); pos != std::string::npos)
    paths.push_back(here.substr(0, pos) + "docs/ondisk-format.md");
  for (const auto& p : paths) {
    std::ifstream f(p);
    if (!f) continue;
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }
  return std::nullopt;
}

// The rows of the first "| off | size | field |" table after the heading that starts with `heading`.
std::vector<Row> spec_table(const std::string& spec, const std::string& heading) {
  std::vector<Row> rows;
  auto at = spec.find("\n## " + heading);
  REQUIRE_MESSAGE(at != std::string::npos, "no section '" << heading << "' in docs/ondisk-format.md");
  std::istringstream in(spec.substr(at + 1));
  std::string line;
  std::getline(in, line);  // the heading
  bool in_table = false;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) break;
    if (line.rfind("| off", 0) == 0) { in_table = true; continue; }
    if (!in_table) continue;
    if (line.rfind("|--", 0) == 0) continue;
    if (line.rfind("|", 0) != 0) break;  // the table ended
    std::vector<std::string> cells;
    std::string cell;
    std::istringstream cs(line.substr(1));
    while (std::getline(cs, cell, '|')) {
      auto b = cell.find_first_not_of(' '), e = cell.find_last_not_of(' ');
      cells.push_back(b == std::string::npos ? "" : cell.substr(b, e - b + 1));
    }
    REQUIRE(cells.size() >= 3);
    Row r;
    r.off = uint32_t(std::stoul(cells[0]));
    if (cells[1] == "—" || cells[1] == "-") r.size = 0;
    else {
      // "4+64": a group of fields described in one row
      std::istringstream ps(cells[1]);
      std::string part;
      while (std::getline(ps, part, '+')) r.size += uint32_t(std::stoul(part));
    }
    r.field = cells[2];
    rows.push_back(r);
  }
  REQUIRE_MESSAGE(!rows.empty(), "section '" << heading << "' has no table");
  return rows;
}

const DiskLayout& layout() {
  static DiskLayout l = *DiskLayout::for_sector_size(4096);
  return l;
}

Uuid uuid_of(uint8_t seed) {
  Uuid u;
  for (size_t i = 0; i < u.bytes.size(); ++i) u.bytes[i] = uint8_t(seed + i * 7);
  return u;
}

using Encoder = std::function<std::vector<std::byte>()>;

// An encoder of one block: `sample()` with `change` applied, written by `encode` into a zeroed block.
template <class Record>
Encoder block_encoder(Record (*sample)(), std::function<void(Record&)> change,
                      void (*encode)(const Record&, std::span<std::byte>)) {
  return [sample, change, encode] {
    std::vector<std::byte> b(layout().block_size());
    Record r = sample();
    change(r);
    encode(r, b);
    return b;
  };
}

// A field the test knows: the offset of its row in the spec, and how to encode a record with it changed.
struct Mutation {
  uint32_t off;
  Encoder encode_changed;
};

// Bytes of `a` and `b` that differ, outside the CRC (header bytes 12..15) and the record's own offset range
// [base, ...); offsets are relative to `base`.
std::vector<uint32_t> differing(const std::vector<std::byte>& a, const std::vector<std::byte>& b, uint32_t base) {
  std::vector<uint32_t> out;
  REQUIRE(a.size() == b.size());
  for (uint32_t i = 0; i < a.size(); ++i) {
    if (i >= 12 && i < 16) continue;
    if (i < base) continue;
    if (a[i] != b[i]) out.push_back(i - base);
  }
  return out;
}

// Checks one spec table against the test's mutations: same offsets, and each mutation changes bytes only
// inside its row (and at least one). Rows named "reserved ..." or "zero to the end ..." must be zero.
void check_table(const std::vector<Row>& rows, const std::vector<Mutation>& muts, const Encoder& encode_base,
                 uint32_t base, uint32_t record_size) {
  std::map<uint32_t, Row> by_off;
  for (const auto& r : rows) by_off[r.off] = r;
  const auto plain = encode_base();
  std::map<uint32_t, bool> covered;
  for (const auto& m : muts) {
    auto it = by_off.find(m.off);
    REQUIRE_MESSAGE(it != by_off.end(), "the spec has no row at offset " << m.off);
    const Row& r = it->second;
    const uint32_t end = r.size == 0 ? record_size : r.off + r.size;
    auto diff = differing(plain, m.encode_changed(), base);
    CHECK_MESSAGE(!diff.empty(), "changing '" << r.field << "' changed no byte");
    for (uint32_t d : diff)
      CHECK_MESSAGE((d >= r.off && d < end), "changing '" << r.field << "' (spec: offset " << r.off << ", size "
                                                          << r.size << ") changed byte " << d);
    covered[m.off] = true;
  }
  for (const auto& r : rows) {
    const bool zero_row = r.field.rfind("reserved", 0) == 0 || r.field.rfind("zero to the end", 0) == 0;
    if (zero_row) {
      const uint32_t end = r.size == 0 ? record_size : r.off + r.size;
      for (uint32_t i = r.off; i < end; ++i)
        CHECK_MESSAGE(plain[base + i] == std::byte{0}, "reserved byte " << i << " of '" << r.field << "' is not zero");
      continue;
    }
    CHECK_MESSAGE(covered.count(r.off) == 1, "the spec's row '" << r.field << "' at offset " << r.off
                                                                  << " is not checked against the encoder");
  }
}

RecordHeader sample_header() {
  RecordHeader h;
  h.type = RecordType::heartbeat;
  h.block_size = layout().block_size();
  h.cluster_uuid = uuid_of(1);
  h.writer_node = 1;
  h.block_index = 0;
  h.incarnation = 0x1111;
  h.seq = 0x2222;
  h.wall_time_ns = 0x3333;
  return h;
}

Encoder header_encoder(std::function<void(RecordHeader&)> change) {
  return block_encoder<RecordHeader>(sample_header, change, [](const RecordHeader& r, std::span<std::byte> b) { encode_header(r, b); });
}

Encoder heartbeat_encoder(std::function<void(HeartbeatRecord&)> change);

TEST_CASE("docs/ondisk-format.md: the record header table matches encode_header") {
  auto spec = read_spec();
  REQUIRE_MESSAGE(spec.has_value(), "docs/ondisk-format.md not found (set CASTOR_SOURCE_DIR)");
  auto rows = spec_table(*spec, "Record header");
  auto plain = header_encoder([](RecordHeader&) {});
  // magic and version are constants of the format: checked by value rather than by changing them.
  auto b = plain();
  CHECK(uint32_t(b[0]) == 0x43);  // 'C'
  CHECK(uint32_t(b[1]) == 0x53);  // 'S'
  CHECK(uint32_t(b[2]) == 0x54);  // 'T'
  CHECK(uint32_t(b[3]) == 0x52);  // 'R'
  CHECK((uint32_t(b[4]) | uint32_t(b[5]) << 8) == kFormatVersion);
  // magic and version are constants of the format: their rows are checked by value above, and here only
  // for where they are (a changed byte there is inside the row by construction).
  auto set_byte = [](uint32_t off, uint8_t v) -> Encoder {
    return [off, v] { auto blk = header_encoder([](RecordHeader&) {})(); blk[off] = std::byte{v}; return blk; };
  };
  std::vector<Mutation> muts = {
      {0, set_byte(0, 0)},
      {4, set_byte(4, 9)},
      {6, header_encoder([](RecordHeader& h) { h.type = RecordType::epoch; })},
      {8, header_encoder([](RecordHeader& h) { h.block_size = layout().block_size() * 2; })},
      {16, header_encoder([](RecordHeader& h) { h.cluster_uuid = uuid_of(99); })},
      {32, header_encoder([](RecordHeader& h) { h.writer_node = 2; })},
      {36, header_encoder([](RecordHeader& h) { h.block_index = 7; })},
      {40, header_encoder([](RecordHeader& h) { h.incarnation = 0x9999; })},
      {48, header_encoder([](RecordHeader& h) { h.seq = 0x8888; })},
      {56, header_encoder([](RecordHeader& h) { h.wall_time_ns = 0x7777; })},
  };
  // The CRC row (12, 4): the generic check skips those bytes, so check here that a sealed record's CRC is
  // there: two heartbeats that differ only in their sequence number differ in bytes 12..15.
  auto a = heartbeat_encoder([](HeartbeatRecord&) {})();
  auto c = heartbeat_encoder([](HeartbeatRecord& h) { h.seq += 1; })();
  CHECK((a[12] != c[12] || a[13] != c[13] || a[14] != c[14] || a[15] != c[15]));
  bool crc_row = false;
  std::vector<Row> rest;
  for (const auto& r : rows) {
    if (r.off == 12 && r.size == 4) crc_row = true;
    else rest.push_back(r);
  }
  CHECK_MESSAGE(crc_row, "the spec has no CRC row at offset 12, size 4");
  check_table(rest, muts, plain, 0, layout().block_size());
}

Superblock sample_superblock() {
  Superblock sb;
  sb.cluster_uuid = uuid_of(3);
  sb.cluster_name = "alpha";
  sb.sector_size = layout().sector_size();
  sb.nodes = {NodeEntry{1, "node-a"}, NodeEntry{2, "node-b"}};
  sb.timing = *Timing::from_io_timeout(Millis(200));
  sb.service_slots = layout().service_slots();
  sb.created_wall_ns = 1;
  return sb;
}

Encoder superblock_encoder(std::function<void(Superblock&)> change) {
  return block_encoder<Superblock>(sample_superblock, change, [](const Superblock& r, std::span<std::byte> b) { REQUIRE(encode_superblock(r, layout(), RecordSeal::crc_only(), b).ok()); });
}

TEST_CASE("docs/ondisk-format.md: the superblock table matches encode_superblock") {
  auto spec = read_spec();
  REQUIRE(spec.has_value());
  auto rows = spec_table(*spec, "Superblock");
  auto plain = superblock_encoder([](Superblock&) {});
  // The raw fields: their values, read where the spec says they are, are what was encoded.
  auto b = plain();
  auto u32 = [&](uint32_t off) {
    return uint32_t(b[off]) | uint32_t(b[off + 1]) << 8 | uint32_t(b[off + 2]) << 16 | uint32_t(b[off + 3]) << 24;
  };
  const Timing t = *Timing::from_io_timeout(Millis(200));
  CHECK(u32(128) == layout().sector_size());
  CHECK(u32(132) == kNodeCount);
  CHECK(u32(272) == t.io_timeout.count());
  CHECK(u32(276) == t.renew_interval.count());
  CHECK(u32(280) == t.lease.count());
  CHECK(u32(284) == t.kill_grace.count());
  CHECK(u32(288) == t.watchdog.count());
  CHECK(u32(292) == t.dead.count());
  CHECK(u32(296) == kHeaderAreaBlocks);
  CHECK(u32(300) == kRegionBlocks);
  CHECK(u32(304) == layout().service_slots());
  CHECK(u32(308) == 0);  // flags: not authenticated
  // Every field is checked on a member of a set of quorum devices: the set fields exist only with flag
  // bit 1, and a single device's superblock is the same block with them zero (checked above: 308 == 0).
  auto member = [](Superblock& s) {
    s.devices.count = kQuorumDevices;
    s.devices.index = 1;
    s.devices.generation = 4;
    s.devices.members = {uuid_of(7), uuid_of(8), uuid_of(9)};
  };
  auto in_set = superblock_encoder(member);
  auto with = [&](std::function<void(Superblock&)> change) {
    return superblock_encoder([=](Superblock& s) { member(s); change(s); });
  };
  // One raw byte changed: the timing fields follow one formula and the layout fields are constants of the
  // format, so they cannot be changed alone through the struct.
  auto raw = [&](uint32_t off) -> Encoder {
    return [=] {
      auto blk = in_set();
      blk[off] = std::byte(uint8_t(blk[off]) ^ 0x5a);
      return blk;
    };
  };
  {
    auto m = in_set();
    auto u32m = [&](uint32_t off) {
      return uint32_t(m[off]) | uint32_t(m[off + 1]) << 8 | uint32_t(m[off + 2]) << 16 | uint32_t(m[off + 3]) << 24;
    };
    CHECK(u32m(308) == 2);
    CHECK(u32m(312) == kQuorumDevices);
    CHECK(u32m(316) == 1);
    CHECK(u32m(320) == 4);
  }
  for (uint32_t off = 312; off < 380; ++off) CHECK(b[off] == std::byte{0});  // a single device: none of it
  std::vector<Mutation> muts = {
      {64, with([](Superblock& s) { s.cluster_name = "bravo"; })},
      {128, raw(128)},
      {132, raw(132)},
      {136, with([](Superblock& s) { s.nodes[0].name = "node-x"; })},
      {204, with([](Superblock& s) { s.nodes[1].name = "node-y"; })},
      {272, raw(272)},
      {276, raw(276)},
      {280, raw(280)},
      {284, raw(284)},
      {288, raw(288)},
      {292, raw(292)},
      {296, raw(296)},
      {300, raw(300)},
      {304, with([](Superblock& s) { s.service_slots += 1; })},
      {308, with([](Superblock& s) { s.records_authenticated = true; })},
      {312, raw(312)},
      {316, with([](Superblock& s) { s.devices.index = 2; })},
      {320, with([](Superblock& s) { s.devices.generation = 5; })},
      {328, with([](Superblock& s) { s.devices.members[0] = uuid_of(17); })},
      {344, with([](Superblock& s) { s.devices.members[1] = uuid_of(18); })},
      {360, with([](Superblock& s) { s.devices.members[2] = uuid_of(19); })},
      {376, with([](Superblock& s) { s.devices.changed_slot = 2; })},
  };
  check_table(rows, muts, in_set, 0, layout().block_size());
}

HeartbeatRecord sample_heartbeat() {
  HeartbeatRecord hb;
  hb.cluster_uuid = uuid_of(5);
  hb.node_id = 1;
  hb.incarnation = 10;
  hb.seq = 20;
  hb.wall_time_ns = 30;
  hb.state = NodeState::up;
  hb.peer_view = PeerView::up;
  hb.flags = 0;
  hb.last_io_latency_us = 100;
  hb.max_io_latency_us = 200;
  hb.services_digest = 300;
  hb.peer_incarnation = 400;
  hb.peer_seq = 500;
  return hb;
}

Encoder heartbeat_encoder(std::function<void(HeartbeatRecord&)> change) {
  return block_encoder<HeartbeatRecord>(sample_heartbeat, change, [](const HeartbeatRecord& r, std::span<std::byte> b) { encode_heartbeat(r, layout(), RecordSeal::crc_only(), b); });
}

TEST_CASE("docs/ondisk-format.md: the heartbeat table matches encode_heartbeat") {
  auto spec = read_spec();
  REQUIRE(spec.has_value());
  auto rows = spec_table(*spec, "Heartbeat");
  std::vector<Mutation> muts = {
      {64, heartbeat_encoder([](HeartbeatRecord& h) { h.state = NodeState::down; })},
      {65, heartbeat_encoder([](HeartbeatRecord& h) { h.peer_view = PeerView::dead; })},
      {66, heartbeat_encoder([](HeartbeatRecord& h) { h.flags = 1; })},
      {68, heartbeat_encoder([](HeartbeatRecord& h) { h.last_io_latency_us = 0x01020304; })},
      {72, heartbeat_encoder([](HeartbeatRecord& h) { h.max_io_latency_us = 0x01020304; })},
      {76, heartbeat_encoder([](HeartbeatRecord& h) { h.set_generation = 0x0102; })},
      {78, heartbeat_encoder([](HeartbeatRecord& h) { h.set_retiring = true; })},
      {79, heartbeat_encoder([](HeartbeatRecord& h) { h.set_slot = 2; })},
      {80, heartbeat_encoder([](HeartbeatRecord& h) { h.services_digest = ~0ull; })},
      {88, heartbeat_encoder([](HeartbeatRecord& h) { h.peer_incarnation = ~0ull; })},
      {96, heartbeat_encoder([](HeartbeatRecord& h) { h.peer_seq = ~0ull; })},
      {104, heartbeat_encoder([](HeartbeatRecord& h) { h.peer_request = PeerRequest::unstandby; })},
      {105, heartbeat_encoder([](HeartbeatRecord& h) { h.features = 0xff; })},
      {112, heartbeat_encoder([](HeartbeatRecord& h) { h.peer_request_serial = ~0ull; })},
      {120, heartbeat_encoder([](HeartbeatRecord& h) { h.handled_request_incarnation = ~0ull; })},
      {128, heartbeat_encoder([](HeartbeatRecord& h) { h.handled_request_serial = ~0ull; })},
      {136, heartbeat_encoder([](HeartbeatRecord& h) { h.started_mark = ~0ull; })},
      {144, heartbeat_encoder([](HeartbeatRecord& h) { h.not_started = std::vector<uint64_t>(32, ~0ull); })},
      {408, heartbeat_encoder([](HeartbeatRecord& h) { h.table_generation = ~0ull; })},
  };
  check_table(rows, muts, heartbeat_encoder([](HeartbeatRecord&) {}), 0, layout().block_size());
}

Encoder epoch_encoder(uint64_t floor) {
  return [floor] {
    std::vector<std::byte> b(layout().block_size());
    EpochRecord r;
    r.cluster_uuid = uuid_of(7);
    r.node_id = 2;
    r.incarnation = 1;
    r.seq = 2;
    r.epoch_floor = floor;
    REQUIRE(encode_epoch_record(r, layout(), RecordSeal::crc_only(), b).ok());
    return b;
  };
}

TEST_CASE("docs/ondisk-format.md: the epoch record table matches encode_epoch_record") {
  auto spec = read_spec();
  REQUIRE(spec.has_value());
  auto rows = spec_table(*spec, "Epoch record");
  std::vector<Mutation> muts = {{64, epoch_encoder(0x0102030405060708ull)}};
  check_table(rows, muts, epoch_encoder(42), 0, layout().block_size());
}

ServiceEntry sample_entry() {
  ServiceEntry e;
  e.in_use = true;
  e.state = OwnershipState::owned;
  e.flags = 0;
  e.node = 1;
  e.epoch = 11;
  e.ballot = 12;
  e.definition_digest = 13;
  e.changed_wall_ns = 14;
  e.restarts = 1;
  e.name = "web";
  return e;
}

Encoder table_encoder(std::function<void(ServiceEntry&)> change) {
  return [change] {
    std::vector<std::byte> b(layout().block_size());
    ServiceTableRecord r;
    r.cluster_uuid = uuid_of(9);
    r.node_id = 1;
    r.block_index = 0;
    r.incarnation = 1;
    r.seq = 1;
    r.entries.resize(layout().services_per_block());
    r.entries[0] = sample_entry();
    change(r.entries[0]);
    REQUIRE(encode_service_table(r, layout(), RecordSeal::crc_only(), b).ok());
    return b;
  };
}

TEST_CASE("docs/ondisk-format.md: the service-table entry table matches encode_service_table") {
  auto spec = read_spec();
  REQUIRE(spec.has_value());
  auto rows = spec_table(*spec, "Service table");
  std::vector<Mutation> muts = {
      {0, [] {  // in use: a free slot is all zero; its first byte is the flag
         auto b = table_encoder([](ServiceEntry&) {})();
         auto free_slot = table_encoder([](ServiceEntry& e) { e = ServiceEntry{}; })();
         CHECK(uint32_t(b[64]) == 1);
         for (uint32_t i = 64; i < 64 + kServiceEntrySize; ++i) CHECK(free_slot[i] == std::byte{0});
         b[64] = std::byte{0};
         return b;
       }},
      {1, table_encoder([](ServiceEntry& e) { e.state = OwnershipState::releasing; })},
      {2, table_encoder([](ServiceEntry& e) { e.flags = ServiceEntry::kFrozen; })},
      {4, table_encoder([](ServiceEntry& e) { e.node = 2; })},
      {8, table_encoder([](ServiceEntry& e) { e.epoch = ~0ull >> 1; })},
      {16, table_encoder([](ServiceEntry& e) { e.ballot = ~0ull >> 1; })},
      {24, table_encoder([](ServiceEntry& e) { e.definition_digest = ~0ull; })},
      {32, table_encoder([](ServiceEntry& e) { e.changed_wall_ns = 0x0102030405060708ll; })},
      {40, table_encoder([](ServiceEntry& e) { e.restarts = 0x01020304; })},
      {64, table_encoder([](ServiceEntry& e) { e.name = "database-with-a-longer-name"; })},
  };
  // Entry 0 starts at byte 64 of the block; the spec's offsets are within the entry.
  check_table(rows, muts, table_encoder([](ServiceEntry&) {}), 64, 64 + kServiceEntrySize);
}

// Every record type, at one block size, encoded with `seal`.
std::vector<std::pair<std::string, std::vector<std::byte>>> every_record(const DiskLayout& l, const RecordSeal& seal) {
  std::vector<std::pair<std::string, std::vector<std::byte>>> out;
  auto blank = [&] { return std::vector<std::byte>(l.block_size()); };
  Superblock sb = sample_superblock();
  sb.sector_size = l.sector_size();
  sb.service_slots = l.service_slots();
  auto b = blank();
  REQUIRE(encode_superblock(sb, l, seal, b).ok());
  out.emplace_back("superblock", b);
  b = blank();
  encode_heartbeat(sample_heartbeat(), l, seal, b);
  out.emplace_back("heartbeat", b);
  EpochRecord ep;
  ep.cluster_uuid = uuid_of(7);
  ep.node_id = 1;
  ep.incarnation = 1;
  ep.epoch_floor = ~0ull;
  b = blank();
  REQUIRE(encode_epoch_record(ep, l, seal, b).ok());
  out.emplace_back("epoch record", b);
  ServiceTableRecord t;
  t.cluster_uuid = uuid_of(9);
  t.node_id = 1;
  t.block_index = 3;
  t.incarnation = 1;
  t.entries.resize(l.services_per_block());
  for (auto& e : t.entries) {  // every slot in use: the table's last entry is as close to the tag as it gets
    e = sample_entry();
    e.name = std::string(63, 'n');
  }
  b = blank();
  REQUIRE(encode_service_table(t, l, seal, b).ok());
  out.emplace_back("service table", b);
  return out;
}

TEST_CASE("docs/ondisk-format.md: the authentication tag is the last 32 bytes of every block, free in every record") {
  auto spec = read_spec();
  REQUIRE(spec.has_value());
  auto rows = spec_table(*spec, "Authentication tag");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].off == layout().block_size() - kAuthTagSize);
  CHECK(rows[0].size == kAuthTagSize);
  const RecordSeal seal = testing::test_seal(1);
  for (uint32_t ss : {512u, 4096u, 8192u}) {
    const DiskLayout l = *DiskLayout::for_sector_size(ss);
    const uint32_t B = l.block_size();
    auto plain = every_record(l, RecordSeal::crc_only());
    auto tagged = every_record(l, seal);
    REQUIRE(plain.size() == tagged.size());
    for (size_t r = 0; r < plain.size(); ++r) {
      CAPTURE(ss);
      CAPTURE(plain[r].first);
      // Free without authentication: the tag bytes are zero in a CRC-only block.
      for (uint32_t i = B - kAuthTagSize; i < B; ++i) REQUIRE(plain[r].second[i] == std::byte{0});
      // With it, only the tag (and the CRC) differ.
      auto diff = differing(plain[r].second, tagged[r].second, 0);
      CHECK(!diff.empty());
      for (uint32_t d : diff) CHECK_MESSAGE(d >= B - kAuthTagSize, "sealing with a tag changed byte " << d);
    }
  }
}

}  // namespace
}  // namespace castor
