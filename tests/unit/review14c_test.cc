// review14c (adversarial review of issue 14, third pass), unit-level cases. Cases that FAIL on main are
// marked doctest::should_fail() with a comment naming the finding, so the build stays green.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "common/auth_key.h"
#include "disk/disk_snapshot.h"
#include "disk/epoch_record.h"
#include "disk/quorum_disk_init.h"
#include "disk/record_seal.h"
#include "disk/testing/memory_block_device.h"
#include "disk/service_table_record.h"
#include "quorumd/peer_region.h"
#include "svcmgr/ownership.h"
#include "svcmgr/service_supervisor.h"
#include "tests/support/sample_records.h"

using namespace castor;
using namespace std::chrono_literals;
using AfterStop = ServiceSupervisor::AfterStop;

namespace {

ServiceSupervisor make_supervisor() {
  ServiceSupervisor s;
  s.def.name = "svc";
  s.file_def = s.def;
  s.runner = std::make_unique<ServiceRunner>(s.def, RunContext{});
  return s;
}

const TimePoint t0 = TimePoint(std::chrono::seconds(100));

}  // namespace

// Finding C (svcmgr/service_supervisor.cc on_runner_stopped, with svcmgr_supervision.cc:146 and
// svcmgr_daemon.cc:215): a restart in place whose stop ends while the service may not start again (lease at
// risk, leave, relocation) is REPORTED stopped (item 4: stop_reported_ = true) but restarting_ stays true.
// The flag then outlives the report and the release: when this node later claims and starts the service
// afresh (start_or_defer), it still "restarts". after_runner() ignores every failure of a restarting service
// (`case St::failed: if (s.restarting()) break;`): the next crash of the service is never recovered, never
// stopped, never moved -- it stays failed and owned here; the peer-restart request and the lease-renewed
// restart skip it too, and `castor status` says "recovering" for ever.
// Fails on main: ./build/tests/unit_tests -tc='review14c: *restart*'
TEST_CASE("review14c: C a restart whose stop was reported does not outlive it into the next start") {
  auto s = make_supervisor();
  s.start_or_defer(3, t0);
  s.restart_in_place(t0);                                             // a crash: restart in place ...
  REQUIRE(s.on_runner_stopped(false, 3).what == AfterStop::report_stopped);  // ... but a lease risk: reported
  s.start_or_defer(7, t0);                                            // later claimed again, a fresh start
  REQUIRE(s.runner->state() == ServiceRunner::State::started);
  CHECK_FALSE(s.restarting());  // else its next failure is ignored (svcmgr_supervision.cc, case St::failed)
}

