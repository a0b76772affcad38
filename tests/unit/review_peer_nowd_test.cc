// Adversarial review of 39ddbb2 (the peer's no-watchdog flag kept across cores and quorumd processes).
// beta runs without a watchdog throughout. Each case names what it shows and its severity; each failed on
// 39ddbb2. Fixed since: neither a DOWN nor a confirmed fence undoes the flag, only a life seen running without
// it (findings 1); a peer with the flag that this core never saw UP is suspected after D (startup fencing,
// findings 2); the file is read before the watchdog is armed (finding 3, no test: TestEnv's load cannot fail).
#include <doctest/doctest.h>

#include <fstream>

#include "tests/support/file_fence_agent.h"
#include "tests/support/inprocess_quorumd.h"
#include "tests/support/peer_without_watchdog.h"
#include "tests/support/scratch.h"

using namespace castor;
using namespace castor::testing;
using namespace std::chrono_literals;

namespace {

// What alpha's peer-watchdog file says (nullopt: no file).
std::optional<bool> alpha_file(Cluster& c) {
  std::optional<bool> v;
  for (const auto& [path, b] : c.alpha().record.peer_watchdog_files) v = b;
  return v;
}

// beta leaves cleanly; alpha reads its DOWN.
void beta_leaves(Cluster& c) {
  Client admin(c.beta().socket);
  admin.send("leave");
  REQUIRE(c.run_until([&] { return sees(c.alpha(), PeerView::down); }, 10s));
  c.run_for(100ms);
  // On 39ddbb2 both are cleared here (the DOWN undoes the fact, and the file says "ok").
  MESSAGE("after beta's DOWN, alpha keeps the fact: " << c.alpha().daemon->core().peer().no_dead_time()
                                                      << ", file: " << alpha_file(c).value_or(false));
}

}  // namespace

// Finding 1 (safety). The fact is cleared by a DOWN and re-learnt only from a valid record of the next life.
// A node that was not reading while the peer's next life started (its quorumd stopped, here by a clean leave
// of its own for maintenance) restarts with "ok" in its file and takes the hung peer with a torn block for an
// ordinary peer: DEAD on D while beta's services run. The documented residual gap ("a new node, or its state
// directory lost") does not cover it.
TEST_CASE("review peer nowd: a restart after the peer's clean leave and rejoin, unread, declares the hung peer dead on D") {
  ScratchDir power_alpha, power_beta;
  Cluster c;
  start_both(c);
  REQUIRE(fence_each_other(c, power_alpha.path(), power_beta.path(), 30s, /*beta_without_watchdog=*/true));
  hold_every_off(power_beta.path());  // a fence of beta never confirms: any DEAD is D's
  c.run_for(100ms);
  REQUIRE(alpha_file(c) == std::optional<bool>(true));

  beta_leaves(c);  // beta restarts cleanly (life 1 -> DOWN)
  {
    Client admin(c.alpha().socket);  // alpha goes down for maintenance, cleanly
    admin.send("leave");
    REQUIRE(c.run_until([&] { return c.alpha().daemon->done(); }, 10s));
  }
  c.alpha().running = false;
  REQUIRE(c.restart(c.beta()).ok());  // beta's next life (no watchdog) takes its lease alone
  REQUIRE(c.run_until([&] { return has_lease(c, c.beta()); }, 10s));
  c.run_for(1s);

  c.beta().running = false;  // beta's quorumd hangs, nothing resets beta: its services run on
  corrupt_heartbeat(c, 2);
  REQUIRE(c.restart(c.alpha()).ok());  // alpha back from maintenance
  REQUIRE(c.run_until([&] { return has_lease(c, c.alpha()); }, 5s));
  CHECK_FALSE(alpha_declares_beta_dead(c, 3 * c.timing().dead));
  MESSAGE("alpha sees beta: " << c.status(c.alpha())["peer"].dump());
}

// Finding 1, the rejoin variant (safety): the fact carried to the new core is the old core's, cleared by the
// DOWN; the old core read nothing of beta's next life (alpha's path stalled).
TEST_CASE("review peer nowd: a rejoin after the peer's clean leave and rejoin, unread, declares the hung peer dead on D") {
  ScratchDir power_alpha, power_beta;
  Cluster c;
  start_both(c);
  REQUIRE(fence_each_other(c, power_alpha.path(), power_beta.path(), 30s, /*beta_without_watchdog=*/true));
  hold_every_off(power_beta.path());
  c.run_for(100ms);

  beta_leaves(c);
  const uint64_t life1 = c.alpha().daemon->core().config().incarnation;
  c.alpha().env->faulty()->hang_all();  // alpha's path stalls: it reads nothing of beta's next life
  REQUIRE(c.run_until([&] { return c.alpha().daemon->core().phase() == CorePhase::fenced; }, 5s));
  REQUIRE(c.restart(c.beta()).ok());
  REQUIRE(c.run_until([&] { return has_lease(c, c.beta()); }, 10s));
  c.run_for(1s);

  c.beta().running = false;
  corrupt_heartbeat(c, 2);
  c.alpha().env->faulty()->pass_all();
  c.alpha().env->faulty()->release_hung(c.now());
  REQUIRE(c.run_until([&] {
    return c.alpha().daemon->core().config().incarnation != life1 && has_lease(c, c.alpha());
  }, 10s));
  CHECK_FALSE(alpha_declares_beta_dead(c, 3 * c.timing().dead));
  MESSAGE("alpha sees beta: " << c.status(c.alpha())["peer"].dump());
}

// Finding 2 (liveness). A new core that starts from the fact (file or carried) and never sees the peer UP
// never suspects it (QuorumCore::peer_silent_for needs UP) and never applies D: a hung or crashed beta is
// neither fenced nor taken over, ever. Here the fence would work (no hold-off).
TEST_CASE("review peer nowd: a restarted quorumd never fences a hung peer without a watchdog whose block is corrupt") {
  ScratchDir power_alpha, power_beta;
  Cluster c;
  start_both(c);
  REQUIRE(fence_each_other(c, power_alpha.path(), power_beta.path(), 30s, /*beta_without_watchdog=*/true));
  c.run_for(100ms);

  c.beta().running = false;
  corrupt_heartbeat(c, 2);
  REQUIRE(c.restart(c.alpha()).ok());
  REQUIRE(c.run_until([&] { return has_lease(c, c.alpha()); }, 5s));
  const bool taken = alpha_takes_beta_over(c);
  MESSAGE("alpha sees beta: " << c.status(c.alpha())["peer"].dump()
                              << " fence phase: " << fence_phase(c, c.alpha()));
  CHECK(taken);
}

// Finding 2, control without corruption (liveness, older than 39ddbb2): the same with beta's last valid record.
TEST_CASE("review peer nowd: a restarted quorumd never fences a crashed peer without a watchdog") {
  ScratchDir power_alpha, power_beta;
  Cluster c;
  start_both(c);
  REQUIRE(fence_each_other(c, power_alpha.path(), power_beta.path(), 30s, /*beta_without_watchdog=*/true));
  c.run_for(100ms);

  c.beta().running = false;  // beta hangs or crashes; its last record stays
  REQUIRE(c.restart(c.alpha()).ok());
  REQUIRE(c.run_until([&] { return has_lease(c, c.alpha()); }, 5s));
  const bool taken = alpha_takes_beta_over(c);
  MESSAGE("alpha sees beta: " << c.status(c.alpha())["peer"].dump()
                              << " fence phase: " << fence_phase(c, c.alpha()));
  CHECK(taken);
}
