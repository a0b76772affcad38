// Adversarial review of review 17b's doubt (a52c732: ReplicaChoice's shown_at per device copy, moved_after per
// life, a read in doubt settles only on a majority of its answers). Each attack is a test that FAILS while the
// hole it shows is open; attacks that did not work stay as regression tests.
// The property under attack (docs/design.md "Three quorum devices"): once a write of a block completed on a
// majority, every composite read of the block ISSUED after that completion returns that write, a later write
// of its life, or a record of a later writer -- never the record of an older, superseded life.
#include <doctest/doctest.h>

#include <memory>
#include <tuple>
#include <vector>

#include "disk/life_number.h"
#include "disk/majority_block_device.h"
#include "disk/replica_choice.h"
#include "tests/support/majority_rig.h"

using namespace castor;

namespace {

using View = testing::MajorityView;
using Rig = testing::MajorityRig;

constexpr uint64_t kOldLife = make_incarnation(1, 0x1111), kNewLife = make_incarnation(2, 0x2222);  // ordered lives

// A chooser driven by hand: one composite read in which each listed device answered, in that order.
struct Chooser {
  Rig r;
  ReplicaChoice c{r.layout, r.seal, testing::majority_rig_cluster(), 3};
  struct Out {
    bool settled;
    std::optional<RecordHeader> header;
  };
  Out read(uint64_t blk, std::vector<std::pair<size_t, std::vector<std::byte>>> answers) {
    std::vector<ReplicaChoice::Answer> a;
    size_t valid = 0;
    for (auto& [d, b] : answers) {
      valid += c.observe(d, blk, b) ? 1 : 0;
      a.push_back({d, b});
    }
    auto ch = c.choose(blk, a);
    return {valid >= 2, ch ? std::optional<RecordHeader>(ch->header) : std::nullopt};  // a valid majority settles
  }
};

}  // namespace

// ATTACK 1 (the doubt's strict ">": two answers of ONE read are not ordered in time). The doubt orders a lower
// life's copy against the top by read numbers: shown_at(copy) > moved_after(top). When the copy was shown in
// the very read after which the top moved (shown_at == moved_after) it counts as older than the top's move --
// but within one read the answers come at different moments, and the new life may have been written between
// them. The schedule, one slow device (member 1 takes writes late, reads work):
//   read 1: every member shows A.10;
//   A.11 completes on members 0 and 2; it is still on its way to member 1;
//   read 2 is issued: member 1 answers at once (A.10); A.11 lands on member 1; life A ends (its last write is
//     out of the kernel: exit_aio, or QuorumDaemon's rejoin wait for total_held() == 0); life B's first write
//     B.1 completes on members 0 and 2 (member 1 takes it late); members 0 and 2 answer read 2: B.1, a change
//     of life on each, a move of B after read 1;
//   read 3, issued after B.1 completed: member 1 answers A.11 (B.1 not there yet): a rise above A's highest
//     seq, a move of A after read 2 -- A is at the top; members 0 and 2 answer B.1, shown at read 2, which is
//     not "after read 2": no doubt, and A.11 is handed out over B's completed write, even with all three
//     answers (the majority's life counts only in doubt). For a table block nobody rewrites at once, on every
//     read until B.1 lands on member 1.
TEST_CASE("review17c attack 1, chooser: a copy shown in the read after which the old life moved is not older "
          "than that move") {
  Chooser k;
  const uint64_t blk = k.r.table(1, 13);
  auto a10 = k.r.record_at(blk, kOldLife, 10), a11 = k.r.record_at(blk, kOldLife, 11);
  auto b1 = k.r.record_at(blk, kNewLife, 1);
  auto o1 = k.read(blk, {{0, a10}, {1, a10}, {2, a10}});
  REQUIRE(o1.header->incarnation == kOldLife);
  auto o2 = k.read(blk, {{1, a10}, {0, b1}, {2, b1}});  // member 1 first, before A.11 landed there
  REQUIRE(o2.settled);
  REQUIRE(o2.header->incarnation == kNewLife);
  // Read 3, issued after B.1 completed on members 0 and 2.
  auto o3 = k.read(blk, {{1, a11}, {0, b1}, {2, b1}});
  CHECK_MESSAGE((!o3.settled || o3.header->incarnation == kNewLife),
                "read 3 (after B.1 completed on members 0 and 2, all three answering) is settled on life A's A."
                    << o3.header->seq);
  // Only members 1 and 0 answer: at best no settled read.
  auto o4 = k.read(blk, {{1, a11}, {0, b1}});
  CHECK_MESSAGE((!o4.settled || o4.header->incarnation == kNewLife),
                "read 4 (members 1 and 0) is settled on life A's A." << o4.header->seq);
}

