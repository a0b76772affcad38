// Review 17e: an adversary's look at ordered lives (issue 17, commit a328dfe): the life number (life_file,
// QuorumDaemon::next_set_incarnation), the majority register (ReplicaChoice) and the "another writer on our
// own block" rule of MajorityBlockDevice. Findings are doctest::may_fail() cases that fail on the code they
// were written against (each says its schedule and what breaks); the rest are passing cases that add coverage.
#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "disk/failed_block_device.h"
#include "disk/heartbeat_record.h"
#include "disk/life_number.h"
#include "disk/majority_block_device.h"
#include "quorumd/life_file.h"
#include "tests/support/inprocess_quorumd.h"
#include "tests/support/majority_rig.h"

using namespace castor;
using namespace castor::testing;
using namespace std::chrono_literals;

namespace {


// The highest life of node `id` on member i's heartbeat block, straight from its bytes (0: none valid).
uint32_t life_on(Cluster& c, size_t i, uint32_t id) {
  auto layout = *DiskLayout::for_sector_size(512);
  auto bytes = std::span<const std::byte>(c.set_disk(i)->bytes).subspan(layout.heartbeat_offset(id), layout.block_size());
  auto h = verify_block(bytes, {RecordType::heartbeat, layout.block_size(), id}, RecordSeal::crc_only());
  return h.ok() ? life_of(h->incarnation) : 0;
}

}  // namespace

// FINDING 1 (liveness; a lost lease of the cluster's services, not two owners). Alpha's paths to members 0 and
// 1 fail (EIO: an HBA or a fabric to two arrays lost on alpha only); member 2 takes its writes. Alpha's life
// fences at its lease end and rejoins, and the new life, joining, writes a heartbeat every renew interval: each
// fails on a majority but lands on member 2. Beta reads all three members (its paths are fine): every answer is
// valid, and the highest (life, seq) among them is member 2's copy, which moves -- so beta's PeerMonitor sees
// alpha UP for as long as alpha can reach one member, and never declares it dead (alpha's services, killed by
// its fence, are never taken over). On one disk alpha's failed writes land nowhere: its value stands still and
// beta declares it DEAD after D (the control case below). The design's "two lost: the leases lapse, both
// nodes fence as on one lost disk" holds for the lease, but the peer's verdict no longer follows.
// Proposed fix: a life whose writes do not complete on a majority must not keep moving its value on the
// members it reaches: e.g. a joining core writes its next heartbeat only after a read of its own block (or
// the previous write) completed on a majority within the last D/2 (reads fail here too: alpha cannot reach
// a majority), or after N consecutive failed writes it stops writing until such a read succeeds.
// Fixed: a new life on a set starts only when a majority of its members can be read, so alpha (paths to 0 and 1
// failed) takes no new life after its fence and writes nothing; beta sees its value stand still and declares it
// DEAD (where reads work and writes fail, a life whose write fails on a majority is given up instead: the
// known-limit case below and review_join_test.cc).
TEST_CASE("review17e: finding 1: a node whose writes reach one member only is declared dead by its peer") {
  Cluster c(device_set_options());
  start_both(c);
  Node& a = c.alpha();
  Node& b = c.beta();
  for (size_t i : {0, 1}) a.env->faulty(Cluster::set_path(i))->fail_all();
  const TimePoint cut = c.now();
  bool leased_while_dead = false;
  const bool dead = c.run_until(
      [&] {
        leased_while_dead = leased_while_dead || (sees(b, PeerView::dead) && has_lease(c, a));
        return sees(b, PeerView::dead);
      },
      20s);
  MESSAGE("beta declared alpha dead " << std::chrono::duration_cast<std::chrono::milliseconds>(c.now() - cut).count()
                                      << " ms after alpha's paths to members 0 and 1 failed (alpha at life "
                                      << life_now(a) << ")");
  CHECK_FALSE(leased_while_dead);
  INFO("alpha: life " << life_now(a) << ", phase " << std::string(core_phase_name(a.daemon->core().phase())) << "; member 2 holds life "
                      << life_on(c, 2, 1) << "; beta follows life " << life_of(b.daemon->core().peer().incarnation())
                      << " seq " << b.daemon->core().peer().seq());
  CHECK_FALSE(has_lease(c, a));  // alpha never holds a lease meanwhile (its writes complete nowhere)
  CHECK_MESSAGE(dead, "beta never declared alpha dead in 20 s, with alpha unable to complete a write");
}

