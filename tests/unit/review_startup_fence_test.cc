// Adversarial review of d640824 (the no-watchdog flag undone only by a life seen running; startup fencing of
// a peer with the flag that this core never saw UP). beta runs without a watchdog throughout. Each case failed
// on d640824. Finding 1 (two late writes of an older life undo the flag: two owners) is fixed: a record
// without the flag undoes it only if it names this core's incarnation and a seq of this core written after the
// flagged record was read (PeerObservation::own_incarnation/own_seq). Finding 2 (liveness, open, as the
// older "a peer that is already off" gap of docs/design.md): a flagged peer already off, or one that started
// during its startup fence's off, is never taken over on its own -- its rounds fail at their first status
// ("off before the off": such a device may not power the peer at all) and D never decides for it. Its cases
// show that, and that the admin's acknowledgement of the off (castor fence NODE --confirm-off, as Pacemaker's
// stonith_admin --confirm) then takes the peer over.
#include <doctest/doctest.h>

#include <fstream>
#include <thread>

#include "common/aligned_buffer.h"
#include "disk/block_device.h"
#include "disk/disk_layout.h"
#include "disk/heartbeat_record.h"
#include "disk/testing/memory_block_device.h"
#include "quorumd/peer_monitor.h"
#include "tests/support/file_fence_agent.h"
#include "tests/support/inprocess_quorumd.h"
#include "tests/support/peer_without_watchdog.h"
#include "tests/support/scratch.h"

using namespace castor;
using namespace castor::testing;
using namespace std::chrono_literals;

namespace {

const Duration kD = std::chrono::milliseconds(1200);

struct Rig {
  PeerMonitor pm{kD};
  TimePoint t{std::chrono::seconds(1000)};
  PeerView read(uint64_t inc, uint64_t seq, uint16_t flags = 0) {
    HeartbeatRecord r;
    r.node_id = 2;
    r.incarnation = inc;
    r.seq = seq;
    r.state = NodeState::up;
    r.flags = flags;
    pm.observe({t, t + Millis(1), r, 0});
    t += Millis(100);
    return pm.view();
  }
};

// A late write of beta's older life `inc` (with a watchdog: no flag) lands on beta's heartbeat block: beta's
// current record with that incarnation and seq.
void land_late_write(Cluster& c, uint64_t inc, uint64_t seq) {
  auto layout = *DiskLayout::for_sector_size(512);
  AlignedBuffer block(layout.block_size(), layout.block_size());
  MemoryBlockDevice dev(c.disk(), "mem");
  REQUIRE(read_blocking(dev, c.clock(), layout.heartbeat_offset(2), block.span(), kIoTimeout).ok());
  auto hb = decode_heartbeat(block.span(), layout, 2, RecordSeal::crc_only());
  REQUIRE(hb.ok());
  HeartbeatRecord r = *hb;
  r.incarnation = inc;
  r.seq = seq;
  r.flags = 0;
  r.peer_incarnation = 0;  // the older life ran before alpha's current core
  r.peer_seq = 0;
  r.peer_view = PeerView::unknown;
  encode_heartbeat(r, layout, RecordSeal::crc_only(), block.span());
  REQUIRE(write_blocking(dev, c.clock(), layout.heartbeat_offset(2), block.span(), kIoTimeout).ok());
}

// The admin checks beta's power by hand and confirms it off (castor fence beta --confirm-off): alpha takes it
// over after the settle, its last fence the admin's.
void admin_confirms_beta_off(Cluster& c) {
  Client admin(c.alpha().socket);
  const auto reply = c.ask(admin, "fence-peer beta confirm-off");
  REQUIRE_MESSAGE(reply.value("ok", false), reply.dump());
  CHECK(alpha_takes_beta_over(c));
  const auto last = c.status(c.alpha())["power_fence"]["last"];
  CHECK_MESSAGE(last.value("confirmed", false), last.dump());
  CHECK_MESSAGE(last.value("reason", std::string()).find("admin confirmed off") != std::string::npos, last.dump());
}

}  // namespace

