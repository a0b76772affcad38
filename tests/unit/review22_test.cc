// Review 22 (adversarial) of f5096ab/58ffc6c: a quorumd with no peer-watchdog file and a [fence] for the peer
// assumes the peer runs without a watchdog. Schedules the assumption does not cover: two known gaps (may_fail:
// both fail before f5096ab too; docs/design.md and castor.ini(5) say how an admin avoids them), one case that
// held, and the liveness price it found (a peer powered off at a first start), fixed in ac788ed.
//   build/tests/unit_tests -tc='review22*'
#include <doctest/doctest.h>

#include "tests/support/file_fence_agent.h"
#include "tests/support/inprocess_quorumd.h"
#include "tests/support/peer_without_watchdog.h"
#include "tests/support/scratch.h"

using namespace castor;
using namespace castor::testing;
using namespace std::chrono_literals;

// SAFETY. alpha stored "ok" (beta ran with a watchdog, alpha saw it). alpha goes down; the admin moves beta to
// watchdog_device = none (its [fence beta] allows it) and beta runs its services without a watchdog; beta's
// quorumd then hangs and its block turns corrupt (the very state f5096ab fixes for a missing file). alpha
// starts again: its file says "ok", so nothing is assumed, and D declares dead a node whose services run.
// The same fact as a missing file: alpha never read the flag of beta's current configuration. Left open (every
// restart of a node whose file says "ok" would otherwise wait for its peer instead of D); the admin who moves a
// node to watchdog_device = none does it while its peer runs, or removes the peer's peer-watchdog file first.
TEST_CASE("review22: a stale 'ok' file: the peer moved to no watchdog while this node was down, hung with its block torn" *
          doctest::may_fail()) {
  ScratchDir power_alpha, power_beta;
  Cluster c;
  start_both(c);
  give_both_fences(c, power_alpha.path(), power_beta.path(), 30s);  // both keep their watchdogs
  REQUIRE(c.restart(c.beta()).ok());
  REQUIRE(c.restart(c.alpha()).ok());  // no file: beta assumed without a watchdog ...
  REQUIRE(c.run_until([&] { return has_lease(c, c.alpha()) && sees(c.alpha(), PeerView::up); }, 5s));
  REQUIRE(c.run_until([&] { return !c.alpha().daemon->core().peer().no_dead_time(); }, 5s));  // ... undone
  c.run_for(100ms);
  REQUIRE(stored_peer_watchdog_fact(c.alpha()) == std::optional<bool>(false));  // "ok"

  c.alpha().running = false;  // alpha's node goes down (its watchdog: beta declares it dead on D)
  REQUIRE(c.run_until([&] { return sees(c.beta(), PeerView::dead); }, 10 * c.timing().dead));
  c.beta().config.watchdog_device = "none";  // beta moved to power-fence-only, allowed by its [fence beta]
  REQUIRE(c.restart(c.beta()).ok());
  REQUIRE(c.run_until([&] { return has_lease(c, c.beta()); }, 10s));
  c.run_for(1s);

  c.beta().running = false;  // beta's quorumd hangs; nothing resets beta: its services run on
  hold_every_off(power_beta.path());  // a fence of beta never confirms: any DEAD is D's
  corrupt_heartbeat(c, 2);
  REQUIRE(c.restart(c.alpha()).ok());
  REQUIRE(c.run_until([&] { return has_lease(c, c.alpha()); }, 5s));
  CHECK(c.alpha().daemon->core().peer().no_dead_time());
  CHECK_FALSE(alpha_declares_beta_dead(c, 3 * c.timing().dead));
}