TEST_CASE("review17e: finding 1, control: on one disk a node whose writes fail is declared dead after D") {
  Cluster c;
  start_both(c);
  c.alpha().env->faulty()->fail_all();
  CHECK(c.run_until([&] { return sees(c.beta(), PeerView::dead); }, 5s));
}

// KNOWN LIMIT, shown end to end (BUG_LIFE_REUSED of the model; the reason the life file exists): a lost life
// file and a member that does not show the node's highest life at the new process's start. Finding 1's schedule
// runs 10 s (alpha's life 2 writes ~200 heartbeats that land on member 2 only; beta follows them: it hands out
// life 2, seq ~200). Alpha's process ends and its state directory is lost (a reinstall); its paths are back,
// but member 2 does not show its block at the start (stood in for by clearing that block on member 2: the
// in-process cluster re-opens devices without their fault policies; a member stalled past the startup timeout
// does the same). The new process takes life 2 AGAIN (1 + the highest it saw). Its writes complete on 0 and 1;
// beta keeps handing out the other life-2 incarnation's seq ~200 (its memory: the output never goes back)
// until the new seq passes it: beta's value stands still for D while alpha renews its lease, and beta declares
// alpha DEAD while alpha holds a lease; alpha does not fence on that verdict (it names the other incarnation).
// Fixed (QuorumDaemon::next_set_incarnation): with no life file quorumd starts only when every member showed
// the node's heartbeat block at start; otherwise it refuses, naming the members and the number to write by hand
// (the admin's call: a reinstall while a member is away). Was proposed: that, or seed with a margin.
TEST_CASE("review17e: known limit: a lost life file and a member not read at start: the start is refused, not a "
          "life number taken twice") {
  Cluster c(device_set_options());
  start_both(c);
  Node& a = c.alpha();
  Node& b = c.beta();
  // Alpha's paths to members 0 and 1 turn read-only: its reads work, its writes fail there, so each of its
  // lives is given up after one write that lands on member 2 alone.
  for (size_t i : {0, 1}) a.env->memory(Cluster::set_path(i))->set_read_only(true);
  c.run_for(10s);
  const uint32_t partial = life_on(c, 2, 1);
  REQUIRE(partial >= 2);
  REQUIRE(life_on(c, 0, 1) == 1);
  REQUIRE(life_of(b.daemon->core().peer().incarnation()) == partial);
  const uint64_t beta_seq = b.daemon->core().peer().seq();
  a.daemon.reset();
  a.record.life_files.clear();
  auto layout = *DiskLayout::for_sector_size(512);
  std::fill_n(c.set_disk(2)->bytes.begin() + std::ptrdiff_t(layout.heartbeat_offset(1)), layout.block_size(), std::byte{0});
  Status refused = c.restart(a);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.code() == Code::refused);
  CHECK_MESSAGE(refused.to_string().find("member 2") != std::string::npos, refused.to_string());
  CHECK(a.record.life_files.empty());  // nothing taken, nothing written
  // The admin writes the number the refusal names (above every life the node had), and starts it again.
  const std::string path = life_file_path(a.config.state_dir, c.cluster_uuid(), 1);
  a.record.life_files[path] = partial + 65535;
  REQUIRE(c.restart(a).ok());
  INFO("alpha's new process took life " << life_now(a) << "; member 2 held life " << partial << " (seq " << beta_seq
                                        << " followed by beta) of an earlier process");
  CHECK(life_now(a) > partial);
  bool dead_while_leased = false;
  c.run_until(
      [&] {
        dead_while_leased = dead_while_leased || (sees(b, PeerView::dead) && has_lease(c, a));
        return dead_while_leased;
      },
      5s);
  CHECK_MESSAGE(!dead_while_leased, "beta declared alpha dead while alpha held a lease");
}

// HELD: the startup snapshot reads from offset 0, and the header blocks never have a valid majority, so the read
// waits for every member (or the startup timeout): a member slower than the other two still shows the node's
// highest life to the lost-file seed (highest_own_life_seen reads the chooser's per-device memory). This pins
// that: a snapshot read that skipped the header area would complete on the first majority and lose it.
TEST_CASE("review17e: held: the startup snapshot waits for a slow member, whose copy of a higher life the seed sees") {
  MajorityRig r;
  const uint64_t hb = r.hb(1);
  const uint64_t old_life = make_incarnation(1, 0x1111), partial = make_incarnation(2, 0x2222);
  for (size_t i : {0, 1}) r.put(i, hb, r.record_at(hb, old_life, 50));
  r.put(2, hb, r.record_at(hb, partial, 200));
  MajorityView fresh = r.view("restarted");
  fresh.path[2]->delay_all(300ms);
  std::vector<std::byte> all(r.layout.required_bytes());
  const uint64_t tag = r.next_tag++;
  REQUIRE(fresh.dev->submit_read(tag, 0, all, r.clock.now(), r.clock.now() + 2s).ok());
  REQUIRE(r.drive(fresh, tag).ok());
  auto seen = fresh.dev->chooser().remembered(2, hb);
  REQUIRE(seen);
  CHECK(life_of(seen->incarnation) == 2);
  CHECK(life_of(fresh.dev->chooser().handed_out(hb)->incarnation) == 2);
}


