// Adversarial review of issue 17's final chooser rules (17ff5b4, 78603a0: moves judged per device, an
// unsettled tie fails the read, MOVE_NEWS). Each attack is a test that FAILS while the hole it shows is open;
// attacks that did not work stay as regression tests.
// The property under attack (docs/design.md "Three quorum devices", "The argument", and svcmgr's "Never two
// owners"): a read issued after a write completed on a majority never returns the value the reader had
// before that write (the one-disk argument: a stand-still means no completed write), in particular never an
// old life's record after the new life's write completed.
#include <doctest/doctest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "disk/life_number.h"
#include "disk/majority_block_device.h"
#include "tests/support/majority_rig.h"

using namespace castor;

namespace {

using View = testing::MajorityView;
using Rig = testing::MajorityRig;

constexpr uint64_t kOldLife = make_incarnation(1, 0x1111), kNewLife = make_incarnation(2, 0x2222);  // ordered lives

}  // namespace

// ATTACK 1. One faulty device: the reader's reads of member 0 fail for a while (a path down, a flapping HBA),
// so the reader has no memory of member 0. Node 1's life A changes its table block (89 -> 90) on members 1
// and 2: the reader sees the move and follows A.90. Node 1's quorumd restarts (life B) and B writes the
// block; the write completes on members 0 and 2 -- member 1 is a few ms slower (ordinary variance). The
// reader's path to member 0 is back; its read, issued after B's write completed, is answered first by member
// 0 (B.91: the device's FIRST valid answer, so no move) and member 1 (A.90, B's write not landed yet: no
// move); member 2 a few ms later. A moved last (at the read that showed A.90), B never "moved": A is the
// only life at the top, settled() is true, and the read hands out A.90 -- the value the reader had before a
// write that completed on a majority. One disk could not show that. For svcmgr it breaks "Never two owners":
// B's claim completed, the peer's read issued after it still sees A's released entry.
TEST_CASE("review17b attack 1: a member back from failing reads holds the new life's completed write: its first "
          "answer must not leave the reader on the old life") {
  Rig r;
  const uint64_t blk = r.table(1, 3);
  View a = r.view("node1-lifeA");
  View y = r.view("node2-reader");
  y.path[0]->fail_all();  // the one faulty device, for this reader
  REQUIRE(r.write_at(a, blk, kOldLife, 89).ok());
  REQUIRE(r.read_at(y, blk).ok());
  REQUIRE(r.write_at(a, blk, kOldLife, 90).ok());
  auto h = r.read_at(y, blk);
  REQUIRE(h.ok());
  REQUIRE(h->incarnation == kOldLife);
  REQUIRE(h->seq == 90);  // the reader follows A.90
  r.settle(a);            // life A's process is gone, nothing of it in the kernel
  View b = r.view("node1-lifeB");
  b.path[1]->delay_all(Millis(50));  // member 1 takes B's write a little later than 0 and 2
  REQUIRE(r.write_at(b, blk, kNewLife, 91).ok());  // complete: on members 0 and 2
  y.path[0]->pass_all();                   // member 0 answers this reader again
  y.path[2]->delay_all(Millis(5));         // member 2 answers a few ms after the others
  h = r.read_at(y, blk);                   // issued after B's write completed
  REQUIRE(h.ok());
  CHECK_MESSAGE(h->incarnation == kNewLife,
                "a read issued after life B's write completed on members 0 and 2 returned life A's record (seq "
                    << h->seq << "), the value the reader had before that write");
}