// Finding D (lib/disk/disk_snapshot.cc read_highest_epoch, used by tools/cmd_init.cc for --force; with
// svcmgr/ownership.cc next_epoch): castor init --force carries the old disk's highest epoch floor, read with
// RecordSeal::tag_unchecked() even when the old disk is authenticated and the admin gives the key
// (--authenticate --authkey). A SAN writer without the key writes an epoch record (CRC only, its tag area
// zero) with floor 2^64-1: quorumd ignores it (bad tag), but a re-init launders it into a genuine, sealed
// floor of 2^64-1 on the new disk; the first claim then computes next_epoch() = floor + 1 = 0 (no overflow
// check): CASTOR_EPOCH, the fencing token that must only grow, wraps to 0 (and 0 means "never owned").
// Fails on main: ./build/tests/unit_tests -tc='review14c: D*'
TEST_CASE("review14c: D a forged epoch record on an authenticated disk is not carried into a re-init") {
  auto disk = std::make_shared<MemoryDisk>(512, 4 << 20);
  MemoryBlockDevice dev(disk, "mem");
  FakeClock clock;
  const auto layout = *DiskLayout::for_sector_size(512);
  Superblock sb;
  sb.cluster_uuid = *random_uuid();
  sb.cluster_name = "c1";
  sb.sector_size = 512;
  sb.nodes = {NodeEntry{1, "a"}, NodeEntry{2, "b"}};
  sb.timing = *Timing::from_io_timeout(Millis(200));
  sb.service_slots = layout.service_slots();
  sb.created_wall_ns = wall_time_ns();
  sb.records_authenticated = true;
  std::vector<std::byte> key_bytes(32);
  for (size_t i = 0; i < key_bytes.size(); ++i) key_bytes[i] = std::byte(i * 7 + 1);
  const AuthKey key{std::span<const std::byte>(key_bytes)};
  const RecordSeal seal = *disk_record_seal(key);
  REQUIRE(initialize_quorum_disk(dev, clock, sb, seal, Millis(100), 5).ok());

  // The forger (no key): node 2's epoch record, CRC only, floor 2^64-1.
  EpochRecord forged;
  forged.cluster_uuid = sb.cluster_uuid;
  forged.node_id = 2;
  forged.seq = 99;
  forged.epoch_floor = std::numeric_limits<uint64_t>::max();
  std::vector<std::byte> block(layout.block_size());
  REQUIRE(encode_epoch_record(forged, layout, RecordSeal::crc_only(), block).ok());
  std::memcpy(disk->bytes.data() + layout.epoch_record_offset(2), block.data(), block.size());
  // quorumd (the key) refuses it ...
  REQUIRE(read_disk_snapshot(dev, clock, Millis(100), seal)->nodes[1].epoch.status.code() == Code::corrupt);
  // ... and so does the re-init's reading, with the key (castor init --force --authenticate --authkey).
  // (Fixed: read_highest_epoch takes the seal carried_epoch_seal chooses; it used tag_unchecked.)
  auto carry = carried_epoch_seal(sb, seal);
  REQUIRE(carry.ok());
  auto h = read_highest_epoch(dev, clock, Millis(100), *carry);
  REQUIRE(h.ok());
  CHECK_MESSAGE(h->highest < std::numeric_limits<uint64_t>::max(),
                "castor init --force would write epoch floor " << h->highest << ": the next epoch is floor + 1 = 0");
  CHECK(h->highest == 5);          // node 1's genuine floor is carried
  CHECK(h->floors[1] == std::nullopt);
  CHECK(h->untrusted.size() == 1);  // the forged record: ignored, with a warning
  CHECK(h->verified_epoch_records == 1);
  // Without the key init cannot tell forged from genuine: it refuses to carry (and so to re-init).
  auto no_key = carried_epoch_seal(sb, RecordSeal::crc_only());
  CHECK(no_key.status().code() == Code::refused);
  // A CRC-only disk is read CRC-only; no superblock: tags unchecked (the epoch guard then prevents a wrap).
  Superblock plain = sb;
  plain.records_authenticated = false;
  CHECK(carried_epoch_seal(plain, RecordSeal::crc_only())->mode() == RecordSeal::Mode::crc_only);
  CHECK(carried_epoch_seal(std::nullopt, seal)->mode() == RecordSeal::Mode::tag_unchecked);
}