// FINDING 3 (a false fence, small; outside the set's fault model only in what puts the copy there). The rule
// "another writer on our own block" is fed per device into the open composite's `foreign` map, but
// replace_device() -- which drops a replaced member's answer from every open read (review 17d, finding 3: "its
// answer is of the old membership ... it must not make up a read's majority") -- leaves that member's foreign
// copy in the map, and finish_read() hands it out over the choice. Schedule: our life writes its heartbeat
// (lands on all three); member 2 then shows a valid copy of another incarnation (a member that rolled back: the
// very reason an admin retires it, docs/design.md "What it does not cover"); our own read is answered by member
// 2 first; the member is retired (DeviceSetChange's retire step: replace_device with a FailedBlockDevice)
// before 0 and 1 answer; 0 and 1 answer our own copy. The read hands out the retired member's copy: QuorumCore's
// own-read check fences on "another writer" that no counted member shows.
// Fixed (majority_block_device.cc): each Composite::foreign entry keeps its device, and replace_device()
// erases device i's entries from every open composite, as it clears its bufs/valid. Was: key Composite::foreign
// by (offset, device), or keep the device with each entry.
TEST_CASE("review17e: finding 3: a retired member's 'another writer' copy is not handed out to an open own read") {
  MajorityRig r;
  MajorityView me = r.view("me");
  const uint64_t hb = r.hb(1);
  const uint64_t mine = make_incarnation(3, 0xabc), other = make_incarnation(2, 0xdef);
  REQUIRE(r.write_at(me, hb, mine, 10).ok());
  r.put(2, hb, r.record_at(hb, other, 99));  // member 2 rolled back (a restored snapshot of it)
  for (size_t i : {0, 1}) me.path[i]->delay_all(50ms);
  std::vector<std::byte> out(r.bs());
  const uint64_t tag = r.next_tag++;
  REQUIRE(me.dev->submit_read(tag, hb, out, r.clock.now(), r.clock.now() + 1s).ok());
  r.done.clear();
  me.dev->reap(r.clock.now(), r.done);  // member 2 answers at once; 0 and 1 in 50 ms
  REQUIRE(r.done.empty());
  REQUIRE(me.dev->replace_device(2, std::make_unique<FailedBlockDevice>("retired", me.dev->geometry(),
                                                                         Error(Code::busy, "retired"))).ok());
  REQUIRE(r.drive(me, tag).ok());
  auto h = verify_block(out, {RecordType::heartbeat, r.bs(), 1}, r.seal);
  REQUIRE(h.ok());
  CHECK_MESSAGE(h->incarnation == mine, "handed out incarnation " << h->incarnation << " (life " << life_of(h->incarnation)
                                                                  << ") from the retired member");
}

// HELD: the same rule with no fault: our rejoin in the same process (a new incarnation, life +1) after every
// write of the old life left the devices: reads after the new life's first write see only the new life, and
// a read answered before that write landed on a member shows no "other writer" (its landing is not known yet).
TEST_CASE("review17e: held: a rejoin's new life on its own block is not taken for another writer") {
  MajorityRig r;
  MajorityView me = r.view("me");
  const uint64_t hb = r.hb(1);
  const uint64_t l1 = make_incarnation(1, 0x1), l2 = make_incarnation(2, 0x2);
  for (uint64_t s = 1; s <= 5; ++s) REQUIRE(r.write_at(me, hb, l1, s).ok());
  // The new life's first write is slow on member 2: it lands there after a read issued meanwhile.
  me.path[2]->delay_all(200ms);
  REQUIRE(r.write_at(me, hb, l2, 1).ok());  // completes on 0 and 1
  auto h = r.read_at(me, hb);
  REQUIRE(h.ok());
  CHECK(h->incarnation == l2);
  r.settle(me);
  me.path[2]->pass_all();
  for (int k = 0; k < 5; ++k) {
    auto x = r.read_at(me, hb);
    REQUIRE(x.ok());
    CHECK(x->incarnation == l2);
  }
}