// ATTACK 2. The same hole through a replacement, no device fault at all: node 2 adopted NEW in slot 0 (its
// chooser forgets the slot; NEW's quorum area is zeroed). Node 1's life A had retired OLD and not adopted NEW
// yet, so A's writes go to members 1 and 2 only: the reader reads NEW's copy of node 1's block as invalid
// (no memory) while it follows A.90. Node 1's quorumd restarts: life B opens the set from the superblocks
// (the peer posted G: it counts NEW) and writes the block, complete on NEW and member 2. NEW's first valid
// answer is no move; member 1 answers A.90 before B's write lands there: the read returns A.90.
TEST_CASE("review17b attack 2: after a replacement the new member's first answer of the new life's completed "
          "write must not leave the reader on the old life") {
  Rig r;
  const uint64_t blk = r.table(1, 5);
  View a = r.view("node1-lifeA");
  View y = r.view("node2-reader");
  REQUIRE(r.write_at(a, blk, kOldLife, 40).ok());
  REQUIRE(r.read_at(y, blk).ok());
  // The replacement: node 1 retired slot 0 (OLD counts as failed), node 2 adopted NEW (zeroed).
  a.path[0]->fail_all();
  auto fresh = std::make_shared<MemoryDisk>(512, r.layout.required_bytes());
  REQUIRE(y.dev->replace_device(0, std::make_unique<MemoryBlockDevice>(fresh, "NEW-for-node2")).ok());
  REQUIRE(r.write_at(a, blk, kOldLife, 41).ok());  // on members 1 and 2
  auto h = r.read_at(y, blk);
  REQUIRE(h.ok());
  REQUIRE(h->incarnation == kOldLife);
  REQUIRE(h->seq == 41);  // the reader follows A.41 (a move on members 1 and 2)
  r.settle(a);
  r.settle(y);
  // Node 1 restarts: its new life opens {NEW, member 1, member 2}.
  r.disks[0] = fresh;
  View b = r.view("node1-lifeB");
  b.path[1]->delay_all(Millis(50));
  REQUIRE(r.write_at(b, blk, kNewLife, 42).ok());  // complete on NEW and member 2
  y.path[2]->delay_all(Millis(5));
  h = r.read_at(y, blk);
  REQUIRE(h.ok());
  CHECK_MESSAGE(h->incarnation == kNewLife,
                "a read issued after life B's write completed on NEW and member 2 returned life A's record (seq "
                    << h->seq << ")");
}

// ATTACK 3 (the model's gap: answers that come after their read completed). The reader's path to member 0
// stalls while two of its reads are in it (the reads that see A move 88 -> 89 -> 90 on members 1 and 2).
// Life A ends, life B writes the block, complete on members 0 and 2 (member 1 a few ms slower). The stall
// ends: the held reads land now and show B.91. The older one is judged against member 0's memory (A.88): a
// change of life, a move -- credited to ITS read number, older than the read at which A.90 moved; the newer
// one is no move (same life, not above B's highest seq). B's move is now ranked below A's although B's
// value was seen after A's. The next read, issued after B's write completed, is answered by member 0 (B.91,
// no move: its memory already holds it) and member 1 (A.90): A moved last, and A.90 is handed out again.
TEST_CASE("review17b attack 3: late answers of a stalled path must not rank the new life's write below the old "
          "life's last move") {
  Rig r;
  const uint64_t blk = r.table(1, 7);
  View a = r.view("node1-lifeA");
  View y = r.view("node2-reader");
  REQUIRE(r.write_at(a, blk, kOldLife, 88).ok());
  REQUIRE(r.read_at(y, blk).ok());  // memory of all three: A.88
  y.path[0]->hang_all();            // the reader's path to member 0 stalls
  REQUIRE(r.write_at(a, blk, kOldLife, 89).ok());
  REQUIRE(r.read_at(y, blk).ok());  // member 0's answer held
  REQUIRE(r.write_at(a, blk, kOldLife, 90).ok());
  auto h = r.read_at(y, blk);       // member 0's answer held
  REQUIRE(h.ok());
  REQUIRE(h->incarnation == kOldLife);
  REQUIRE(h->seq == 90);
  r.settle(a);
  View b = r.view("node1-lifeB");
  b.path[1]->delay_all(Millis(50));
  REQUIRE(r.write_at(b, blk, kNewLife, 91).ok());  // complete on members 0 and 2
  y.path[0]->release_hung(r.clock.now());          // the stall ends: the held reads see B.91
  y.path[0]->pass_all();
  r.done.clear();
  y.dev->reap(r.clock.now(), r.done);  // the late answers reach the chooser
  y.path[2]->delay_all(Millis(5));
  h = r.read_at(y, blk);  // issued after B's write completed
  REQUIRE(h.ok());
  CHECK_MESSAGE(h->incarnation == kNewLife,
                "a read issued after life B's write completed on members 0 and 2 returned life A's record (seq "
                    << h->seq << ")");
}

