// Adversarial review of issue 17 (the majority device and its chooser). Each attack is a test that FAILS
// while the hole it shows is open; attacks that did not work stay as regression tests.
// The property under attack (docs/design.md "Three quorum devices", "The argument"): a read issued after a
// write completed on a majority returns that write, a later value of its life, or a value of another life
// that *moved* at least as recently -- never an older value, and never a value one disk could not show.
#include <doctest/doctest.h>

#include <cstring>
#include <map>
#include <memory>
#include <vector>

#include "disk/life_number.h"
#include "disk/majority_block_device.h"
#include "tests/support/majority_rig.h"

using namespace castor;

namespace {

constexpr Duration kTimeout = testing::kMajorityTimeout;
using View = testing::MajorityView;

// The shared rig, with this file's names: record(offset, ...), write/read at an offset.
struct Rig : testing::MajorityRig {
  std::vector<std::byte> record(uint64_t offset, uint64_t inc, uint64_t seq) const { return record_at(offset, inc, seq); }
  Status write(View& v, uint64_t offset, uint64_t inc, uint64_t seq) { return write_at(v, offset, inc, seq); }
  Result<RecordHeader> read(View& v, uint64_t offset) { return read_at(v, offset); }
};

constexpr uint64_t kOldLife = make_incarnation(1, 111), kLiveLife = make_incarnation(2, 222);  // ordered lives

}  // namespace

// ATTACK 1 (worked). One faulty device: member 0 turned read-only after node 1's old life M wrote its last
// record there (a clean leave's DOWN, say) and before node 1's new life L wrote anything. L's writes complete
// on members 1 and 2. A process that opens the set afresh (a restarted quorumd, castor status) reads node 1's
// block; member 2 happens to answer after 0 and 1 (no fault: ordinary variance). Both lives are first seen in
// that read: changed_at ties, one fresh holder each, no previous choice, and the lowest device (0) wins: the
// read hands out M's record. One disk would show L's. With M's record a DOWN, PeerMonitor takes it at its very
// first read ("the peer left before we started") and the reader may take over while L holds a lease.
TEST_CASE("review17 attack 1: a fresh reader never takes a read-only member's old-life copy over the live life "
          "on the other two") {
  Rig r;
  View x = r.view("x");
  REQUIRE(r.write(x, r.hb(1), kOldLife, 90).ok());  // M's last word, on all three
  View x2 = r.view("x-new-life");                    // node 1 restarted: its new life L
  x2.mem[0]->set_read_only(true);                    // member 0 keeps M's record from now on
  for (uint64_t s = 1; s <= 5; ++s) REQUIRE(r.write(x2, r.hb(1), kLiveLife, s).ok());
  r.settle(x2);
  View y = r.view("y-restarted");  // the peer's quorumd restarted: no memory
  y.path[2]->delay_all(Millis(50));
  auto h = r.read(y, r.hb(1));
  REQUIRE(h.ok());
  CHECK_MESSAGE(h->incarnation == kLiveLife,
                "a read issued after L's write completed on members 1 and 2 returned the old life's record "
                "(incarnation "
                    << h->incarnation << ", seq " << h->seq << ") from the read-only member 0");
}

// ATTACK 2 (worked). The same one faulty device, now failing the reader's first reads and then answering
// again (a path flapping, a device read-only and briefly unreachable). The reader saw L on members 1 and 2;
// member 0 then shows M's copy, which this reader never saw: a new incarnation rises, so M "moved most
// recently", and from then on every read hands out M's copy -- for a block nobody rewrites (a service-table
// block) the rollback stays until L writes that block again. A rollback after a completed write: what the
// chooser must never do.
TEST_CASE("review17 attack 2: a member answering again with an old life's copy never seen rolls a table block "
          "back") {
  Rig r;
  const uint64_t blk = r.table(1, 3);
  View x = r.view("x");
  REQUIRE(r.write(x, blk, kOldLife, 40).ok());  // M's table block 3, on all three
  View x2 = r.view("x-new-life");
  x2.mem[0]->set_read_only(true);  // member 0 turned read-only: it keeps M's block
  REQUIRE(r.write(x2, blk, kLiveLife, 41).ok());  // L's change of block 3: on members 1 and 2
  r.settle(x2);
  View y = r.view("y");
  y.path[0]->fail_all();  // member 0 does not answer this reader for a while
  auto first = r.read(y, blk);
  REQUIRE(first.ok());
  REQUIRE(first->incarnation == kLiveLife);
  y.path[0]->pass_all();  // member 0 answers again, with what it held all along
  for (int i = 0; i < 5; ++i) {
    auto h = r.read(y, blk);
    REQUIRE(h.ok());
    CHECK_MESSAGE(h->incarnation == kLiveLife, "read " << i << " after member 0 came back: the block went back to "
                                                          "the old life's copy (incarnation "
                                                          << h->incarnation << ", seq " << h->seq << ")");
  }
}

