// ReplicaChoice: the pure chooser of the majority device (issue 17: R2, and R4 with ordered lives: the highest
// (life, seq) among one read's valid answers, never below what the reader handed out before).
#include <doctest/doctest.h>

#include <vector>

#include "disk/life_number.h"
#include "disk/replica_choice.h"

using namespace castor;

namespace {

Uuid cluster_uuid(uint8_t seed) {
  Uuid u;
  for (size_t i = 0; i < u.bytes.size(); ++i) u.bytes[i] = uint8_t(seed + i);
  return u;
}

struct Fixture {
  DiskLayout layout = *DiskLayout::for_sector_size(512);
  RecordSeal seal = RecordSeal::crc_only();
  Uuid cluster = cluster_uuid(7);
  ReplicaChoice choice{layout, seal, cluster, 3};
  uint64_t hb1 = layout.heartbeat_offset(1);

  std::vector<std::byte> record(RecordType type, uint32_t writer, uint32_t index, uint64_t inc, uint64_t seq,
                                Uuid uuid) const {
    std::vector<std::byte> b(layout.block_size());
    RecordHeader h;
    h.type = type;
    h.block_size = layout.block_size();
    h.cluster_uuid = uuid;
    h.writer_node = writer;
    h.block_index = index;
    h.incarnation = inc;
    h.seq = seq;
    encode_header(h, b);
    seal_block(b, seal);
    return b;
  }
  std::vector<std::byte> hb(uint32_t writer, uint64_t inc, uint64_t seq) const {
    return record(RecordType::heartbeat, writer, 0, inc, seq, cluster);
  }
  // One composite read in which each listed device answered `block` for `offset`.
  std::optional<ReplicaChoice::Choice> read(uint64_t offset, std::vector<std::pair<size_t, std::vector<std::byte>>> answers) {
    std::vector<ReplicaChoice::Answer> a;
    for (auto& [d, b] : answers) {
      choice.observe(d, offset, b);
      a.push_back({d, b});
    }
    return choice.choose(offset, a);
  }
};

}  // namespace

TEST_CASE("replica choice: the record expected at each region offset") {
  Fixture f;
  const uint32_t bs = f.layout.block_size();
  auto hb = expected_slot_at(f.layout, f.layout.heartbeat_offset(2));
  REQUIRE(hb);
  CHECK(hb->type == RecordType::heartbeat);
  CHECK(hb->writer_node == 2);
  auto ep = expected_slot_at(f.layout, f.layout.epoch_record_offset(1));
  REQUIRE(ep);
  CHECK(ep->type == RecordType::epoch);
  auto t = expected_slot_at(f.layout, f.layout.service_table_offset(1) + 33ull * bs);
  REQUIRE(t);
  CHECK(t->type == RecordType::service_table);
  CHECK(t->block_index == 33);
  CHECK_FALSE(expected_slot_at(f.layout, f.layout.service_table_offset(1) + 34ull * bs));  // unused block
  CHECK_FALSE(expected_slot_at(f.layout, 0));                                             // superblock
  CHECK_FALSE(expected_slot_at(f.layout, f.layout.heartbeat_offset(1) + 512));            // unaligned
  CHECK_FALSE(expected_slot_at(f.layout, f.layout.required_bytes()));                     // past the regions
}