// ATTACK 1, one fault more (member 2 stalled for the reader as well): no majority of the read's answers can
// place member 0's first answer. The read must fail rather than guess the old life (as an unsettled tie).
TEST_CASE("review17b attack 1 with member 2 stalled: the read fails rather than hand out the old life") {
  Rig r;
  const uint64_t blk = r.table(1, 3);
  View a = r.view("node1-lifeA");
  View y = r.view("node2-reader");
  y.path[0]->fail_all();
  REQUIRE(r.write_at(a, blk, kOldLife, 89).ok());
  REQUIRE(r.read_at(y, blk).ok());
  REQUIRE(r.write_at(a, blk, kOldLife, 90).ok());
  REQUIRE(r.read_at(y, blk)->seq == 90);
  r.settle(a);
  View b = r.view("node1-lifeB");
  b.path[1]->delay_all(Millis(50));
  REQUIRE(r.write_at(b, blk, kNewLife, 91).ok());
  y.path[0]->pass_all();
  y.path[2]->hang_all();  // the second fault: member 2 does not answer this read at all
  auto h = r.read_at(y, blk);
  CHECK_MESSAGE((!h.ok() || h->incarnation == kNewLife),
                "with member 2 stalled, the read returned life A's record (seq " << (h.ok() ? h->seq : 0)
                                                                                 << ") over B's completed write");
  y.path[2]->release_hung(r.clock.now());
  y.path[2]->pass_all();
  r.settle(b);  // B's write lands on member 1 too
  h = r.read_at(y, blk);
  REQUIRE(h.ok());
  CHECK(h->incarnation == kNewLife);
}

// ATTACK 1 at the chooser's level, with two devices the reader has no memory of (slot 2 replaced, member 0
// back): a majority of one read's answers placed the new life although no answer was a move. The next read,
// answered by one of its holders and the lagging member, must not go back to the old life: the majority's
// life counts as having moved at the read that placed it.
TEST_CASE("review17b attack 1, chooser: a life placed by a majority of first answers does not give way to the "
          "old life at the next read") {
  Rig r;
  ReplicaChoice c{r.layout, r.seal, testing::majority_rig_cluster(), 3};
  const uint64_t blk = r.table(1, 3);
  auto read = [&](std::vector<std::pair<size_t, std::vector<std::byte>>> answers) {
    std::vector<ReplicaChoice::Answer> a;
    for (auto& [d, b] : answers) {
      c.observe(d, blk, b);
      a.push_back({d, b});
    }
    auto ch = c.choose(blk, a);
    REQUIRE(ch);
    return std::make_pair(a.size() >= 2, ch->header);  // (a valid majority settles every read now)
  };
  read({{1, r.record_at(blk, kOldLife, 89)}, {2, r.record_at(blk, kOldLife, 89)}});
  auto [s2, h2] = read({{1, r.record_at(blk, kOldLife, 90)}, {2, r.record_at(blk, kOldLife, 90)}});
  REQUIRE(h2.incarnation == kOldLife);
  c.forget_device(2);  // slot 2 replaced
  auto [s3, h3] = read({{0, r.record_at(blk, kNewLife, 91)}, {2, r.record_at(blk, kNewLife, 91)},
                        {1, r.record_at(blk, kOldLife, 90)}});
  CHECK(s3);
  CHECK_MESSAGE(h3.incarnation == kNewLife, "two first answers of B.91 and member 1's A.90: handed out A." << h3.seq);
  auto [s4, h4] = read({{1, r.record_at(blk, kOldLife, 90)}, {2, r.record_at(blk, kNewLife, 91)}});
  CHECK(s4);
  CHECK_MESSAGE(h4.incarnation == kNewLife, "after B.91 was handed out, the next read went back to A." << h4.seq);
}