// Regression (did not work): an answer to an OLDER read that arrives late, showing another life's higher copy,
// is credited to its own read number, so it cannot outrank a life seen moving in a newer read.
TEST_CASE("review17 regression: a late answer of an older read does not outrank a newer move") {
  Rig r;
  View x = r.view("x");
  REQUIRE(r.write(x, r.hb(1), kLiveLife, 1).ok());
  View y = r.view("y");
  REQUIRE(r.read(y, r.hb(1)).ok());
  // Member 2's path for y becomes slow: y's next read is answered by 0 and 1 first; 2 answers late.
  y.path[2]->delay_all(Millis(600));
  r.put(2, r.hb(1), r.record(r.hb(1), kOldLife, 500));  // an undead copy on member 2 only
  const uint64_t tag = r.next_tag++;
  std::vector<std::byte> b(r.layout.block_size());
  REQUIRE(y.dev->submit_read(tag, r.hb(1), b, r.clock.now(), r.clock.now() + kTimeout).ok());
  REQUIRE(r.drive(y, tag).ok());
  y.path[2]->pass_all();
  REQUIRE(r.write(x, r.hb(1), kLiveLife, 2).ok());  // L moves, seen in a newer read
  auto h = r.read(y, r.hb(1));  // the late answer of the older read arrives during this one
  REQUIRE(h.ok());
  r.settle(y, Millis(700));
  auto h2 = r.read(y, r.hb(1));
  REQUIRE(h2.ok());
  // Member 2 now answers kOldLife@500 freshly (it is on the disk): an undead copy is seen as a change once,
  // which is right; what must not happen is L's newer move being hidden by the late, older answer.
  CHECK(h->incarnation == kLiveLife);
  CHECK(h->seq == 2);
}

// Regression (did not work): the timing contract -- a composite write completes no earlier than the
// majority-th device, and via reap_with_clock every completion is taken at the latest device time.
TEST_CASE("review17 regression: a composite write is reported no earlier than its majority-th device") {
  Rig r;
  View x = r.view("x");
  x.path[0]->delay_all(Millis(20));
  x.path[1]->delay_all(Millis(400));
  x.path[2]->delay_all(Millis(900));
  auto b = r.record(r.hb(1), kLiveLife, 1);
  const TimePoint t0 = r.clock.now();
  REQUIRE(x.dev->submit_write(7, r.hb(1), b, t0, t0 + kTimeout).ok());
  REQUIRE(r.drive(x, 7).ok());
  CHECK(r.clock.now() - t0 >= Millis(400));
}

// Regression (did not work): one stalled member holding our writes never counts as a stalled path
// (held_after_timeout / held_by_kernel are the majority-th counts), but total_held -- what a rejoin waits
// for -- counts it, and a replaced (parked) device's writes too.
TEST_CASE("review17 regression: held counts with one member stalled, and after it is replaced") {
  Rig r;
  View x = r.view("x");
  x.path[1]->hang_all();
  for (uint64_t s = 1; s <= 3; ++s) REQUIRE(r.write(x, r.hb(1), kLiveLife, s).ok());
  r.settle(x);
  CHECK(x.dev->held_after_timeout() == 0);
  CHECK(x.dev->held_by_kernel() == 0);
  CHECK(x.dev->total_held() > 0);
  auto fresh = std::make_unique<MemoryBlockDevice>(std::make_shared<MemoryDisk>(512, r.layout.required_bytes()), "n");
  REQUIRE(x.dev->replace_device(1, std::move(fresh)).ok());
  CHECK(x.dev->parked() == 1);
  CHECK(x.dev->total_held() > 0);  // the old member's write may still land
  x.path[1]->release_hung(r.clock.now());
  r.settle(x, Millis(10));
  CHECK(x.dev->parked() == 0);
  CHECK(x.dev->total_held() == 0);
}
