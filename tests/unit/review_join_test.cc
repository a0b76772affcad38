// Review of commit 4cf5f45 ("a joining life whose heartbeat write fails is given up", CoreConfig::
// give_up_failed_join, QuorumDaemon::on_fence's doubling rejoin delay). Findings are doctest::may_fail()
// cases that fail on the code they were written against (each says its schedule); the rest pin what held.
#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <string>

#include "disk/device_replacement.h"
#include "disk/disk_layout.h"
#include "disk/quorum_device_set.h"
#include "disk/superblock.h"
#include "disk/heartbeat_record.h"
#include "disk/life_number.h"
#include "tests/support/inprocess_quorumd.h"

using namespace castor;
using namespace castor::testing;
using namespace std::chrono_literals;

namespace {

// The peer's DEAD verdict names the life that holds a lease now (a verdict on an earlier life that never
// held one, with the next life leased before the peer's next read, is the one-disk argument's exception 2).
bool dead_on_leased_life(Cluster& c, Node& peer, Node& n) {
  return sees(peer, PeerView::dead) && has_lease(c, n) &&
         peer.daemon->core().peer().incarnation() == n.daemon->core().config().incarnation;
}

// Any DEAD verdict while the node holds a lease (the predicate of review17e's finding-1 test).
bool dead_while_any_lease(Cluster& c, Node& peer, Node& n) { return sees(peer, PeerView::dead) && has_lease(c, n); }

int64_t ms(Duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

// Both hold a lease and see each other UP.
bool both_up(Cluster& c) {
  return has_lease(c, c.alpha()) && has_lease(c, c.beta()) && sees(c.alpha(), PeerView::up) &&
         sees(c.beta(), PeerView::up);
}

// Fails the first `n` writes of node `id`'s heartbeat block on this path (EIO); everything else passes.
void fail_first_heartbeat_writes(FaultyBlockDevice* dev, uint32_t id, int n) {
  const uint64_t hb = DiskLayout::for_sector_size(512)->heartbeat_offset(id);
  auto left = std::make_shared<int>(n);
  dev->set_policy([hb, left](IoKind kind, uint64_t offset, size_t, TimePoint) {
    if (kind == IoKind::write && offset == hb && *left > 0) {
      --*left;
      return FaultDecision{FaultDecision::Kind::fail, Duration(0), 0};
    }
    return FaultDecision{};
  });
}

}  // namespace

// FINDING (liveness): one member stalled (a case the set claims to ride through: "no fence, no lease lapse")
// plus ONE failed heartbeat write of a joining life locks the node out for as long as the member stays
// stalled. Schedule: member 2 stalls (both nodes' paths hold its I/O); alpha's quorumd restarts (a new
// process: a reboot, or systemd's restart); the first heartbeat write of its new life fails on member 0
// (one EIO: a path flap; or a write over its deadline under load). It completed on member 1 only, member 2
// holds it: a timeout, so the joining life is given up (fenced). The rejoin waits for total_held() == 0,
// which member 2 never reaches: alpha stays fenced, beta declares it DEAD, and alpha never comes back. Before
// 4cf5f45 the joining life wrote again R later, completed on 0 and 1, and held a lease.
// Fixed: a life is given up only when its write failed on a majority outright (io_error), never on a timeout.
TEST_CASE("review-join: fixed: one stalled member and one failed write of a joining life no longer keep the node "
          "out") {
  Cluster c(device_set_options());
  start_both(c);
  Node& a = c.alpha();
  REQUIRE(c.restart(a).ok());
  for (Node* n : {&c.alpha(), &c.beta()}) n->env->faulty(Cluster::set_path(2))->hang_all();
  fail_first_heartbeat_writes(a.env->faulty(Cluster::set_path(0)), 1, 1);
  const uint32_t first_life = life_now(a);
  bool was_fenced = false;
  std::string reason;
  const bool joined = c.run_until(
      [&] {
        if (fenced(a) && !was_fenced) {
          was_fenced = true;
          reason = a.daemon->core().fence_reason();
        }
        return has_lease(c, a) && sees(c.beta(), PeerView::up);
      },
      10s);
  INFO("alpha: life " << life_now(a) << " (restarted at life " << first_life << "), phase "
                      << std::string(core_phase_name(a.daemon->core().phase())) << "; fenced on the way: " << was_fenced << " ("
                      << reason << "); beta sees alpha " << std::string(peer_view_name(c.beta().daemon->core().peer().view())));
  CHECK_MESSAGE(joined, "alpha never held a lease in 10 s with only member 2 stalled");
  // What held it out: member 2's held I/Os (maybe_rejoin's total_held() == 0). Once they land, it rejoins.
  for (Node* n : {&c.alpha(), &c.beta()}) {
    n->env->faulty(Cluster::set_path(2))->release_hung(c.now());
    n->env->faulty(Cluster::set_path(2))->pass_all();
  }
  CHECK(c.run_until([&] { return has_lease(c, a) && sees(c.beta(), PeerView::up); }, 2s));
}

// FINDING (liveness, pre-existing, made reachable by the above): the design says a member that keeps a
// fenced node's writes "keeps the node out until it answers or is replaced". Replacing it does not let the
// node back: replace_device parks the old member, and total_held() counts the parked member's held I/Os, so
// maybe_rejoin still waits for the stalled device. Schedule: as above (alpha fenced as a joining life with
// member 2 stalled); the admin replaces member 2 by mem3 on both nodes (castor disk replace); alpha still never
// rejoins.
TEST_CASE("review-join: finding: castor disk replace of the stalled member does not let the fenced node rejoin" *
          doctest::may_fail()) {
  ClusterOptions o = device_set_options();
  o.spare_devices = 1;
  Cluster c(o);
  start_both(c);
  Node& a = c.alpha();
  REQUIRE(c.restart(a).ok());
  for (Node* n : {&c.alpha(), &c.beta()}) n->env->faulty(Cluster::set_path(2))->hang_all();
  // The joining life's first write fails on members 0 and 1 (a majority: given up); member 2 holds it.
  fail_first_heartbeat_writes(a.env->faulty(Cluster::set_path(0)), 1, 1);
  fail_first_heartbeat_writes(a.env->faulty(Cluster::set_path(1)), 1, 1);
  REQUIRE(c.run_until([&] { return fenced(a); }, 2s));
  REQUIRE(c.run_until([&] { return sees(c.beta(), PeerView::dead); }, 5s));
  // castor disk replace of slot 2 by mem3 (the prepare step of tools/cmd_disk.cc, then both quorumds).
  // Done as device_set_daemon_test's prepare_replacement does, inline here.
  {
    FakeClock& clock = c.clock();
    MemoryBlockDevice any(c.set_disk(0), "any");
    auto sb = read_device_superblock(any, clock, kIoTimeout, RecordSeal::crc_only());
    REQUIRE(sb.ok());
    Uuid id = sb->devices.members[2];
    id.bytes[0] ^= 0xff;
    const Superblock next = next_device_set_generation(*sb, 2, id);
    for (size_t i : {0, 1}) {
      MemoryBlockDevice dev(c.set_disk(i), "member");
      REQUIRE(raise_member(dev, clock, next, uint32_t(i), RecordSeal::crc_only(), kIoTimeout).ok());
    }
    MemoryBlockDevice dev(c.set_disk(3), "new");
    REQUIRE(prepare_new_member(dev, clock, next, 2, RecordSeal::crc_only(), kIoTimeout).ok());
  }
  Client ca(a.socket), cb(c.beta().socket);
  auto r = c.ask(cb, "device-replace 2 1 mem3");
  REQUIRE_MESSAGE(r["ok"] == true, r.dump());
  r = c.ask(ca, "device-replace 2 1 mem3");
  INFO("alpha's device-replace: " << r.dump());
  const bool back = c.run_until([&] { return has_lease(c, a); }, 10s);
  const std::string devices = c.status(a)["devices"].dump();
  INFO("alpha: phase " << std::string(core_phase_name(a.daemon->core().phase())) << ", status devices " << devices);
  CHECK_MESSAGE(back, "alpha never rejoined in 10 s after the stalled member was replaced");
  // What held it out: the replaced (parked) member's held I/Os, still counted by total_held(). Once the old
  // device lets them land, alpha rejoins.
  a.env->faulty(Cluster::set_path(2))->release_hung(c.now());
  CHECK(c.run_until([&] { return has_lease(c, a); }, 2s));
}

// FINDING (liveness): a transient loss of two members on both nodes (a fabric or switch outage shared by the
// set, EIO) now costs up to 64 R of extra outage after the paths come back, for the whole cluster: both
// nodes' leases lapse, and while the paths fail every joining life fails at its first write, so each
// node's rejoin delay doubles (R, 2R, ... 64R). When the paths return each node waits out its current delay.
// On one disk (and on a set before 4cf5f45) a joining life keeps writing every R and holds a lease within about
// R of the paths' return. Schedule: both nodes' paths to members 0 and 1 fail for 8 s (80 T), then pass.
// Fixed in two steps: no life is started while a majority cannot be read (no doubling during the outage), and
// the rejoin re-tries that read every renew interval R (at most 1 s) instead of every second at every scale
// (then 405 ms at T = 100 ms against one disk's 105 ms; now the same 105 ms).
TEST_CASE("review-join: after a shared loss of two members the cluster is back as soon as on one disk") {
  const Duration outage = 8s;
  Duration one_disk{0}, on_set{0};
  {
    Cluster c;
    start_both(c);
    for (Node* n : {&c.alpha(), &c.beta()}) n->env->faulty()->fail_all();
    c.run_for(outage);
    for (Node* n : {&c.alpha(), &c.beta()}) n->env->faulty()->pass_all();
    const TimePoint back = c.now();
    REQUIRE(c.run_until([&] { return both_up(c); }, 20s));
    one_disk = c.now() - back;
  }
  {
    Cluster c(device_set_options());
    start_both(c);
    for (Node* n : {&c.alpha(), &c.beta()})
      for (size_t i : {0, 1}) n->env->faulty(Cluster::set_path(i))->fail_all();
    c.run_for(outage);
    const uint32_t la = life_now(c.alpha()), lb = life_now(c.beta());
    for (Node* n : {&c.alpha(), &c.beta()})
      for (size_t i : {0, 1}) n->env->faulty(Cluster::set_path(i))->pass_all();
    const TimePoint back = c.now();
    REQUIRE(c.run_until([&] { return both_up(c); }, 20s));
    on_set = c.now() - back;
    MESSAGE("lives taken during the outage: alpha " << la << ", beta " << lb);
  }
  const Duration R = Millis(50);
  MESSAGE("both nodes leased and UP again after the paths returned: one disk " << ms(one_disk) << " ms, set "
                                                                              << ms(on_set) << " ms (R = " << ms(R)
                                                                              << " ms, 64 R = " << ms(64 * R) << " ms)");
  CHECK(on_set <= one_disk + 4 * R);
}

// FINDING (liveness, what remains of review 17e finding 1): with alpha's paths to members 0 and 1 failed for
// good, each new life of alpha writes one heartbeat that lands on member 2 before it is given up. Beta reads
// it as a change to a live incarnation: alpha goes DEAD -> UP -> (D later) DEAD at every rejoin, every 64 R for
// as long as the paths stay failed. svcmgr's placement (rule 5, failback = yes; rule 7, the preferred node UP)
// then releases a service to alpha at each UP -- alpha cannot claim it (no lease) -- and beta takes it back
// once alpha is DEAD again: a stop, an outage of about D, and a start every 64 R (32 T: 64 s at the default
// T = 2 s). Schedule: review17e finding 1 (alpha's paths to 0 and 1 fail at once), run for 30 s.
// Fixed: a new life on a set starts only when a majority of the members can be read (the rejoin's superblock
// re-read): with two paths failed alpha takes no new life, writes nothing, and stays DEAD in beta's eyes.
TEST_CASE("review-join: fixed: a node whose paths to two members fail no longer flaps DEAD/UP in its peer's eyes") {
  Cluster c(device_set_options());
  start_both(c);
  Node& a = c.alpha();
  Node& b = c.beta();
  for (size_t i : {0, 1}) a.env->faulty(Cluster::set_path(i))->fail_all();
  REQUIRE(c.run_until([&] { return sees(b, PeerView::dead); }, 20s));
  const TimePoint first_dead = c.now();
  int up_again = 0;
  PeerView last = PeerView::dead;
  bool leased = false;
  c.run_until(
      [&] {
        const PeerView v = b.daemon->core().peer().view();
        if (last == PeerView::dead && v == PeerView::up) ++up_again;
        last = v;
        leased = leased || has_lease(c, a);
        return false;
      },
      30s);
  MESSAGE("after beta's first DEAD verdict on alpha: " << up_again << " returns to UP in 30 s (alpha at life "
                                                       << life_now(a) << ", never leased: " << !leased << ")");
  (void)first_dead;
  CHECK_FALSE(leased);
  CHECK_MESSAGE(up_again == 0, "beta saw alpha UP again " << up_again
                                                          << " times although no life of alpha could hold a lease");
}

// HELD (safety): a joining life whose failed write is still held by a member (it timed out there) is given up,
// and the next life starts only once that write has landed -- never over it. Schedule: alpha restarts; its
// first heartbeat write fails on members 0 and 2 (EIO: a majority, so the life is given up) and hangs on
// member 1 (still held). The held write lands 3 s later; only then does alpha take a new life, whose writes complete on a
// majority; beta never declares alpha DEAD while alpha holds a lease.
TEST_CASE("review-join: held: the given-up life's write held by a member lands before the next life's first") {
  Cluster c(device_set_options());
  start_both(c);
  Node& a = c.alpha();
  Node& b = c.beta();
  REQUIRE(c.restart(a).ok());
  const uint32_t first_life = life_now(a);
  fail_first_heartbeat_writes(a.env->faulty(Cluster::set_path(0)), 1, 1);
  fail_first_heartbeat_writes(a.env->faulty(Cluster::set_path(2)), 1, 1);  // two EIO: a majority failed
  a.env->faulty(Cluster::set_path(1))->hang_all();
  REQUIRE(c.run_until([&] { return fenced(a); }, 2s));
  bool dead_while_leased = false, naive = false;
  c.run_until(
      [&] {
        dead_while_leased = dead_while_leased || dead_on_leased_life(c, b, a);
        naive = naive || dead_while_any_lease(c, b, a);
        return false;
      },
      3s);
  CHECK(life_now(a) == first_life);  // still held: no new life
  a.env->faulty(Cluster::set_path(1))->release_hung(c.now());
  a.env->faulty(Cluster::set_path(1))->pass_all();
  REQUIRE(c.run_until(
      [&] {
        dead_while_leased = dead_while_leased || dead_on_leased_life(c, b, a);
        naive = naive || dead_while_any_lease(c, b, a);
        return both_up(c);
      },
      10s));
  CHECK(life_now(a) > first_life);
  c.run_until(
      [&] {
        dead_while_leased = dead_while_leased || dead_on_leased_life(c, b, a);
        naive = naive || dead_while_any_lease(c, b, a);
        return false;
      },
      3s);
  // review17e's predicate (any DEAD while any lease) does trip here: beta's verdict on the given-up life 2
  // still stands for up to R after life 3's first write completed (beta's next read retires it). That is
  // the design's exception for a life with no lease; it is why that test's "never DEAD while leased" proves
  // nothing either way (in its schedule alpha can never hold a lease).
  MESSAGE("review17e's predicate (DEAD while any lease) tripped: " << naive);
  CHECK_FALSE(dead_while_leased);
  CHECK(both_up(c));
}

// HELD, and coverage the commit lacks: an UP life on a set whose one heartbeat write fails on a majority (a
// transient: members 0 and 1 each fail one write) keeps its lease and is not fenced -- the give-up is for a
// life that never completed a write. A mutant that drops that condition from QuorumCore::on_write_done (every
// failed write on a set fences) passes quorum_core_join_test.cc, every review17e case and every "device set"
// case; it fails this one.
TEST_CASE("review-join: held: an up life on a set whose one write fails on a majority is not given up") {
  Cluster c(device_set_options());
  start_both(c);
  Node& a = c.alpha();
  const uint64_t life = a.daemon->core().config().incarnation;
  for (size_t i : {0, 1}) fail_first_heartbeat_writes(a.env->faulty(Cluster::set_path(i)), 1, 1);
  bool lost = false;
  c.run_until(
      [&] {
        lost = lost || fenced(a) || !has_lease(c, a);
        return false;
      },
      2s);
  CHECK_MESSAGE(!lost, "alpha fenced or lost its lease: " << a.daemon->core().fence_reason());
  CHECK(a.daemon->core().config().incarnation == life);
  CHECK(both_up(c));
}

// FINDING (liveness, a gap in the rule's reach): the give-up covers phase `joining` only. A life that never held
// a lease but is LEAVING (a leave asked while the node is fenced -- `systemctl stop` of a node with storage
// trouble -- runs "right after rejoining", so the new life starts in leaving_stopping) keeps writing LEAVING
// every R; on finding 1's paths each lands on member 2 and beta reads alpha UP (leaving) for as long as the leave
// lasts: svcmgr cannot release anything without a lease (its leave deadline is 10 min, systemd's TimeoutStopSec
// 5 min). Alpha's services, killed at its fence, are not taken over meanwhile. Schedule: a service manager is
// subscribed to alpha (svcmgr); alpha's paths to members 0 and 1 fail; once alpha's leased life is fenced,
// `leave` is asked; run 10 s.
// Fixed: the give-up covers every life that never completed a write, leaving ones included. The paths are
// made read-only here (reads work, writes fail): with failed paths no new life starts at all (the rejoin
// waits for a majority of readable members), and the leaving life would never be exercised.
TEST_CASE("review-join: fixed: a leave asked while fenced no longer keeps a lease-less life alive in the peer's "
          "eyes") {
  Cluster c(device_set_options());
  start_both(c);
  Node& a = c.alpha();
  Node& b = c.beta();
  Client svcmgr(a.socket);
  auto sub = c.ask(svcmgr, "subscribe service-manager");
  REQUIRE_MESSAGE(sub["ok"] == true, sub.dump());
  for (size_t i : {0, 1}) a.env->memory(Cluster::set_path(i))->set_read_only(true);
  REQUIRE(c.run_until([&] { return fenced(a); }, 2s));
  Client admin(a.socket);
  admin.send("leave");  // answered only once left
  bool dead = false;
  c.run_until(
      [&] {
        dead = dead || sees(b, PeerView::dead) || sees(b, PeerView::down);
        return dead;
      },
      10s);
  INFO("alpha: life " << life_now(a) << ", phase " << std::string(core_phase_name(a.daemon->core().phase()))
                      << ", last seq " << a.daemon->core().last_written_seq() << "; beta sees alpha "
                      << std::string(peer_view_name(b.daemon->core().peer().view())));
  CHECK_MESSAGE(dead, "beta never declared alpha dead in 10 s while alpha's lease-less leaving life wrote LEAVING");
  CHECK(life_now(a) > 1);  // leaving lives were started (and given up): the rule was exercised
  CHECK_MESSAGE(a.daemon->core().fence_reason().find("giving this life up") != std::string::npos,
                a.daemon->core().fence_reason());
}