// ATTACK 1 through the composite: the same schedule with real timing on the rig's fake clock. Member 1 takes
// node 1's writes late (5 ms for A's last, 2 s for B's first); the reader's reads of members 0 and 2 take
// 20 ms in read 2 (ordinary latency), in which life A's last write lands on member 1 and life B's first write
// completes on members 0 and 2 (a new life that writes 1 ms after the old one's last I/O left the kernel: the
// rejoin does exactly that once total_held() is 0; a restarted process needs a little longer, and the reads
// would then need as much: the same schedule).
TEST_CASE("review17c attack 1: the old life's last write landing on the slow member inside a read must not "
          "rank above the new life's completed write") {
  Rig r;
  const uint64_t blk = r.table(1, 13);
  View a = r.view("node1-lifeA");
  View y = r.view("node2-reader");
  REQUIRE(r.write_at(a, blk, kOldLife, 10).ok());
  REQUIRE(r.read_at(y, blk)->seq == 10);  // read 1: memory of all three, A.10
  // A.11: complete on members 0 and 2 at once, on member 1 5 ms later.
  a.path[1]->delay_all(Millis(5));
  const uint64_t tw = r.next_tag++;
  auto a11 = r.record_at(blk, kOldLife, 11);
  REQUIRE(a.dev->submit_write(tw, blk, a11, r.clock.now(), r.clock.now() + testing::kMajorityTimeout).ok());
  REQUIRE(r.drive(a, tw).ok());
  REQUIRE(a.dev->total_held() == 1);  // A.11 still on its way to member 1
  // Read 2: member 1 answers at once, members 0 and 2 in 20 ms.
  y.path[0]->delay_all(Millis(20));
  y.path[2]->delay_all(Millis(20));
  const uint64_t tr = r.next_tag++;
  std::vector<std::byte> out(r.bs());
  const TimePoint issued = r.clock.now();
  REQUIRE(y.dev->submit_read(tr, blk, out, issued, issued + testing::kMajorityTimeout).ok());
  std::vector<IoCompletion> ydone;
  y.dev->reap(r.clock.now(), ydone);
  REQUIRE(ydone.empty());
  // A.11 lands on member 1; life A is over, nothing of it in the kernel.
  r.clock.advance(Millis(5));
  r.done.clear();
  a.dev->reap(r.clock.now(), r.done);
  REQUIRE(a.dev->total_held() == 0);
  a.dev.reset();
  // Life B's first write, 1 ms later: complete on members 0 and 2; member 1 takes it 2 s late.
  r.clock.advance(Millis(1));
  View b = r.view("node1-lifeB");
  b.path[1]->delay_all(Millis(2000));
  REQUIRE(r.write_at(b, blk, kNewLife, 1).ok());
  const TimePoint b1_done = r.clock.now();
  // Members 0 and 2 answer read 2 (B.1).
  bool read2_done = false;
  for (int i = 0; i < 100 && !read2_done; ++i) {
    r.clock.advance(Millis(1));
    ydone.clear();
    y.dev->reap(r.clock.now(), ydone);
    for (auto& c : ydone)
      if (c.tag == tr) {
        REQUIRE(c.status.ok());
        read2_done = true;
      }
  }
  REQUIRE(read2_done);
  {
    auto h = verify_block(out, {RecordType::service_table, r.bs(), 1}, r.seal);
    REQUIRE(h.ok());
    REQUIRE(h->incarnation == kNewLife);  // read 2 already shows B.1
  }
  // Reads issued after B.1 completed, every member answering at once, until B.1 lands on member 1.
  y.path[0]->pass_all();
  y.path[2]->pass_all();
  REQUIRE(r.clock.now() > b1_done);
  int old = 0, reads = 0;
  for (int i = 0; i < 10; ++i) {
    auto h = r.read_at(y, blk);
    REQUIRE(h.ok());
    ++reads;
    if (h->incarnation == kOldLife) ++old;
    r.clock.advance(Millis(100));
    r.done.clear();
    b.dev->reap(r.clock.now(), r.done);
  }
  CHECK_MESSAGE(old == 0, old << " of " << reads << " reads issued after life B's write B.1 completed on members "
                              "0 and 2 returned life A's A.11 (the value before B.1)");
  r.settle(b, Millis(2100));
}