// HELD (regression). A restarted writer whose new life starts at seq 1 while a lagging member keeps the old
// life's higher seq, and the reader's path to that member stalls across the restart and is released late:
// no read issued after a write of the new life completed returns the old life.
TEST_CASE("review17b held: a lagging member with the old life's higher seq, late answers released after the "
          "restart") {
  Rig r;
  const uint64_t hb = r.hb(1);
  View a = r.view("node1-lifeA");
  View y = r.view("node2-reader");
  for (uint64_t s = 1; s <= 3; ++s) {
    REQUIRE(r.write_at(a, hb, kOldLife, s).ok());
    REQUIRE(r.read_at(y, hb).ok());
  }
  a.path[2]->delay_all(Millis(300));  // member 2 lags: A.4 lands there late
  REQUIRE(r.write_at(a, hb, kOldLife, 4).ok());
  y.path[2]->hang_all();  // and the reader's path to it stalls
  REQUIRE(r.read_at(y, hb)->seq == 4);
  r.settle(a);  // A.4 has landed on member 2; life A is gone
  View b = r.view("node1-lifeB");
  b.path[2]->hang_all();  // B's writes do not reach member 2 (it keeps A.4)
  for (uint64_t s = 1; s <= 3; ++s) {
    REQUIRE(r.write_at(b, hb, kNewLife, s).ok());
    if (s == 2) {
      y.path[2]->release_hung(r.clock.now());  // the held reads show A.4 now
      y.path[2]->pass_all();
    }
    auto h = r.read_at(y, hb);
    REQUIRE(h.ok());
    CHECK_MESSAGE(h->incarnation == kNewLife, "after B." << s << " completed the read returned A." << h->seq);
    CHECK(h->seq == s);
  }
}

// HELD (regression). Equal seqs across lives: B's seq 5 equals A's last; B.5 completes on members 0 and 2
// while member 1 lags: a read answered by members 0 and 1 returns B.5 (member 0 changed life: a move).
TEST_CASE("review17b held: equal seqs across lives") {
  Rig r;
  const uint64_t hb = r.hb(1);
  View a = r.view("node1-lifeA");
  View y = r.view("node2-reader");
  for (uint64_t s = 4; s <= 5; ++s) {
    REQUIRE(r.write_at(a, hb, kOldLife, s).ok());
    REQUIRE(r.read_at(y, hb).ok());
  }
  r.settle(a);
  View b = r.view("node1-lifeB");
  b.path[1]->delay_all(Millis(50));
  REQUIRE(r.write_at(b, hb, kNewLife, 5).ok());
  y.path[2]->delay_all(Millis(5));
  auto h = r.read_at(y, hb);
  REQUIRE(h.ok());
  CHECK(h->incarnation == kNewLife);
  CHECK(h->seq == 5);
}

// HELD (regression). The repair path racing a normal write: member 1's copy of the table block is zeroed;
// the node rewrites its region (seq 91) and svcmgr's change (seq 92) follows at once while member 2 is slow:
// on member 2 the two queue in order. The reader never goes back and every member ends with 92.
TEST_CASE("review17b held: a repair rewrite racing a table change on a slow member") {
  Rig r;
  const uint64_t blk = r.table(1, 9);
  View a = r.view("node1-lifeA");
  View y = r.view("node2-reader");
  REQUIRE(r.write_at(a, blk, kOldLife, 90).ok());
  REQUIRE(r.read_at(y, blk)->seq == 90);
  std::vector<std::byte> zero(r.bs());
  r.put(1, blk, zero);  // rot
  auto h = r.read_at(y, blk);
  REQUIRE(h.ok());
  CHECK(h->seq == 90);
  CHECK(y.dev->damaged_region_reads(1) > 0);
  a.path[2]->delay_all(Millis(200));
  const uint64_t t1 = r.next_tag++, t2 = r.next_tag++;
  auto rec91 = r.record_at(blk, kOldLife, 91), rec92 = r.record_at(blk, kOldLife, 92);
  REQUIRE(a.dev->submit_write(t1, blk, rec91, r.clock.now(), r.clock.now() + testing::kMajorityTimeout).ok());
  REQUIRE(a.dev->submit_write(t2, blk, rec92, r.clock.now(), r.clock.now() + testing::kMajorityTimeout).ok());
  uint64_t last = 90;
  for (int i = 0; i < 40; ++i) {
    r.done.clear();
    a.dev->reap(r.clock.now(), r.done);
    auto g = r.read_at(y, blk);
    REQUIRE(g.ok());
    CHECK(g->incarnation == kOldLife);
    CHECK(g->seq >= last);
    last = g->seq;
    r.clock.advance(Millis(10));
  }
  r.settle(a);
  CHECK(last == 92);
  for (size_t d = 0; d < 3; ++d) {
    auto on = verify_block(std::span<const std::byte>(r.disks[d]->bytes).subspan(blk, r.bs()),
                           {RecordType::service_table, r.bs(), 1}, r.seal);
    REQUIRE(on.ok());
    CHECK(on->seq == 92);
  }
}