// Finding 1 (safety). "One record alone may be a late write" -- but so may two. The peer's older life 0xC
// (with a watchdog; this monitor never saw it) had two heartbeat writes stuck in the array (a write times out,
// the core issues the next one while the first is still queued: multipath queue_if_no_path). Its later life
// 0xA (no watchdog) runs, is followed here, and hangs; its services run on. 0xC's two writes land in order,
// this monitor reads each: "a later record of the life followed that lacks the flag" -- the flag is undone
// (and the peer-watchdog file rewritten "ok"), and D declares the hung 0xA dead: two owners.
TEST_CASE("review startup fence: two late writes of an older life with a watchdog undo the flag; D declares the hung peer dead") {
  Rig r;
  r.read(0xA, 1, HeartbeatRecord::kNoWatchdog);
  r.read(0xA, 2, HeartbeatRecord::kNoWatchdog);
  REQUIRE(r.pm.view() == PeerView::up);
  REQUIRE(r.pm.no_dead_time());
  r.read(0xC, 40);  // first late write of 0xC: looks like a new life (0xA retired)
  CHECK(r.pm.no_dead_time());
  r.read(0xC, 41);  // second late write of 0xC
  CHECK(r.pm.no_dead_time());
  bool dead = false;
  for (int i = 0; i < 5 && !dead; ++i) {
    r.t += kD;
    dead = r.read(0xC, 41) == PeerView::dead;
  }
  CHECK_FALSE(dead);
}

// The same from a core that starts from the kept flag (file or carried): it never saw 0xA at all, the block
// holds 0xA's torn record, then 0xC's two late writes land.
TEST_CASE("review startup fence: a core starting from the kept flag is talked out of it by two late writes") {
  Rig r;
  r.pm.assume_no_watchdog();
  r.pm.observe({r.t, r.t + Millis(1), std::nullopt, 0x5a5a});  // 0xA's torn block
  r.t += Millis(100);
  r.read(0xC, 40);
  r.read(0xC, 41);
  CHECK(r.pm.no_dead_time());
  bool dead = false;
  for (int i = 0; i < 5 && !dead; ++i) {
    r.t += kD;
    dead = r.read(0xC, 41) == PeerView::dead;
  }
  CHECK_FALSE(dead);
}

// Finding 1 in the in-process cluster: beta (no watchdog) runs, alpha follows it; beta's quorumd hangs (its
// services run on, nothing resets it); two writes of an older life of beta with a watchdog, stuck in the
// array, land one after the other. alpha undoes the flag (and rewrites its peer-watchdog file) and declares
// beta dead on D. The fence never confirms here (hold-off): any DEAD is D's.
TEST_CASE("review startup fence: in a cluster, two late writes of an older life undo the flag and D declares the hung peer dead") {
  ScratchDir power_alpha, power_beta;
  Cluster c;
  start_both(c);
  REQUIRE(fence_each_other(c, power_alpha.path(), power_beta.path(), 30s, /*beta_without_watchdog=*/true));
  hold_every_off(power_beta.path());
  c.run_for(100ms);
  REQUIRE(c.alpha().daemon->core().peer().no_dead_time());

  c.beta().running = false;  // beta's quorumd hangs
  land_late_write(c, 0xC0FFEE, 40);
  c.run_for(c.timing().renew_interval * 2);
  land_late_write(c, 0xC0FFEE, 41);
  c.run_for(c.timing().renew_interval * 2);
  MESSAGE("after the two late writes alpha keeps the flag: " << c.alpha().daemon->core().peer().no_dead_time());
  CHECK_FALSE(alpha_declares_beta_dead(c, 3 * c.timing().dead));
  MESSAGE("alpha sees beta: " << c.status(c.alpha())["peer"].dump());
}