// ATTACK 2 (attack 1 with two reads of the block open at once; a BlockDevice takes concurrent reads, and
// quorumd has them: a replaced core's peer read still in flight beside the new core's, a table read beside a
// scrub). Read numbers are the order of ISSUE; an answer to the older read may come after an answer to the
// newer one. Reads 2 and 3 are issued together; member 1 answers read 3 at once (A.10, A.11 not landed there
// yet); A.11 lands on member 1, life A ends, B.1 completes on members 0 and 2; members 0 and 2 answer read 2
// (B.1: the move, shown at read 2) and read 3. Read 4, issued after B.1 completed: member 1 shows A.11, a move
// of A after read 3; B.1 was shown at read 2, "before" read 3 by number although it came after member 1's
// answer to read 3: no doubt even with ">=", and A.11 is handed out.
TEST_CASE("review17c attack 2, chooser: an answer to an older read that comes after an answer to a newer one is "
          "not older than it") {
  Chooser k;
  const uint64_t blk = k.r.table(1, 15);
  auto a10 = k.r.record_at(blk, kOldLife, 10), a11 = k.r.record_at(blk, kOldLife, 11);
  auto b1 = k.r.record_at(blk, kNewLife, 1);
  REQUIRE(k.read(blk, {{0, a10}, {1, a10}, {2, a10}}).header->incarnation == kOldLife);
  // Member 1 answers both reads early (A.10); A.11 lands on member 1, life A ends, B.1 completes on members 0
  // and 2; they answer both reads.
  REQUIRE(k.read(blk, {{1, a10}, {0, b1}, {2, b1}}).header->incarnation == kNewLife);
  REQUIRE(k.read(blk, {{1, a10}, {0, b1}, {2, b1}}).header->incarnation == kNewLife);
  auto o4 = k.read(blk, {{1, a11}, {0, b1}, {2, b1}});  // issued after B.1 completed
  CHECK_MESSAGE((!o4.settled || o4.header->incarnation == kNewLife),
                "read 4 (after B.1 completed on members 0 and 2, all three answering) is settled on life A's A."
                    << o4.header->seq);
}

