// REVIEW FINDING R1 (issue 12 adversarial review): the epoch record and a table block holding the same
// epochs are in the kernel at once, so ONE crash (power cut) during a scrub — or during any svcmgr table
// write that overlaps a floor raise — can tear BOTH records that carry an epoch e*. That is exactly the
// "double fault" docs/design.md excludes ("one node losing both records that carry e*"), produced here by a
// single fault: at the restart the floor is rebuilt from what survived, and the next owner reuses e*.
//
// Schedule: node 2 is down; node 1 takes S over from it with epoch 5 (node 2's records still say 4: its
// entry released(4), its floor 4). Some time later node 1 scrubs: it submits the epoch record (floor 5) and,
// while that write is still in the kernel, the table block holding S (owned, epoch 5). Power is cut: both
// writes are torn. Node 1 restarts: its epoch record does not decode, so the floor is rebuilt from its
// valid entries (none: S's block is torn too) and node 2's records (4) = 4; S's block is rewritten empty.
// svcmgr on node 1 then claims S again (it prefers node 1; node 2 is still down) and gets epoch
// max(none, 4, 4, 4) + 1 = 5: the epoch it already granted. CASTOR_EPOCH is reused.
#include <doctest/doctest.h>

#include <optional>
#include <vector>

#include "quorumd/service_table_store.h"
#include "disk/disk_layout.h"
#include "svcmgr/ownership.h"
#include "tests/support/sample_records.h"

using namespace castor;

namespace {

Uuid review_uuid() {
  Uuid u;
  for (size_t i = 0; i < u.bytes.size(); ++i) u.bytes[i] = uint8_t(0x31 + i);
  return u;
}

ServiceEntry owned_s(uint64_t epoch) { return testing::service_entry("ledger", OwnershipState::owned, 1, epoch, 7); }

using testing::at;

}  // namespace

TEST_CASE("review R1: a scrub never has the epoch record and a table block carrying its epochs in the kernel "
          "together (one torn pair would lose e*)") {
  auto layout = DiskLayout::for_sector_size(512);
  REQUIRE(layout.ok());
  ServiceTableStore store(*layout, review_uuid(), 1, RecordSeal::crc_only());
  // Node 1 owns ledger with epoch 5; its floor 5 is durable.
  REQUIRE(store.set(owned_s(5)).ok());
  std::vector<std::byte> buf(layout->block_size());
  auto b = store.next_dirty();
  REQUIRE(b == ServiceTableStore::kEpochRecord);
  REQUIRE(store.encode(*b, 42, 1, buf).ok());
  store.write_done(*b, true, false);
  b = store.next_dirty();
  REQUIRE(b == 0u);
  REQUIRE(store.encode(*b, 42, 1, buf).ok());
  store.write_done(*b, true, false);
  REQUIRE(!store.next_dirty());
  REQUIRE(store.durable_floor() == 5);

  // The scrub: the epoch record goes first...
  store.scrub();
  b = store.next_dirty();
  REQUIRE(b == ServiceTableStore::kEpochRecord);
  REQUIRE(store.encode(*b, 42, 2, buf).ok());
  REQUIRE(store.in_flight(ServiceTableStore::kEpochRecord));
  // ...and while it is in the kernel, the store must not offer block 0 (it holds epoch 5, which only the
  // epoch record and this block remember). Today it does: both are in flight together.
  const auto next = store.next_dirty();
  const bool both_in_flight = next && *next == 0u;
  CHECK_MESSAGE(!both_in_flight,
                "block 0 (ledger, epoch 5) offered while the epoch record is in flight: one power cut tears both");
  if (!both_in_flight) return;

  // What that single fault leads to (the restart path of QuorumDaemon::load_own_region, by hand): block 0
  // and the epoch record torn; node 2's records say 4.
  ServiceTableStore after(*layout, review_uuid(), 1, RecordSeal::crc_only());
  after.mark_corrupt(0, "bad CRC (torn)");
  const uint64_t peer_max = 4;  // node 2: released(4), floor 4
  after.rebuild_floor(std::max(after.wanted_floor(), peer_max), "bad CRC (torn)");
  after.raise_floor(peer_max);
  // The rebuilt floor is written (quorumd holds a lease again).
  b = after.next_dirty();
  REQUIRE(b == ServiceTableStore::kEpochRecord);
  REQUIRE(after.encode(*b, 43, 3, buf).ok());
  after.write_done(*b, true, false);
  CHECK_MESSAGE(after.durable_floor() >= 5, "the rebuilt floor forgot epoch 5");

  // svcmgr on node 1 claims ledger again: its own entry is gone, the dead peer's entry says released(4).
  Ownership o("ledger", 1, ServiceEntry{});
  o.set_intent(Intent::hold);
  OwnershipStep w = o.step(at(90));
  if (w.write) o.on_write_done(o.write_token(), true, at(95));
  PeerEntryRead r;
  r.entry = owned_s(4);
  r.entry.node = 2;
  r.entry.state = OwnershipState::released;
  r.own_floor = after.durable_floor();
  r.peer_floor = 4;
  r.read_issued = at(100);
  r.read_completed = at(102);
  o.on_peer_entry(r);
  o.on_liveness({PeerView::dead, at(110)});
  OwnershipStep s = o.step(at(120));
  REQUIRE(s.write);
  REQUIRE(s.write->state == OwnershipState::claiming);
  o.on_write_done(o.write_token(), true, at(130));
  r.read_issued = at(140);
  r.read_completed = at(142);
  o.on_peer_entry(r);
  s = o.step(at(150));
  REQUIRE(s.write);
  REQUIRE(s.write->state == OwnershipState::owned);
  CHECK_MESSAGE(s.write->epoch > 5, "CASTOR_EPOCH " << s.write->epoch << " granted again (5 was granted before the crash)");
}

