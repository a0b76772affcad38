// ReplicaChoice: the pure chooser of the majority device (issue 17, rules R2, R4, R5).
#include <doctest/doctest.h>

#include <vector>

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
    const uint64_t r = choice.begin_read();
    for (auto& [d, b] : answers) choice.observe(r, d, offset, b);
    return choice.choose(offset, r);
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

TEST_CASE("replica choice R4: within one life the highest seq wins; a lagging device never rolls it back") {
  Fixture f;
  auto c = f.read(f.hb1, {{0, f.hb(1, 5, 7)}, {1, f.hb(1, 5, 6)}, {2, f.hb(1, 5, 6)}});
  REQUIRE(c);
  CHECK(c->header.seq == 7);  // one device ahead: a majority holding an older copy does not outvote it
  CHECK(c->device == 0);
  // Device 0 fails; the two lagging devices answer their old copy: still 7 (from memory).
  c = f.read(f.hb1, {{1, f.hb(1, 5, 6)}, {2, f.hb(1, 5, 6)}});
  REQUIRE(c);
  CHECK(c->header.seq == 7);
  // A replayed older copy of the same life changes nothing.
  c = f.read(f.hb1, {{1, f.hb(1, 5, 3)}, {2, f.hb(1, 5, 6)}});
  REQUIRE(c);
  CHECK(c->header.seq == 7);
}

TEST_CASE("replica choice R4: a later invalid answer does not erase a device's valid memory") {
  Fixture f;
  f.read(f.hb1, {{0, f.hb(1, 5, 9)}, {1, f.hb(1, 5, 4)}, {2, f.hb(1, 5, 4)}});
  std::vector<std::byte> zero(f.layout.block_size());
  auto c = f.read(f.hb1, {{0, zero}, {1, f.hb(1, 5, 4)}, {2, f.hb(1, 5, 4)}});
  REQUIRE(c);
  CHECK(c->header.seq == 9);
  CHECK(f.choice.remembered(0, f.hb1)->seq == 9);
  CHECK(f.choice.invalid_seen(0) == 1);
}

TEST_CASE("replica choice R4: an answer to an older read never replaces a newer read's memory") {
  Fixture f;
  const uint64_t r1 = f.choice.begin_read();
  const uint64_t r2 = f.choice.begin_read();
  f.choice.observe(r2, 0, f.hb1, f.hb(1, 8, 2));  // the newer read answered first: the new life
  f.choice.observe(r1, 0, f.hb1, f.hb(1, 5, 40));  // then the older read's answer: the old life
  CHECK(f.choice.remembered(0, f.hb1)->incarnation == 8);
}

TEST_CASE("replica choice R4: across lives the one that moved most recently wins; an undead writer is shown") {
  Fixture f;
  // Our life 8 everywhere.
  auto c = f.read(f.hb1, {{0, f.hb(1, 8, 1)}, {1, f.hb(1, 8, 1)}, {2, f.hb(1, 8, 1)}});
  CHECK(c->header.incarnation == 8);
  // An undead writer of life 5 lands on one device: it moved at this read, life 8 did not.
  c = f.read(f.hb1, {{0, f.hb(1, 5, 100)}, {1, f.hb(1, 8, 1)}, {2, f.hb(1, 8, 1)}});
  CHECK(c->header.incarnation == 5);
  // Life 8 moves again: it is the newest.
  c = f.read(f.hb1, {{0, f.hb(1, 5, 100)}, {1, f.hb(1, 8, 2)}, {2, f.hb(1, 8, 2)}});
  CHECK(c->header.incarnation == 8);
  // Life 5 stands still: still 8. Life 5 moves again: shown again (it keeps writing).
  c = f.read(f.hb1, {{0, f.hb(1, 5, 100)}, {1, f.hb(1, 8, 2)}, {2, f.hb(1, 8, 2)}});
  CHECK(c->header.incarnation == 8);
  c = f.read(f.hb1, {{0, f.hb(1, 5, 101)}, {1, f.hb(1, 8, 2)}, {2, f.hb(1, 8, 2)}});
  CHECK(c->header.incarnation == 5);
  CHECK(c->header.seq == 101);
}