// ATTACK 2 through the composite: two reads of the block open at once, the same timing as attack 1.
TEST_CASE("review17c attack 2: with two reads open, the old life's last write landing inside them must not rank "
          "above the new life's completed write") {
  Rig r;
  const uint64_t blk = r.table(1, 15);
  View a = r.view("node1-lifeA");
  View y = r.view("node2-reader");
  REQUIRE(r.write_at(a, blk, kOldLife, 10).ok());
  REQUIRE(r.read_at(y, blk)->seq == 10);
  a.path[1]->delay_all(Millis(5));
  const uint64_t tw = r.next_tag++;
  auto a11 = r.record_at(blk, kOldLife, 11);
  REQUIRE(a.dev->submit_write(tw, blk, a11, r.clock.now(), r.clock.now() + testing::kMajorityTimeout).ok());
  REQUIRE(r.drive(a, tw).ok());
  // Reads 2 and 3 issued together: member 1 answers at once, members 0 and 2 in 20 ms.
  y.path[0]->delay_all(Millis(20));
  y.path[2]->delay_all(Millis(20));
  const uint64_t t2 = r.next_tag++, t3 = r.next_tag++;
  std::vector<std::byte> out2(r.bs()), out3(r.bs());
  const TimePoint issued = r.clock.now();
  REQUIRE(y.dev->submit_read(t2, blk, out2, issued, issued + testing::kMajorityTimeout).ok());
  REQUIRE(y.dev->submit_read(t3, blk, out3, issued, issued + testing::kMajorityTimeout).ok());
  std::vector<IoCompletion> ydone;
  y.dev->reap(r.clock.now(), ydone);
  REQUIRE(ydone.empty());
  r.clock.advance(Millis(5));
  r.done.clear();
  a.dev->reap(r.clock.now(), r.done);
  REQUIRE(a.dev->total_held() == 0);
  a.dev.reset();
  r.clock.advance(Millis(1));
  View b = r.view("node1-lifeB");
  b.path[1]->delay_all(Millis(2000));
  REQUIRE(r.write_at(b, blk, kNewLife, 1).ok());
  int completed = 0;
  for (int i = 0; i < 100 && completed < 2; ++i) {
    r.clock.advance(Millis(1));
    ydone.clear();
    y.dev->reap(r.clock.now(), ydone);
    for (auto& c : ydone)
      if (c.tag == t2 || c.tag == t3) {
        CHECK(c.status.ok());
        ++completed;
      }
  }
  REQUIRE(completed == 2);
  y.path[0]->pass_all();
  y.path[2]->pass_all();
  int old = 0;
  for (int i = 0; i < 10; ++i) {
    auto h = r.read_at(y, blk);
    REQUIRE(h.ok());
    if (h->incarnation == kOldLife) ++old;
    r.clock.advance(Millis(100));
    r.done.clear();
    b.dev->reap(r.clock.now(), r.done);
  }
  CHECK_MESSAGE(old == 0, old << " of 10 reads issued after life B's write B.1 completed returned life A's A.11");
  r.settle(b, Millis(2100));
}

// HELD (liveness of the wider doubt). A read-only member keeps the old life A.10 for good; the reader restarts
// (no memory) while the new life B writes its table block now and then; member 2 answers a few ms after member
// 0. A read-only member whose first answer is A.10 is in doubt against B's next move (it may have landed after
// member 0's answer in that read), so those reads wait for member 2: every read completes, and with B.
TEST_CASE("review17c held: a read-only member with the old life and a restarted reader: every read completes with "
          "the new life") {
  Rig r;
  const uint64_t blk = r.table(1, 17);
  View a = r.view("node1-lifeA");
  REQUIRE(r.write_at(a, blk, kOldLife, 10).ok());
  r.settle(a);
  a.dev.reset();
  View b = r.view("node1-lifeB");
  b.path[1]->fail_all();  // member 1 takes no write: it keeps A.10
  REQUIRE(r.write_at(b, blk, kNewLife, 1).ok());
  for (int life = 0; life < 2; ++life) {  // the reader, then the reader restarted
    View y = r.view(life == 0 ? "node2-reader" : "node2-reader-restarted");
    y.path[2]->delay_all(Millis(5));
    for (uint64_t s = 2; s < 8; ++s) {
      for (int i = 0; i < 3; ++i) {
        auto h = r.read_at(y, blk);
        REQUIRE_MESSAGE(h.ok(), h.status().to_string());
        CHECK(h->incarnation == kNewLife);
      }
      REQUIRE(r.write_at(b, blk, kNewLife, s + 10 * life).ok());
    }
    r.settle(y);
  }
  r.settle(b);
}