// Finding E (docs/security.md "Replay"; svcmgr/ownership.cc on_peer_entry/peer_up; quorumd/peer_region.cc;
// tools none): with authentication on, a SAN writer without the key can still write back a service-table
// block the peer REALLY wrote earlier (its tag is valid: the tag binds type, writer, block index and cluster,
// not time). Nothing on the read side compares the block's (incarnation, seq) -- nor the entry's ballot --
// with what was read before: an older block in which the peer's entry said "released" (or castor init's
// empty block: no entry, "known free") is taken as the peer's current word while the peer owns and runs the
// service. design.md's "Never two owners" rests on "a late write cannot lower them (one write per block in the
// kernel)", which a replay breaks; security.md's Replay paragraph covers only heartbeats ("the protocol's own
// rules limit what an old block does") and does not mention table blocks. Result: my node claims and owns
// the service while the peer runs it -- two owners, the very attack authentication was meant to stop.
// Fixed in quorumd (quorumd/peer_region.cc check_replay): the peer read refuses a block of the same
// incarnation with a lower seq than already read (or init's incarnation-0 block after a real one) as
// unknown. This case runs the real path: genuine sealed blocks through quorumd's decode_peer_region with the
// history table-peer keeps, turned into the read svcmgr gives Ownership (svcmgr_daemon.cc peer_entry_for:
// a service not found while a block is corrupt is unknown). Without the fix:
// ./build/tests/unit_tests -tc='review14c: E*' fails (the replayed "released" is read and claimed).
TEST_CASE("review14c: E a replayed older table block of the live peer (same incarnation, lower ballot) is no reason to claim") {
  using testing::at;
  const DiskLayout layout = *DiskLayout::for_sector_size(512);
  const size_t bs = layout.block_size();
  std::vector<std::byte> key_bytes(32);
  for (size_t i = 0; i < key_bytes.size(); ++i) key_bytes[i] = std::byte(i * 5 + 3);
  const RecordSeal seal = *disk_record_seal(AuthKey{std::span<const std::byte>(key_bytes)});
  const Uuid cluster = *random_uuid();
  // The peer's (node 2, incarnation 77) genuine blocks: its epoch record, and table block 0 at two seqs.
  std::vector<std::byte> region(size_t(kPeerRegionReadBlocks) * bs);
  EpochRecord er;
  er.cluster_uuid = cluster;
  er.node_id = 2;
  er.incarnation = 77;
  er.seq = 11;
  er.epoch_floor = 5;
  REQUIRE(encode_epoch_record(er, layout, seal, std::span(region).subspan(0, bs)).ok());
  auto table_block = [&](uint64_t seq, const ServiceEntry& e) {
    ServiceTableRecord rec;
    rec.cluster_uuid = cluster;
    rec.node_id = 2;
    rec.block_index = 0;
    rec.incarnation = 77;
    rec.seq = seq;
    rec.entries.resize(layout.services_per_block());
    rec.entries[0] = e;
    std::vector<std::byte> b(bs);
    REQUIRE(encode_service_table(rec, layout, seal, b).ok());
    return b;
  };
  for (uint32_t b = 1; b < kServiceTableBlocks; ++b) {  // the other blocks: empty, written by incarnation 77
    ServiceTableRecord rec;
    rec.cluster_uuid = cluster;
    rec.node_id = 2;
    rec.block_index = b;
    rec.incarnation = 77;
    rec.seq = 1;
    rec.entries.resize(layout.services_per_block());
    REQUIRE(encode_service_table(rec, layout, seal, std::span(region).subspan(size_t(1 + b) * bs, bs)).ok());
  }
  const auto older = table_block(10, testing::service_entry("ledger", OwnershipState::released, 2, 4, 3));
  const auto newest = table_block(12, testing::service_entry("ledger", OwnershipState::owned, 2, 5, 6));
  PeerReadHistory history;  // what table-peer keeps across reads
  auto read = [&](const std::vector<std::byte>& block0, int issued_ms) {
    std::copy(block0.begin(), block0.end(), region.begin() + bs);
    const PeerRegion pr = decode_peer_region(region, layout, 2, cluster, seal, kServiceTableBlocks, &history);
    PeerEntryRead r;  // as svcmgr makes it (peer_entry_for)
    r.own_floor = 5;
    r.peer_floor = pr.floor;
    r.read_issued = at(issued_ms);
    r.read_completed = at(issued_ms + 2);
    for (size_t i = 0; i < pr.entries.size(); ++i)
      if (pr.entries[i].name == "ledger") {
        r.entry = pr.entries[i];
        r.writer_incarnation = pr.entry_incarnations[i];
        return r;
      }
    REQUIRE_FALSE(pr.corrupt.empty());  // not found and nothing unknown would be "known free"
    r.unknown = true;
    r.unknown_reason = "corrupt record at block " + std::to_string(pr.corrupt.front().block);
    r.unknown_value = 1;
    return r;
  };
  Ownership o("ledger", 1, testing::service_entry("ledger", OwnershipState::released, 1, 4, 3));
  o.set_intent(Intent::hold);  // this node would run it (preferred, failback)
  o.on_liveness({PeerView::up, at(0)});
  PeerEntryRead live = read(newest, 100);  // the peer owns and runs it
  REQUIRE_FALSE(live.unknown);
  REQUIRE(live.entry.state == OwnershipState::owned);
  o.on_peer_entry(live);
  OwnershipStep s = o.step(at(110));
  REQUIRE_FALSE((s.write && s.write->state == OwnershipState::claiming));  // the peer owns it: no claim
  // The forger writes back the peer's older block (same incarnation 77, seq lower): "released", ballot 3.
  PeerEntryRead replay = read(older, 140);
  CHECK(replay.unknown);
  o.on_peer_entry(replay);
  s = o.step(at(150));
  CHECK_MESSAGE(!(s.write && s.write->state == OwnershipState::claiming),
                "node 1 claims 'ledger' on a replayed older block while the peer (incarnation 77) owns it");
  CHECK(o.peer_up());
}