TEST_CASE("replica choice R4: ties go to more fresh holders, then NOT the previous choice, then the lowest device") {
  Fixture f;
  // First read: both lives appear at once; life 8 answered by two devices.
  auto c = f.read(f.hb1, {{0, f.hb(1, 5, 1)}, {1, f.hb(1, 8, 1)}, {2, f.hb(1, 8, 1)}});
  CHECK(c->header.incarnation == 8);
  // Equal fresh holders, both first seen at once, nothing chosen before: the lowest device.
  Fixture g;
  c = g.read(g.hb1, {{0, g.hb(1, 5, 1)}, {1, g.hb(1, 8, 1)}});
  CHECK(c->header.incarnation == 5);
  // Both move at the next read, one fresh holder each: a tie is a change either way, and the one not chosen
  // last is shown (an undead writer moving in step with the node's own life must not stay hidden).
  c = g.read(g.hb1, {{0, g.hb(1, 5, 2)}, {1, g.hb(1, 8, 2)}});
  CHECK(c->header.incarnation == 8);
  c = g.read(g.hb1, {{0, g.hb(1, 5, 3)}, {1, g.hb(1, 8, 3)}});
  CHECK(c->header.incarnation == 5);
  Fixture h;
  c = h.read(h.hb1, {{1, h.hb(1, 5, 1)}, {0, h.hb(1, 8, 1)}});
  CHECK(c->header.incarnation == 8);  // device 0 holds life 8
}

// The model's counter-example to the spec's first tie rule (tests/model/majority.pml, maj_undead_r4): a stale
// memory must not count as a holder. Life 2 (ours) is everywhere; undead life 1 writes 1.6, which lands on
// devices 1 and 2; a read answered by device 0 (2.5) and device 1 (1.6) moves both lives at once, and
// device 2's stale 2.4 would make life 2 "held by more devices": 2.5 shown, the undead writer hidden.
TEST_CASE("replica choice R4: a stale memory is no holder: the undead writer of maj_undead_r4 is shown") {
  Fixture f;
  auto c = f.read(f.hb1, {{0, f.hb(1, 2, 4)}, {1, f.hb(1, 2, 4)}, {2, f.hb(1, 2, 4)}});
  REQUIRE(c);
  CHECK(c->header.seq == 4);
  c = f.read(f.hb1, {{0, f.hb(1, 2, 5)}, {1, f.hb(1, 1, 6)}});
  REQUIRE(c);
  CHECK(c->header.incarnation == 1);
  CHECK(c->header.seq == 6);
}

// maj_r4_literal: within one life the value handed out is the highest seq EVER seen, also when no device's
// memory holds that copy any more (here both devices that showed 1.5 were replaced).
TEST_CASE("replica choice R4: within one life the highest seq ever seen is handed out, even once no memory holds it") {
  Fixture f;
  auto c = f.read(f.hb1, {{0, f.hb(1, 1, 5)}, {1, f.hb(1, 1, 5)}, {2, f.hb(1, 1, 4)}});
  REQUIRE(c);
  CHECK(c->header.seq == 5);
  f.choice.forget_device(0);
  f.choice.forget_device(1);
  c = f.read(f.hb1, {{2, f.hb(1, 1, 4)}});
  REQUIRE(c);
  CHECK(c->header.seq == 5);
}

TEST_CASE("replica choice R5: our own superseded write landing late on a lagging device is not news") {
  Fixture f;
  // We wrote life 5 up to seq 4, read it everywhere.
  for (uint64_t s = 1; s <= 4; ++s) f.choice.note_own_write(f.hb1, f.hb(1, 5, s));
  f.read(f.hb1, {{0, f.hb(1, 5, 4)}, {1, f.hb(1, 5, 4)}, {2, f.hb(1, 5, 4)}});
  // Seq 5 of life 5 (landed on 0 and 1, never read there), then a new life 9 of ours.
  f.choice.note_own_write(f.hb1, f.hb(1, 5, 5));
  f.choice.note_own_write(f.hb1, f.hb(1, 9, 1));
  auto c = f.read(f.hb1, {{0, f.hb(1, 9, 1)}, {1, f.hb(1, 9, 1)}, {2, f.hb(1, 5, 4)}});
  CHECK(c->header.incarnation == 9);
  // Device 2 catches up with our life-5 seq 5: life 5's highest seq rises, but that is our own superseded write.
  CHECK(f.choice.own_superseded(f.hb1, 5, 5));
  CHECK_FALSE(f.choice.own_superseded(f.hb1, 9, 1));
  c = f.read(f.hb1, {{0, f.hb(1, 9, 1)}, {1, f.hb(1, 9, 1)}, {2, f.hb(1, 5, 5)}});
  CHECK(c->header.incarnation == 9);
  // A seq of life 5 we never wrote is someone else's (an undead writer with our old incarnation): news.
  c = f.read(f.hb1, {{0, f.hb(1, 9, 1)}, {1, f.hb(1, 9, 1)}, {2, f.hb(1, 5, 6)}});
  CHECK(c->header.incarnation == 9);  // life 5 is an earlier own incarnation: every seq of it is ours (R5 as specified)
}

