// Adversarial review 19: castor fence NODE --confirm-off (2ef4e8c) and the review-18 fixes (bbfed7f, d052a40).
// Each finding is a case written as the rule it breaks: all four fail on d052a40 and pass with
// /tmp/review19_fix1-4.diff: admin_confirm_off also asks may_power_fence and QuorumCore::peer_silent_for (findings 1 and 4:
// the automatic suspicion's own test -- a read S after the silence began, this node's disk working
// throughout, past any promise given); PeerMonitor::fence_by_admin caps the fenced life's seq at the
// confirmation (finding 2: a higher seq was written after the admin's word: no verdict, the normal rules go on),
// and the fencer refuses the confirmation while a round powers the peer off after its device said on; an
// admin-confirmed off runs no `on` with fence_action = reboot (finding 3).
//   build/tests/unit_tests -tc='review19*'
#include <doctest/doctest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "agent/fence_agent.h"
#include "quorumd/power_fencer.h"
#include "tests/support/file_fence_agent.h"
#include "tests/support/inprocess_quorumd.h"
#include "tests/support/scratch.h"

using namespace castor;
using namespace castor::testing;
using namespace std::chrono_literals;

namespace {

int64_t ms(Duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

// Steps `span` of fake time; true if at some step alpha sees beta DEAD while beta's core is up with a valid
// lease (two owners: alpha takes over what beta still runs).
bool dead_while_beta_holds_lease(Cluster& c, Duration span) {
  bool both = false;
  const TimePoint end = c.now() + span;
  while (c.now() < end && !both) {
    c.step();
    both = sees(c.alpha(), PeerView::dead) && c.beta().daemon && has_lease(c, c.beta()) && !fenced(c.beta());
  }
  return both;
}

}  // namespace

// Finding 1 (safety: a refusal bypassed). A storage stall of the shared disk (both paths hang; no LAN, S = 2T).
// Nothing on the disk changes, so beta's heartbeat "has not changed for S" -- on a disk alpha cannot read. The
// automatic suspicion refuses exactly this (QuorumCore::suspicion_due: "my disk did not work throughout"), and
// castor fence refuses it (may_power_fence); admin_confirm_off asks only may_act (the lease, valid 3T after the
// last ok write, so for ~T after the 2T silence) and now - first_seen. The admin confirms beta off (wrong node
// checked by hand, say): accepted. The stall ends before either lease lapsed: beta renews, its value changes,
// and alpha's verdict read (issued after the settle) returns beta's record of the confirmed incarnation, a
// higher seq: "any seq: a late write of it" -> DEAD while beta holds its lease.
TEST_CASE("review19 finding 1: confirm-off is accepted during a storage stall of this node's own disk; the healthy peer is declared dead") {
  ScratchDir power_alpha, power_beta;
  Cluster c;
  start_both(c);
  REQUIRE(fence_each_other(c, power_alpha.path(), power_beta.path(), 30s));
  c.run_for(200ms);
  Client admin(c.alpha().socket);
  const Duration S = 2 * c.timing().io_timeout;  // no LAN
  stall_both(c);
  REQUIRE(c.run_until([&] { return c.now() - c.alpha().daemon->core().peer().first_seen() >= S + kStep; }, 2s));
  REQUIRE(has_lease(c, c.alpha()));
  MESSAGE("alpha's disk failing: " << c.alpha().daemon->core().disk_failing(c.now()) << ", lease left "
                                   << ms(*c.alpha().daemon->core().lease_expiry() - c.now()) << " ms");
  const auto reply = c.ask(admin, "fence-peer beta confirm-off");
  CHECK_FALSE_MESSAGE(reply.value("ok", false), "accepted during a storage stall: " << reply.dump());
  unstall_both(c);
  CHECK_FALSE_MESSAGE(dead_while_beta_holds_lease(c, 1s),
                      "alpha declared beta DEAD while beta holds its lease: " << c.status(c.alpha())["peer"].dump());
}

// Finding 2 (safety: life seen before the verdict is ignored). beta's quorumd is frozen (a VM pause) just past
// S = T with a LAN: its heartbeat and its datagrams stop. The admin confirms it off (wrongly): accepted, as
// designed. beta resumes at once, holding its lease: its heartbeat changes (alpha reads it: UP again) and
// the LAN hears it -- all during the settle, before the verdict read. The verdict read still declares it DEAD
// ("the fenced life's record, any seq"): the "late write" reading of a higher seq holds for a device-confirmed
// off (no write can be issued after it), not for the admin's word, which a write issued after it disproves.
// quorumd refuses where it sees the peer live before the confirmation, and then acts against what it sees
// after it.
TEST_CASE("review19 finding 2: a peer seen writing (and heard on the LAN) after the admin's confirmation is still declared dead by it") {
  ScratchDir scratch;
  const std::string agent = write_file_fence_agent(scratch.path());
  ClusterOptions o;
  o.with_lan = true;
  Cluster c{o};
  start_both(c);
  REQUIRE(alpha_fences_beta(c, agent));
  Client admin(c.alpha().socket);
  const Duration S = c.timing().io_timeout;  // a LAN
  const uint64_t beta_life = c.beta().daemon->core().config().incarnation;
  c.beta().running = false;  // frozen
  REQUIRE(c.run_until([&] { return c.now() - c.alpha().daemon->core().peer().first_seen() >= S + kStep; }, 2s));
  c.run_for(2 * kStep);  // and the LAN silent for T
  const auto reply = c.ask(admin, "fence-peer beta confirm-off");
  REQUIRE_MESSAGE(reply.value("ok", false), reply.dump());  // the admin's word: accepted
  const uint64_t seq_at_confirm = c.alpha().daemon->core().peer().seq();
  c.beta().running = true;  // it was not off: it resumes with its lease
  REQUIRE(c.run_until([&] { return c.alpha().daemon->core().peer().seq() > seq_at_confirm; }, 1s));
  MESSAGE("alpha reads beta writing again (seq " << seq_at_confirm << " -> " << c.alpha().daemon->core().peer().seq()
                                                  << "), beta has its lease: " << has_lease(c, c.beta())
                                                  << ", same life: " << (c.beta().daemon->core().config().incarnation == beta_life));
  CHECK_FALSE_MESSAGE(dead_while_beta_holds_lease(c, 1s),
                      "alpha declared beta DEAD on the confirmation after reading it alive: "
                          << c.status(c.alpha())["peer"].dump());
}

// Finding 3 (liveness/operations: wanted?). fence_action = reboot: once the confirmation's verdict stood, the
// fencer runs the agent's `on` -- through a device the admin used --confirm-off precisely because it could not
// be trusted (it said off before the off: maybe another machine's plug) or not reached, on a node the admin
// has off by hand (pulled for a repair). Pacemaker's stonith_admin --confirm runs no agent at all.
TEST_CASE("review19 finding 3: with fence_action = reboot the admin's confirmation powers the node on through the untrusted device") {
  FenceDeviceConfig d;
  d.node = "beta";
  d.agent = "fence_ipmilan";
  d.action = FenceAction::reboot;
  d.settle = 500ms;
  PowerFencer f(d, 10s);
  TimePoint t{std::chrono::seconds(100)};
  FenceSituation s{true, true, false, 7, 5ms, std::nullopt};
  std::string why;
  REQUIRE(f.confirm_off_by_admin("admin confirmed off (test)", t, 0, why));
  REQUIRE(f.take_confirmed());
  f.verdict_stood();
  bool started = false;
  const auto action = f.tick(s, t + 1s, 0, started);
  CHECK_MESSAGE(!action, "the fencer runs " << static_cast<int>(*action) << " after an admin's confirmation");
}

// Finding 4 (safety: a refusal bypassed, with a LAN; the same fix as finding 1). A shared storage stall ridden
// through on promises (stall_promise.h): both paths hang, each node asks over the LAN and each grants the other
// (raising its DEAD floor: it promised not to declare the peer dead before floor + D). Both leases run on the
// promises. Then the LAN is cut. T later the LAN is "silent" and beta's value (standing still on the stalled
// disk) S old: admin_confirm_off accepts -- it asks only may_act (a lease a promise extended) and neither the
// own disk nor the floor, both of which peer_silent_for asks. The stall ends while beta holds its lease: the
// verdict read returns beta's next record of the confirmed life: DEAD while beta holds its lease.
TEST_CASE("review19 finding 4: with a LAN, confirm-off is accepted during a storage stall ridden through on promises; the peer is declared dead holding its lease") {
  ScratchDir scratch;
  const std::string agent = write_file_fence_agent(scratch.path());
  ClusterOptions o;
  o.with_lan = true;
  Cluster c{o};
  start_both(c);
  REQUIRE(alpha_fences_beta(c, agent));
  Client admin(c.alpha().socket);
  const uint64_t granted_before = c.alpha().daemon->core().promises_granted();
  stall_both(c);
  REQUIRE(c.run_until([&] { return c.alpha().daemon->core().promises_granted() > granted_before + 1 &&
                                   c.alpha().daemon->core().promises_received() > 0; }, 1s));
  c.lan().cut.insert("10.9.1.2");  // then the LAN is cut
  const Duration T = c.timing().io_timeout;
  REQUIRE(c.run_until([&] { return c.now() - c.alpha().daemon->core().peer().first_seen() >= T + kStep; }, 1s));
  c.run_for(T + kStep);  // the LAN silent for T
  REQUIRE(has_lease(c, c.alpha()));
  MESSAGE("beta holds its lease: " << has_lease(c, c.beta()) << "; alpha's floor + D is "
                                   << ms(c.alpha().daemon->core().promise_floor() + c.timing().dead - c.now()) << " ms away");
  const auto reply = c.ask(admin, "fence-peer beta confirm-off");
  CHECK_FALSE_MESSAGE(reply.value("ok", false), "accepted during a stall, inside a promise alpha gave: " << reply.dump());
  unstall_both(c);
  CHECK_FALSE_MESSAGE(dead_while_beta_holds_lease(c, 1s),
                      "alpha declared beta DEAD while it holds its lease: " << c.status(c.alpha())["peer"].dump());
}