// Finding 2 (liveness). Startup fencing does not take over a peer that is already off: beta (no watchdog)
// lost its power, or was powered off by an admin without a DOWN, or was fenced with fence_action = off by
// alpha's previous quorumd. alpha's quorumd restarts (from the kept flag): after D it suspects beta, and
// the round's first status says OFF: "off before the off: not trusted, the dead time decides" -- but the
// dead time never decides for a peer with the flag. Every retry (each D) fails the same way: beta's
// services are never taken over. (The "seen changing" reason of that rule does not hold for a peer
// never seen UP by this core.)
TEST_CASE("review startup fence: finding: a peer without a watchdog that is already powered off is never taken over on its own; the admin's --confirm-off takes it over") {
  ScratchDir power_alpha, power_beta;
  Cluster c;
  start_both(c);
  REQUIRE(fence_each_other(c, power_alpha.path(), power_beta.path(), 30s, /*beta_without_watchdog=*/true));
  c.run_for(100ms);

  c.beta().running = false;                       // beta loses its power: its last record stays
  { std::ofstream(power_beta.path() + "/off") << ""; }  // and its BMC says off
  REQUIRE(c.restart(c.alpha()).ok());
  REQUIRE(c.run_until([&] { return has_lease(c, c.alpha()); }, 5s));
  const bool taken = alpha_takes_beta_over(c);
  MESSAGE("alpha sees beta: " << c.status(c.alpha())["peer"].dump() << " fence: "
                              << c.status(c.alpha())["power_fence"]["last"].dump());
  CHECK_FALSE(taken);  // its device says off before the off: not trusted, and D never decides for it
  admin_confirms_beta_off(c);
}

// Finding 2, the slow boot (liveness): alpha's restarted quorumd startup-fences beta, whose block stood still
// for D (its quorumd not yet started); beta's new life starts writing while the off runs. The off confirms,
// but the verdict read finds a life never seen before the fence: no verdict (rightly). That life is off now;
// alpha suspects it (UP) and every round fails at its first status ("off before the off"), and D never
// decides for a peer with the flag: never taken over.
TEST_CASE("review startup fence: finding: a peer that starts during its startup fence's off is never taken over on its own; the admin's --confirm-off takes it over") {
  ScratchDir power_alpha, power_beta;
  Cluster c;
  start_both(c);
  REQUIRE(fence_each_other(c, power_alpha.path(), power_beta.path(), 30s, /*beta_without_watchdog=*/true));
  c.run_for(100ms);

  c.beta().running = false;  // beta's machine reboots: its quorumd not started yet
  hold_every_off(power_beta.path());
  REQUIRE(c.restart(c.alpha()).ok());
  REQUIRE(c.run_until([&] { return has_lease(c, c.alpha()); }, 5s));
  bool off_running = false;
  for (int i = 0; i < 6000 && !off_running; ++i) {
    c.step();
    if (i % 10 == 0) std::this_thread::sleep_for(1ms);
    off_running = fence_phase(c, c.alpha()) == "powering off";
  }
  REQUIRE(off_running);
  REQUIRE(c.restart(c.beta()).ok());  // beta's quorumd starts at last: a new life writes
  REQUIRE(c.run_until([&] { return sees(c.alpha(), PeerView::up); }, 5s));
  std::remove((power_beta.path() + "/hold-off").c_str());  // the off lands
  bool off = false;
  for (int i = 0; i < 6000 && !off; ++i) {
    c.step();
    if (i % 10 == 0) std::this_thread::sleep_for(1ms);
    off = file_exists(power_beta.path() + "/off");
  }
  REQUIRE(off);
  c.beta().running = false;  // its power is off
  const bool taken = alpha_takes_beta_over(c);
  MESSAGE("alpha sees beta: " << c.status(c.alpha())["peer"].dump() << " fence: "
                              << c.status(c.alpha())["power_fence"]["last"].dump());
  CHECK_FALSE(taken);  // its device says off before the off: not trusted, and D never decides for it
  admin_confirms_beta_off(c);
}