TEST_CASE("replica choice R2: zeroed, garbage, torn, other cluster, wrong writer, wrong block are invalid") {
  Fixture f;
  CHECK(f.choice.validate(f.hb1, f.hb(1, 5, 1)).ok());
  std::vector<std::byte> zero(f.layout.block_size());
  CHECK(f.choice.validate(f.hb1, zero).status().code() == Code::not_found);
  std::vector<std::byte> garbage(f.layout.block_size());
  for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = std::byte(i * 31 + 7);
  CHECK(f.choice.validate(f.hb1, garbage).status().code() == Code::corrupt);
  auto torn = f.hb(1, 5, 2);
  std::fill(torn.begin() + 2048, torn.end(), std::byte{0x77});
  CHECK(f.choice.validate(f.hb1, torn).status().code() == Code::corrupt);
  CHECK(f.choice.validate(f.hb1, f.record(RecordType::heartbeat, 1, 0, 5, 1, cluster_uuid(9))).status().code() ==
        Code::corrupt);
  CHECK(f.choice.validate(f.hb1, f.hb(2, 5, 1)).status().code() == Code::corrupt);  // node 2's record in node 1's block
  // A table record copied to the wrong block: its header says block 3, the offset is block 4's.
  const uint64_t t4 = f.layout.service_table_offset(1) + 4ull * f.layout.block_size();
  CHECK(f.choice.validate(t4, f.record(RecordType::service_table, 1, 4, 5, 1, f.cluster)).ok());
  CHECK(f.choice.validate(t4, f.record(RecordType::service_table, 1, 3, 5, 1, f.cluster)).status().code() == Code::corrupt);
  // Another seal (an hmac disk read with crc_only is fine, but a crc-only block under an hmac seal is not) is
  // verify_block's business; the header area has no expected record here.
  CHECK(f.choice.validate(0, f.hb(1, 5, 1)).status().code() == Code::invalid_argument);
}

// Lives 1, 2, 3 of a writer, with random halves that do not follow the lives' order.
constexpr uint64_t kLife1 = make_incarnation(1, 0xF0000001u);
constexpr uint64_t kLife2 = make_incarnation(2, 0x00000007u);
constexpr uint64_t kLife3 = make_incarnation(3, 0x80000000u);

TEST_CASE("replica choice: within one life the highest seq among the read's answers wins") {
  Fixture f;
  auto c = f.read(f.hb1, {{0, f.hb(1, kLife1, 7)}, {1, f.hb(1, kLife1, 6)}, {2, f.hb(1, kLife1, 6)}});
  REQUIRE(c);
  CHECK(c->header.seq == 7);  // one device ahead: a majority holding an older copy does not outvote it
  CHECK(c->device == 0);
}

TEST_CASE("replica choice: the output of one reader never goes back (its memory of what it handed out)") {
  Fixture f;
  REQUIRE(f.read(f.hb1, {{0, f.hb(1, kLife1, 7)}, {1, f.hb(1, kLife1, 6)}})->header.seq == 7);
  // Device 0 fails; the two lagging devices answer their old copy, then a replayed older one: still 7.
  auto c = f.read(f.hb1, {{1, f.hb(1, kLife1, 6)}, {2, f.hb(1, kLife1, 6)}});
  REQUIRE(c);
  CHECK(c->header.seq == 7);
  CHECK(c->device == 0);
  c = f.read(f.hb1, {{1, f.hb(1, kLife1, 3)}, {2, f.hb(1, kLife1, 6)}});
  REQUIRE(c);
  CHECK(c->header.seq == 7);
  CHECK(f.choice.handed_out(f.hb1)->seq == 7);
  // The writer moves on: the new value is handed out.
  c = f.read(f.hb1, {{1, f.hb(1, kLife1, 8)}, {2, f.hb(1, kLife1, 6)}});
  REQUIRE(c);
  CHECK(c->header.seq == 8);
}

TEST_CASE("replica choice: a later life beats every copy of an earlier one, whatever their seqs and random halves") {
  Fixture f;
  // Life 1 wrote up to 900 (a long life); life 2 has written 3 so far; a lagging device still shows life 1.
  auto c = f.read(f.hb1, {{0, f.hb(1, kLife1, 900)}, {1, f.hb(1, kLife2, 3)}});
  REQUIRE(c);
  CHECK(c->header.incarnation == kLife2);
  CHECK(c->header.seq == 3);
  // A straggler (or an undead writer) of life 1 rising on two devices is never handed out over life 2 ...
  c = f.read(f.hb1, {{0, f.hb(1, kLife1, 950)}, {2, f.hb(1, kLife1, 951)}});
  REQUIRE(c);
  CHECK(c->header.incarnation == kLife2);
  // ... and life 3 beats life 2 (by its number; the random halves play no part).
  c = f.read(f.hb1, {{0, f.hb(1, kLife3, 1)}, {1, f.hb(1, kLife2, 4)}});
  REQUIRE(c);
  CHECK(c->header.incarnation == kLife3);
  CHECK(c->header.seq == 1);
}

