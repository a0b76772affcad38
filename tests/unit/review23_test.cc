// Review 23 (adversarial) of ac788ed: a peer only assumed to run without a watchdog (no peer-watchdog file, a
// [fence] for it) is not startup-fenced; the admin's confirmation (for_admin) still takes it. No safety finding;
// the last two cases were written as findings against the docs (a peer without a watchdog is still startup
// fenced; the wait holds at every start, not only the first) and now pin the documented behaviour (the docs and
// the status/log texts were corrected in the same change).
//   build/tests/unit_tests -tc='review23*'
#include <doctest/doctest.h>

#include "tests/support/file_fence_agent.h"
#include "tests/support/inprocess_quorumd.h"
#include "tests/support/peer_without_watchdog.h"
#include "tests/support/scratch.h"

using namespace castor;
using namespace castor::testing;
using namespace std::chrono_literals;

namespace {

bool only_assumed(Node& n) {
  const auto& pm = n.daemon->core().peer();
  return pm.no_dead_time() && !pm.no_watchdog_known();
}

// alpha's lease lapses (its path stalls) and it rejoins with a new core.
void rejoin_alpha(Cluster& c) {
  const uint64_t life = c.alpha().daemon->core().config().incarnation;
  c.alpha().env->faulty()->hang_all();
  REQUIRE(c.run_until([&] { return c.alpha().daemon->core().phase() == CorePhase::fenced; }, 5s));
  c.alpha().env->faulty()->pass_all();
  c.alpha().env->faulty()->release_hung(c.now());
  REQUIRE(c.run_until([&] {
    return c.alpha().daemon->core().config().incarnation != life && has_lease(c, c.alpha());
  }, 10s));
}

}  // namespace

// LIVENESS: beta runs WITH a watchdog and is dead (its last record, valid and unflagged, stands still) when
// alpha starts with no file. alpha waits (no D, no fence); a rejoin of alpha in between carries "only assumed"
// (still no startup fence); the admin's confirmation is accepted on the new core and beta is declared dead; a
// further rejoin keeps the verdict.
TEST_CASE("review23: no file, a peer with a watchdog dead at the start, alpha rejoins while waiting: the confirmation takes it") {
  ScratchDir power_alpha, power_beta;
  Cluster c;
  start_both(c);
  REQUIRE(fence_each_other(c, power_alpha.path(), power_beta.path(), 30s, /*beta_without_watchdog=*/false));
  c.beta().running = false;  // beta's node dies
  c.alpha().record.peer_watchdog_files.clear();
  REQUIRE(c.restart(c.alpha()).ok());
  REQUIRE(c.run_until([&] { return has_lease(c, c.alpha()); }, 5s));
  CHECK(only_assumed(c.alpha()));
  CHECK_FALSE(alpha_declares_beta_dead(c, 3 * c.timing().dead));
  rejoin_alpha(c);
  CHECK(only_assumed(c.alpha()));  // carried to the next core as only assumed
  CHECK_FALSE(alpha_declares_beta_dead(c, 3 * c.timing().dead));
  CHECK(fence_phase(c, c.alpha()) == "idle");
  CHECK_FALSE(file_exists(power_beta.path() + "/off"));
  CHECK(c.alpha().record.peer_watchdog_files.empty());
  Client admin(c.alpha().socket);
  const auto reply = c.ask(admin, "fence-peer beta confirm-off");
  REQUIRE_MESSAGE(reply.value("ok", false), reply.dump());
  CHECK(c.run_until([&] { return sees(c.alpha(), PeerView::dead); }, 5s));
  CHECK(c.status(c.alpha())["power_fence"]["fences"].get<int64_t>() >= 1);  // what castor fence waits for
  CHECK(c.status(c.alpha())["peer"]["view"].get<std::string>() == "DEAD");
  rejoin_alpha(c);
  CHECK(c.run_until([&] { return sees(c.alpha(), PeerView::dead); }, 5s));
}

// SAFETY: the for_admin test must refuse a peer with a watchdog this node knows of ("ok" file) that it never saw
// up (D decides there), and a peer only assumed whose value changed within max(S, D).
TEST_CASE("review23: the admin's confirmation is refused for an unseen peer known to have a watchdog, and for one seen changing") {
  ScratchDir power_alpha, power_beta;
  Cluster c;
  start_both(c);
  REQUIRE(fence_each_other(c, power_alpha.path(), power_beta.path(), 30s, /*beta_without_watchdog=*/false));
  c.run_for(100ms);
  REQUIRE(stored_peer_watchdog_fact(c.alpha()) == std::optional<bool>(false));  // "ok"
  c.beta().running = false;
  hold_every_off(power_beta.path());
  REQUIRE(c.restart(c.alpha()).ok());
  REQUIRE(c.run_until([&] { return has_lease(c, c.alpha()); }, 5s));
  CHECK_FALSE(c.alpha().daemon->core().peer().no_dead_time());
  c.run_for(c.timing().dead / 2);
  Client admin(c.alpha().socket);
  auto reply = c.ask(admin, "fence-peer beta confirm-off");
  CHECK_FALSE(reply.value("ok", false));
  MESSAGE(reply.dump());
  // D decides for it.
  CHECK(alpha_declares_beta_dead(c, 3 * c.timing().dead));

  // Only assumed, the peer's torn block changes (its quorumd writes something) just before the confirmation.
  c.alpha().record.peer_watchdog_files.clear();
  REQUIRE(c.restart(c.alpha()).ok());
  REQUIRE(c.run_until([&] { return has_lease(c, c.alpha()); }, 5s));
  CHECK(only_assumed(c.alpha()));
  c.run_for(3 * c.timing().dead);
  corrupt_heartbeat(c, 2);
  c.run_for(c.timing().dead / 2);
  Client admin2(c.alpha().socket);
  reply = c.ask(admin2, "fence-peer beta confirm-off");
  CHECK_FALSE(reply.value("ok", false));
  MESSAGE(reply.dump());
}