TEST_CASE("replica choice: a replaced device's memory is forgotten, the block's history (and its highest copy) is kept") {
  Fixture f;
  f.read(f.hb1, {{0, f.hb(1, 5, 9)}, {1, f.hb(1, 5, 8)}, {2, f.hb(1, 5, 8)}});
  f.choice.forget_device(0);
  CHECK_FALSE(f.choice.remembered(0, f.hb1));
  auto c = f.read(f.hb1, {{1, f.hb(1, 5, 8)}, {2, f.hb(1, 5, 8)}});
  CHECK(c->header.seq == 9);  // the life's highest seq ever seen is still handed out: never back to 8 (maj_r4_literal)
  auto incs = f.choice.incarnations(f.hb1);
  REQUIRE(incs.size() == 1);
  CHECK(incs[0].max_seq == 9);  // but seq 9 was seen: a copy of 9 coming back is no news
}

TEST_CASE("replica choice: deterministic for the same inputs") {
  auto run = [] {
    Fixture f;
    std::vector<uint64_t> out;
    for (int r = 0; r < 20; ++r) {
      auto c = f.read(f.hb1, {{size_t(r % 3), f.hb(1, 5 + r % 2, uint64_t(r))}, {size_t((r + 1) % 3), f.hb(1, 7, uint64_t(r / 2))}});
      out.push_back(c->header.incarnation * 1000 + c->header.seq * 10 + c->device);
    }
    return out;
  };
  CHECK(run() == run());
}

// The model's finding after review 17 (majority.pml, the restarted reader): a move is judged against what
// the answering device showed before. Device 2's first answer makes life 2 known without a move; device 0,
// which showed life 1, then shows the same 2.1: that is a move on device 0, and life 2 must be handed out (it
// was judged against life 2's highest seq, already 2.1, so life 1 stayed the latest move: 1.6 was returned).
TEST_CASE("replica choice R4: a move is judged per device: a write complete everywhere is not hidden by a first answer") {
  Fixture f;
  auto c = f.read(f.hb1, {{0, f.hb(1, 1, 5)}, {1, f.hb(1, 1, 5)}});  // device 2's answers are lost meanwhile
  c = f.read(f.hb1, {{0, f.hb(1, 1, 6)}, {1, f.hb(1, 1, 6)}});       // life 1 moves
  REQUIRE(c);
  CHECK(c->header.incarnation == 1);
  c = f.read(f.hb1, {{2, f.hb(1, 2, 1)}, {0, f.hb(1, 2, 1)}});
  REQUIRE(c);
  CHECK(c->header.incarnation == 2);
  CHECK(c->header.seq == 1);
}

// The model (majority.pml, maj_restart_code): within one life a rise is a move only above the life's highest
// seq seen anywhere. Device 0 lags with life 1's 1.4 while the others showed 1.5; life 2 then moves on devices
// 1 and 2; device 0 catching up on 1.5 -- a write the reader had already seen -- is no news, and must not
// hand the crashed life's record out again over life 2's.
TEST_CASE("replica choice R4: a lagging device catching up on a write seen elsewhere is no move") {
  Fixture f;
  auto c = f.read(f.hb1, {{0, f.hb(1, 1, 4)}, {1, f.hb(1, 1, 5)}, {2, f.hb(1, 1, 5)}});
  c = f.read(f.hb1, {{1, f.hb(1, 2, 1)}, {2, f.hb(1, 2, 1)}, {0, f.hb(1, 1, 4)}});
  REQUIRE(c);
  CHECK(c->header.incarnation == 2);
  c = f.read(f.hb1, {{0, f.hb(1, 1, 5)}, {1, f.hb(1, 2, 1)}, {2, f.hb(1, 2, 1)}});
  REQUIRE(c);
  CHECK(c->header.incarnation == 2);
}