// ATTACK 4 (the (a)-strict gap the model accepts, maj_strict_a, "a late write of a replaced life shows once";
// docs/design.md). Life A's last table write reached member 0 only (the process was killed between its
// io_submit calls; its writes to members 1 and 2 never reached the kernel). The reader's path to member 0
// fails for a while (one faulty device, which also takes node 1's writes late). Life B's write completes on
// members 1 and 2 and the reader follows it. Member 0 answers again: A.91 against the reader's memory A.90
// is a rise above A's highest seq, a move, later than B's: A.91 is handed out after B's completed write --
// and, for a table block nobody rewrites at once, on every read until B writes the block again (the scrub
// interval, a minute). It is not "shown once", and for svcmgr it is what "Never two owners" excludes: the
// peer's read, issued after B's claim completed, sees A's entry. One disk never shows A.91 after B.92.
TEST_CASE("review17b attack 4: an old life's write that reached one member only is not handed out over the new "
          "life's completed write") {
  Rig r;
  const uint64_t blk = r.table(1, 11);
  View a = r.view("node1-lifeA");
  View y = r.view("node2-reader");
  REQUIRE(r.write_at(a, blk, kOldLife, 90).ok());
  REQUIRE(r.read_at(y, blk)->seq == 90);  // memory of all three: A.90
  y.path[0]->fail_all();                   // the reader's path to member 0 fails for a while
  // A.91 reaches member 0 only: A is killed before its writes to members 1 and 2 reach the kernel.
  auto drop_writes = [](IoKind k, uint64_t, size_t, TimePoint) {
    return k == IoKind::write ? FaultDecision{FaultDecision::Kind::drop} : FaultDecision{};
  };
  a.path[1]->set_policy(drop_writes);
  a.path[2]->set_policy(drop_writes);
  {
    const uint64_t t = r.next_tag++;
    auto b91 = r.record_at(blk, kOldLife, 91);
    REQUIRE(a.dev->submit_write(t, blk, b91, r.clock.now(), r.clock.now() + testing::kMajorityTimeout).ok());
    r.done.clear();
    a.dev->reap(r.clock.now(), r.done);  // lands on member 0
  }
  a.dev.reset();  // life A is gone
  REQUIRE(r.read_at(y, blk)->seq == 90);
  View b = r.view("node1-lifeB");
  b.path[0]->hang_all();  // member 0 takes node 1's writes late (the same faulty device)
  REQUIRE(r.write_at(b, blk, kNewLife, 92).ok());  // complete on members 1 and 2
  auto h = r.read_at(y, blk);
  REQUIRE(h.ok());
  REQUIRE(h->incarnation == kNewLife);  // the reader follows B.92
  y.path[0]->pass_all();                // member 0 answers the reader again
  int old = 0;
  for (int i = 0; i < 5; ++i) {
    h = r.read_at(y, blk);
    if (h.ok() && h->incarnation == kOldLife) ++old;
    r.clock.advance(Millis(500));
  }
  CHECK_MESSAGE(old == 0, old << " of 5 reads issued after life B's write completed (and was read) returned life "
                              "A's record A.91 from member 0");
}