// SAFETY: alpha without a file reads beta's flag (beta without a watchdog): it is known, stored "none", and a
// rejoin and a restart keep it known (startup fencing), never undone by the assumption's bit; D never
// declares beta dead once it hangs with its block torn.
TEST_CASE("review23: a flag read at a first start is known, stored, and carried over a rejoin and a restart") {
  ScratchDir power_alpha, power_beta;
  Cluster c;
  start_both(c);
  REQUIRE(fence_each_other(c, power_alpha.path(), power_beta.path(), 30s, /*beta_without_watchdog=*/true));
  hold_every_off(power_beta.path());
  c.alpha().record.peer_watchdog_files.clear();
  REQUIRE(c.restart(c.alpha()).ok());
  REQUIRE(c.run_until([&] { return c.alpha().daemon->core().peer().no_watchdog_known(); }, 2s));
  c.run_for(100ms);
  CHECK(stored_peer_watchdog_fact(c.alpha()) == std::optional<bool>(true));
  rejoin_alpha(c);
  CHECK(c.alpha().daemon->core().peer().no_watchdog_known());
  c.beta().running = false;
  corrupt_heartbeat(c, 2);
  REQUIRE(c.restart(c.alpha()).ok());
  CHECK(c.alpha().daemon->core().peer().no_watchdog_known());
  CHECK_FALSE(alpha_declares_beta_dead(c, 3 * c.timing().dead));
}

// DOCS (found: the admin guide said "one still booting is never powered off"): with no file, a peer whose LAST
// record carries the flag (it runs without a watchdog: power-fence-only) makes the flag known at alpha's first
// read, and startup fencing powers it off while its quorumd has not started yet -- as designed for a peer known
// to run without a watchdog; the docs now say so.
TEST_CASE("review23: no file, a peer without a watchdog whose quorumd is not started yet is powered off at alpha's first start") {
  ScratchDir power_alpha, power_beta;
  Cluster c;
  start_both(c);
  REQUIRE(fence_each_other(c, power_alpha.path(), power_beta.path(), 30s, /*beta_without_watchdog=*/true));
  c.beta().running = false;  // beta's node is up (booting), its quorumd not started yet
  c.alpha().record.peer_watchdog_files.clear();  // alpha's first start (or its state directory lost)
  REQUIRE(c.restart(c.alpha()).ok());
  CHECK(alpha_takes_beta_over(c));
  CHECK(file_exists(power_beta.path() + "/off"));
}

// LIVENESS / DOCS (found: the design said "at a first start only"): nothing is stored while only assumed, so every
// restart of alpha is a first start. beta (WITH a watchdog) is off; the admin confirmed it, alpha took over. alpha's
// quorumd restarts (an upgrade, a crash) while beta is still off: beta is UNKNOWN again, never declared dead
// (no D, no startup fence), and the admin must confirm the off again -- at every restart until beta runs.
// (With the "ok" this node would have stored had beta been seen once, D decides; before f5096ab, D decided.)
// As corosync's wait_for_all at every start; the design and the guide now say so, and status says it waits.
TEST_CASE("review23: no file, a peer with a watchdog off: after the confirmation, a restart of alpha needs it again") {
  ScratchDir power_alpha, power_beta;
  Cluster c;
  start_both(c);
  REQUIRE(fence_each_other(c, power_alpha.path(), power_beta.path(), 30s, /*beta_without_watchdog=*/false));
  c.beta().running = false;
  c.alpha().record.peer_watchdog_files.clear();
  REQUIRE(c.restart(c.alpha()).ok());
  REQUIRE(c.run_until([&] { return has_lease(c, c.alpha()); }, 5s));
  c.run_for(2 * c.timing().dead);
  Client admin(c.alpha().socket);
  const auto reply = c.ask(admin, "fence-peer beta confirm-off");
  REQUIRE_MESSAGE(reply.value("ok", false), reply.dump());
  REQUIRE(c.run_until([&] { return sees(c.alpha(), PeerView::dead); }, 5s));
  c.run_for(1s);
  CHECK(c.alpha().record.peer_watchdog_files.empty());
  REQUIRE(c.restart(c.alpha()).ok());
  CHECK(only_assumed(c.alpha()));
  CHECK_FALSE(alpha_declares_beta_dead(c, 10 * c.timing().dead));  // waiting again
  const std::string level2 = c.status(c.alpha())["power_fence"]["peer_levels"][1]["device"].get<std::string>();
  CHECK(level2.find("waiting for it, or for castor fence PEER --confirm-off") != std::string::npos);
  Client admin2(c.alpha().socket);
  const auto again = c.ask(admin2, "fence-peer beta confirm-off");
  REQUIRE_MESSAGE(again.value("ok", false), again.dump());
  CHECK(c.run_until([&] { return sees(c.alpha(), PeerView::dead); }, 5s));
}