// ATTACK 3 (after the fix of attacks 1 and 2; again two reads of the block open at once). A device's memory is
// its answer to the NEWEST read it answered; standing() counted a copy as this read's answer only when it came
// from this very read. When a device answers both open reads, read 3's answers all belong to read 4 in memory:
// read 3 has no "fresh" copy at all, so no doubt, and its choice is the history's top -- the old life's late
// move. The schedule: as attack 1 up to read 2 (B moved at read 2 on members 0 and 2; member 1 showed A.10,
// and A.11 landed there after); reads 3 and 4, issued together after B.1 completed, are answered by member 1
// at once (A.11: a move of A after read 2) and by member 0 a little later (B.1, both in one reap); member 2 is
// slower. Read 3 has two valid answers and no doubt: A.11.
TEST_CASE("review17c attack 3, chooser: answers to a newer open read are answers of the older read too") {
  Chooser k;
  const uint64_t blk = k.r.table(1, 19);
  auto a10 = k.r.record_at(blk, kOldLife, 10), a11 = k.r.record_at(blk, kOldLife, 11);
  auto b1 = k.r.record_at(blk, kNewLife, 1);
  REQUIRE(k.read(blk, {{0, a10}, {1, a10}, {2, a10}}).header->incarnation == kOldLife);
  REQUIRE(k.read(blk, {{1, a10}, {0, b1}, {2, b1}}).header->incarnation == kNewLife);
  // Reads 3 and 4, both issued after B.1 completed: member 1 answers A.11, member 0 B.1.
  for (int read = 3; read <= 4; ++read) {
    auto o = k.read(blk, {{1, a11}, {0, b1}});
    REQUIRE(o.header);
    CHECK_MESSAGE((!o.settled || o.header->incarnation == kNewLife),
                  "read " << read << " (issued after B.1 completed; members 1 and 0 answered) is settled on life A's A."
                          << o.header->seq);
  }
}

TEST_CASE("review17c attack 3: two reads open, each member answering both: the older one must not settle on the "
          "old life") {
  Rig r;
  const uint64_t blk = r.table(1, 19);
  View a = r.view("node1-lifeA");
  View y = r.view("node2-reader");
  REQUIRE(r.write_at(a, blk, kOldLife, 10).ok());
  REQUIRE(r.read_at(y, blk)->seq == 10);
  // Attack 1's read 2: member 1 answers A.10, then A.11 lands there, life A ends, B.1 completes on 0 and 2.
  a.path[1]->delay_all(Millis(5));
  const uint64_t tw = r.next_tag++;
  auto a11 = r.record_at(blk, kOldLife, 11);
  REQUIRE(a.dev->submit_write(tw, blk, a11, r.clock.now(), r.clock.now() + testing::kMajorityTimeout).ok());
  REQUIRE(r.drive(a, tw).ok());
  y.path[0]->delay_all(Millis(20));
  y.path[2]->delay_all(Millis(20));
  const uint64_t t2 = r.next_tag++;
  std::vector<std::byte> out2(r.bs());
  REQUIRE(y.dev->submit_read(t2, blk, out2, r.clock.now(), r.clock.now() + testing::kMajorityTimeout).ok());
  std::vector<IoCompletion> ydone;
  y.dev->reap(r.clock.now(), ydone);
  r.clock.advance(Millis(5));
  r.done.clear();
  a.dev->reap(r.clock.now(), r.done);
  REQUIRE(a.dev->total_held() == 0);
  a.dev.reset();
  r.clock.advance(Millis(1));
  View b = r.view("node1-lifeB");
  b.path[1]->delay_all(Millis(2000));
  REQUIRE(r.write_at(b, blk, kNewLife, 1).ok());
  REQUIRE(r.drive(y, t2).ok());
  // Reads 3 and 4 together: member 1 at once, member 0 in 10 ms, member 2 in 50 ms.
  y.path[0]->delay_all(Millis(10));
  y.path[2]->delay_all(Millis(50));
  const uint64_t t3 = r.next_tag++, t4 = r.next_tag++;
  std::vector<std::byte> out3(r.bs()), out4(r.bs());
  const TimePoint issued = r.clock.now();
  REQUIRE(y.dev->submit_read(t3, blk, out3, issued, issued + testing::kMajorityTimeout).ok());
  REQUIRE(y.dev->submit_read(t4, blk, out4, issued, issued + testing::kMajorityTimeout).ok());
  const Status s3 = r.drive(y, t3);
  const Status s4 = r.drive(y, t4);
  for (auto [st, out, n] : {std::tuple{s3, &out3, 3}, std::tuple{s4, &out4, 4}}) {
    if (!st.ok()) continue;
    auto h = verify_block(*out, {RecordType::service_table, r.bs(), 1}, r.seal);
    REQUIRE(h.ok());
    CHECK_MESSAGE(h->incarnation == kNewLife,
                  "read " << n << ", issued after B.1 completed on members 0 and 2, returned life A's A." << h->seq);
  }
  r.settle(y);
  r.settle(b, Millis(2100));
}