TEST_CASE("review R1: an svcmgr write of a block with epochs never overlaps an epoch record write (another "
          "service's new epoch raises the floor)") {
  auto layout = DiskLayout::for_sector_size(512);
  REQUIRE(layout.ok());
  ServiceTableStore store(*layout, review_uuid(), 1, RecordSeal::crc_only());
  std::vector<std::byte> buf(layout->block_size());
  REQUIRE(store.set(owned_s(5)).ok());  // ledger: block 0, slot 0
  for (uint32_t i = 1; i < layout->services_per_block(); ++i) {  // fill block 0
    ServiceEntry f;
    f.in_use = true;
    f.name = "filler" + std::to_string(i);
    f.state = OwnershipState::released;
    REQUIRE(store.set(f).ok());
  }
  for (int i = 0; i < 2; ++i) {
    auto b = store.next_dirty();
    REQUIRE(b);
    REQUIRE(store.encode(*b, 42, 1, buf).ok());
    store.write_done(*b, true, false);
  }
  REQUIRE(!store.next_dirty());
  REQUIRE(store.durable_floor() == 5);
  // svcmgr grants epoch 6 to web (block 1): the floor goes 5 -> 6 first.
  ServiceEntry web = owned_s(6);
  web.name = "web";
  { auto w = store.set(web); REQUIRE(w.ok()); REQUIRE(*w == 1u); }
  auto b = store.next_dirty();
  REQUIRE(b == ServiceTableStore::kEpochRecord);
  REQUIRE(store.encode(*b, 42, 2, buf).ok());
  // Meanwhile svcmgr stops ledger here: releasing, still epoch 5, in block 0.
  ServiceEntry rel = owned_s(5);
  rel.state = OwnershipState::releasing;
  { auto w = store.set(rel); REQUIRE(w.ok()); REQUIRE(*w == 0u); }
  const auto next = store.next_dirty();
  // Submitted now, a power cut tears the epoch record and block 0 together: at the restart the floor is
  // rebuilt from the valid entries (block 1 still holds web's old entry, < 5) and epoch 5 is forgotten.
  CHECK_MESSAGE(!(next && *next == 0u),
                "ledger's block (epoch 5) submitted while the epoch record (floor 5 -> 6) is in flight");
}