// SAFETY (a castor.ini that differs between the nodes, which design.md still treats as safe once the flag is
// read: "an error if it has no [fence] for it (then its services are never taken over unless it leaves
// cleanly)"). beta runs without a watchdog with its own [fence beta]; alpha has no [fence beta]. alpha read the
// flag, then lost its state directory (or is a new node): nothing is assumed, and D declares dead a hung beta
// whose block is torn -- the pre-f5096ab gap, left open for this configuration (assuming without a [fence]
// would leave a watchdog cluster that lost a state directory without any takeover: no confirmation is possible
// without a fence device). Both sections go in both nodes' castor.ini (castor.ini(5)).
TEST_CASE("review22: no file and no [fence] for the peer on this node: a hung peer without a watchdog is declared dead on D" *
          doctest::may_fail()) {
  ScratchDir power_alpha, power_beta;
  Cluster c;
  start_both(c);
  const FenceDeviceConfig fa = file_fence_device("alpha", write_file_fence_agent(power_alpha.path()), 30s);
  const FenceDeviceConfig fb = file_fence_device("beta", write_file_fence_agent(power_beta.path()), 30s);
  c.alpha().config.fence = {fa};      // alpha (with a watchdog) describes only its own fence
  c.beta().config.fence = {fa, fb};   // beta may run without a watchdog: [fence beta] in its own castor.ini
  c.beta().config.watchdog_device = "none";
  REQUIRE(c.restart(c.beta()).ok());
  REQUIRE(c.restart(c.alpha()).ok());
  REQUIRE(c.run_until([&] {
    return has_lease(c, c.alpha()) && sees(c.alpha(), PeerView::up) && c.alpha().daemon->core().peer().no_dead_time();
  }, 5s));  // alpha read the flag: with its file, it never declares beta dead on D

  c.beta().running = false;
  corrupt_heartbeat(c, 2);
  c.alpha().record.peer_watchdog_files.clear();  // alpha's state directory lost
  REQUIRE(c.restart(c.alpha()).ok());
  REQUIRE(c.run_until([&] { return has_lease(c, c.alpha()); }, 5s));
  CHECK(c.alpha().daemon->core().peer().no_dead_time());
  CHECK_FALSE(alpha_declares_beta_dead(c, 3 * c.timing().dead));
}

// HELD (liveness, normal operation): two nodes with watchdogs and a [fence] of each other, neither with a
// peer-watchdog file (a new cluster, a `castor init` giving a new UUID, or the first start after upgrading from
// a version that never wrote "ok" for a peer with a watchdog), started together: each undoes its assumption
// within a few reads, stores "ok", and neither powers the other off.
TEST_CASE("review22: both nodes without a file start together: both assumptions undone, nobody fenced") {
  ScratchDir power_alpha, power_beta;
  Cluster c;
  start_both(c);
  give_both_fences(c, power_alpha.path(), power_beta.path(), 30s);
  c.alpha().record.peer_watchdog_files.clear();
  c.beta().record.peer_watchdog_files.clear();
  REQUIRE(c.restart(c.beta()).ok());
  REQUIRE(c.restart(c.alpha()).ok());
  CHECK(c.alpha().daemon->core().peer().no_dead_time());
  CHECK(c.beta().daemon->core().peer().no_dead_time());
  REQUIRE(c.run_until([&] {
    return !c.alpha().daemon->core().peer().no_dead_time() && !c.beta().daemon->core().peer().no_dead_time();
  }, 2s));
  c.run_for(3 * c.timing().dead);
  CHECK(stored_peer_watchdog_fact(c.alpha()) == std::optional<bool>(false));
  CHECK(stored_peer_watchdog_fact(c.beta()) == std::optional<bool>(false));
  CHECK_FALSE(file_exists(power_alpha.path() + "/off"));
  CHECK_FALSE(file_exists(power_beta.path() + "/off"));
  CHECK(sees(c.alpha(), PeerView::up));
  CHECK(sees(c.beta(), PeerView::up));
}

// LIVENESS PRICE (found on 58ffc6c; "a first start" is also every `castor init` and the first start after
// upgrading, since the old code never wrote "ok"): alpha starts without a file while beta's node is up but its
// quorumd is not running (yet): alpha powered beta off after D + S. Fixed in ac788ed: a peer only assumed to
// run without a watchdog is waited for, never power fenced before it was seen.
TEST_CASE("review22: no file, the peer's quorumd not started yet: this node waits for the peer instead of powering it off") {
  ScratchDir power_alpha, power_beta;
  Cluster c;
  start_both(c);
  give_both_fences(c, power_alpha.path(), power_beta.path(), 30s);
  REQUIRE(c.restart(c.beta()).ok());
  REQUIRE(c.restart(c.alpha()).ok());
  REQUIRE(c.run_until([&] { return !c.alpha().daemon->core().peer().no_dead_time(); }, 2s));
  c.beta().running = false;  // beta's quorumd stops (its node stays up, its watchdog resets it or not)
  c.beta().daemon.reset();
  c.alpha().record.peer_watchdog_files.clear();  // the first start after the upgrade / a re-init
  REQUIRE(c.restart(c.alpha()).ok());
  CHECK_FALSE(alpha_takes_beta_over(c));  // neither DEAD on D nor a fence
  CHECK_FALSE(file_exists(power_beta.path() + "/off"));
  CHECK(fence_phase(c, c.alpha()) == "idle");
}