TEST_CASE("replica choice: invalid answers take no part; none valid and nothing handed out before: nothing") {
  Fixture f;
  std::vector<std::byte> zero(f.layout.block_size());
  CHECK(!f.read(f.hb1, {{0, zero}, {1, zero}}));
  auto c = f.read(f.hb1, {{0, zero}, {1, f.hb(1, kLife1, 4)}, {2, f.hb(1, kLife1, 4)}});
  REQUIRE(c);
  CHECK(c->header.seq == 4);
  CHECK(c->device == 1);
  CHECK(f.choice.invalid_seen(0) == 2);
  // A later invalid answer does not erase the device's remembered valid copy (health: "another holds it").
  f.read(f.hb1, {{0, f.hb(1, kLife1, 9)}, {1, f.hb(1, kLife1, 4)}});
  f.read(f.hb1, {{0, zero}, {1, f.hb(1, kLife1, 4)}});
  CHECK(f.choice.remembered(0, f.hb1)->seq == 9);
  // A copy of another cluster or another writer, or of the wrong block, is invalid, however high its version.
  c = f.read(f.hb1, {{0, f.record(RecordType::heartbeat, 1, 0, kLife3, 99, cluster_uuid(9))},
                     {1, f.hb(1, kLife1, 10)}, {2, f.hb(2, kLife3, 99)}});
  REQUIRE(c);
  CHECK(c->header.incarnation == kLife1);
  CHECK(c->header.seq == 10);
}

TEST_CASE("replica choice: one version under two incarnations (a life number taken twice) goes to what was handed out, then to more answers") {
  Fixture f;
  const uint64_t twin_a = make_incarnation(4, 1), twin_b = make_incarnation(4, 2);
  auto c = f.read(f.hb1, {{0, f.hb(1, twin_a, 5)}, {1, f.hb(1, twin_b, 5)}, {2, f.hb(1, twin_b, 5)}});
  REQUIRE(c);
  CHECK(c->header.incarnation == twin_b);  // more answers hold it
  c = f.read(f.hb1, {{0, f.hb(1, twin_a, 5)}, {1, f.hb(1, twin_a, 5)}, {2, f.hb(1, twin_b, 5)}});
  REQUIRE(c);
  CHECK(c->header.incarnation == twin_b);  // the equal version handed out before stays
}

TEST_CASE("replica choice: a replaced device's remembered copies are forgotten, what was handed out is kept") {
  Fixture f;
  f.read(f.hb1, {{0, f.hb(1, kLife2, 9)}, {1, f.hb(1, kLife2, 4)}, {2, f.hb(1, kLife2, 4)}});
  f.choice.forget_device(0);
  CHECK(!f.choice.remembered(0, f.hb1));
  CHECK(f.choice.remembered(1, f.hb1)->seq == 4);
  auto c = f.read(f.hb1, {{1, f.hb(1, kLife2, 4)}, {2, f.hb(1, kLife2, 4)}});
  REQUIRE(c);
  CHECK(c->header.seq == 9);
}

TEST_CASE("replica choice: deterministic for the same inputs") {
  auto run = [] {
    Fixture f;
    std::vector<uint64_t> out;
    for (int r = 0; r < 20; ++r) {
      auto c = f.read(f.hb1, {{size_t(r % 3), f.hb(1, make_incarnation(5 + r % 2, 9), uint64_t(r))},
                              {size_t((r + 1) % 3), f.hb(1, make_incarnation(6, 9), uint64_t(r / 2))}});
      out.push_back(life_of(c->header.incarnation) * 1000 + c->header.seq * 10 + c->device);
    }
    return out;
  };
  CHECK(run() == run());
}
