// A peer without a watchdog is never declared dead on the dead time D -- also by a core of this node that
// never read a valid record of it (the gap the adversarial review of stop 38 left open, docs/design.md "A node
// without a watchdog"). beta runs without a watchdog; alpha read its flag. Then beta's quorumd hangs (nothing
// resets beta: its services run on) and its heartbeat block turns corrupt (a torn or damaged write), and alpha
// gets a new core: a restarted quorumd (1) or a rejoin after its lease lapsed (2). That core reads only the
// corrupt block, never the flag. Before the peer-watchdog fact was kept (quorumd/peer_watchdog_file.h), it
// took beta for an ordinary peer and declared it DEAD a dead time later: alpha would have taken over beta's
// services while they ran.
#include <doctest/doctest.h>

#include <fstream>

#include "tests/support/file_fence_agent.h"
#include "tests/support/inprocess_quorumd.h"
#include "tests/support/peer_without_watchdog.h"
#include "tests/support/scratch.h"
#include "quorumd/peer_watchdog_file.h"

using namespace castor;
using namespace castor::testing;
using namespace std::chrono_literals;

TEST_CASE("peer watchdog memory: a restarted quorumd does not declare a hung peer without a watchdog dead when its block turns corrupt") {
  ScratchDir power_alpha, power_beta;
  Cluster c;
  start_both(c);
  REQUIRE(fence_each_other(c, power_alpha.path(), power_beta.path(), 30s, /*beta_without_watchdog=*/true));
  hold_every_off(power_beta.path());  // a fence of beta never confirms: any DEAD is D's
  c.run_for(100ms);  // alpha's loop stores what its core read

  c.beta().running = false;  // beta's quorumd hangs; no watchdog resets beta
  corrupt_heartbeat(c, 2);
  REQUIRE(c.restart(c.alpha()).ok());
  REQUIRE(c.run_until([&] { return has_lease(c, c.alpha()); }, 5s));
  CHECK(c.alpha().daemon->core().peer().no_dead_time());
  CHECK_FALSE(alpha_declares_beta_dead(c, 3 * c.timing().dead));
  MESSAGE("alpha sees beta: " << c.status(c.alpha())["peer"].dump());
}

TEST_CASE("peer watchdog memory: a rejoin after a lapsed lease does not declare a hung peer without a watchdog dead when its block turns corrupt") {
  ScratchDir power_alpha, power_beta;
  Cluster c;
  start_both(c);
  REQUIRE(fence_each_other(c, power_alpha.path(), power_beta.path(), 30s, /*beta_without_watchdog=*/true));
  hold_every_off(power_beta.path());

  c.beta().running = false;
  corrupt_heartbeat(c, 2);
  const uint64_t life1 = c.alpha().daemon->core().config().incarnation;
  c.alpha().env->faulty()->hang_all();  // alpha's path stalls: its lease lapses, its core is fenced
  REQUIRE(c.run_until([&] { return c.alpha().daemon->core().phase() == CorePhase::fenced; }, 5s));
  c.alpha().env->faulty()->pass_all();
  c.alpha().env->faulty()->release_hung(c.now());
  REQUIRE(c.run_until([&] {
    return c.alpha().daemon->core().config().incarnation != life1 && has_lease(c, c.alpha());
  }, 10s));
  CHECK(c.alpha().daemon->core().peer().no_dead_time());
  CHECK_FALSE(alpha_declares_beta_dead(c, 3 * c.timing().dead));
}

TEST_CASE("peer watchdog memory: the fact is stored when read, kept over the peer's clean leave, and undone by a life seen running with a watchdog") {
  ScratchDir power_alpha, power_beta;
  Cluster c;
  start_both(c);
  REQUIRE(fence_each_other(c, power_alpha.path(), power_beta.path(), 30s, /*beta_without_watchdog=*/true));
  c.run_for(100ms);
  auto stored = [&] {
    bool any = false;
    for (const auto& [path, v] : c.alpha().record.peer_watchdog_files) any = any || v;
    return any;
  };
  CHECK(stored());
  Client admin(c.beta().socket);
  admin.send("leave");  // answered once DOWN is written
  REQUIRE(c.run_until([&] { return sees(c.alpha(), PeerView::down); }, 10s));
  c.run_for(100ms);
  CHECK(c.alpha().daemon->core().peer().no_dead_time());  // its next life may hang before alpha reads it
  CHECK(stored());
  c.beta().config.watchdog_device = "/dev/fake-watchdog";  // beta comes back with a watchdog
  REQUIRE(c.restart(c.beta()).ok());
  REQUIRE(c.run_until([&] { return sees(c.alpha(), PeerView::up); }, 10s));
  c.run_for(100ms);
  CHECK_FALSE(c.alpha().daemon->core().peer().no_dead_time());
  CHECK_FALSE(stored());
}

TEST_CASE("peer watchdog file: none, ok, missing, and anything else refused") {
  ScratchDir dir;
  const std::string path = dir.path() + "/state/peer-watchdog.x.node-1";
  auto missing = read_peer_watchdog_file(path);
  REQUIRE(missing.ok());
  CHECK_FALSE(missing->has_value());
  REQUIRE(write_peer_watchdog_file(path, true).ok());  // creates the state directory
  auto none = read_peer_watchdog_file(path);
  REQUIRE(none.ok());
  CHECK(*none == std::optional<bool>(true));
  REQUIRE(write_peer_watchdog_file(path, false).ok());
  auto ok = read_peer_watchdog_file(path);
  REQUIRE(ok.ok());
  CHECK(*ok == std::optional<bool>(false));
  {
    std::ofstream(path) << "maybe\n";
  }
  auto bad = read_peer_watchdog_file(path);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == Code::corrupt);
  CHECK(bad.status().message().find("maybe") != std::string::npos);
}

// The gap design.md named: a quorumd that never read the flag at all (a new node, or its state directory
// lost) and finds the peer hung with its block corrupt. Before, a missing peer-watchdog file meant "has a
// watchdog" and D declared beta dead while its services ran. Now a node with a [fence] for its peer takes a
// peer it knows nothing of for one without a watchdog.
TEST_CASE("peer watchdog memory: a quorumd without a peer-watchdog file that can power fence the peer does not declare a hung peer dead when its block is corrupt") {
  ScratchDir power_alpha, power_beta;
  Cluster c;
  start_both(c);
  REQUIRE(fence_each_other(c, power_alpha.path(), power_beta.path(), 30s, /*beta_without_watchdog=*/true));
  hold_every_off(power_beta.path());

  c.beta().running = false;  // beta's quorumd hangs; no watchdog resets beta
  corrupt_heartbeat(c, 2);
  c.alpha().record.peer_watchdog_files.clear();  // alpha's state directory lost
  REQUIRE(c.restart(c.alpha()).ok());
  REQUIRE(c.run_until([&] { return has_lease(c, c.alpha()); }, 5s));
  CHECK(c.alpha().daemon->core().peer().no_dead_time());
  CHECK_FALSE(c.alpha().daemon->core().peer().no_watchdog_known());
  CHECK_FALSE(alpha_declares_beta_dead(c, 3 * c.timing().dead));
  CHECK(c.alpha().record.peer_watchdog_files.empty());  // only assumed: nothing stored, a restart assumes again
  // Only assumed, the peer never seen by this quorumd is not power fenced either: alpha waits for it (or for
  // the admin). The admin confirms the off (beta is hung, not off: the admin's word, as castor(8) warns).
  CHECK(fence_phase(c, c.alpha()) == "idle");
  Client admin(c.alpha().socket);
  const auto reply = c.ask(admin, "fence-peer beta confirm-off");
  REQUIRE_MESSAGE(reply.value("ok", false), reply.dump());
  CHECK(c.run_until([&] { return sees(c.alpha(), PeerView::dead); }, 5s));
}

// A staggered first start: alpha knows nothing of beta (no file) and beta, with a watchdog, is not running
// yet when alpha starts (here: its quorumd stopped, its last record standing still). Before the wait, alpha
// power fenced it D after its start as a peer never seen (a node still booting powered off); now it waits,
// neither D nor a fence, and beta joins when it comes.
TEST_CASE("peer watchdog memory: without a peer-watchdog file a node waits for a peer it never saw instead of fencing it") {
  ScratchDir power_alpha, power_beta;
  Cluster c;
  start_both(c);
  REQUIRE(fence_each_other(c, power_alpha.path(), power_beta.path(), 30s, /*beta_without_watchdog=*/false));
  c.beta().running = false;
  c.alpha().record.peer_watchdog_files.clear();
  REQUIRE(c.restart(c.alpha()).ok());
  CHECK_FALSE(alpha_declares_beta_dead(c, 3 * c.timing().dead));
  CHECK(fence_phase(c, c.alpha()) == "idle");
  CHECK_FALSE(file_exists(power_beta.path() + "/off"));  // never powered off
  c.beta().running = true;
  CHECK(c.run_until([&] { return sees(c.alpha(), PeerView::up) && !c.alpha().daemon->core().peer().no_dead_time(); }, 5s));
}

// The same start beside a peer that runs with a watchdog: the assumption ends as soon as that peer is seen
// running without the flag (it read this core's writes), "ok" is stored, and the dead time decides again
// when the peer later hangs and its fence never confirms (the fallback a watchdog node keeps).
TEST_CASE("peer watchdog memory: without a peer-watchdog file, a running peer with a watchdog undoes the assumption and D decides again") {
  ScratchDir power_alpha, power_beta;
  Cluster c;
  start_both(c);
  REQUIRE(fence_each_other(c, power_alpha.path(), power_beta.path(), 30s, /*beta_without_watchdog=*/false));
  hold_every_off(power_beta.path());
  c.alpha().record.peer_watchdog_files.clear();
  REQUIRE(c.restart(c.alpha()).ok());
  CHECK(c.alpha().daemon->core().peer().no_dead_time());  // assumed at the start
  REQUIRE(c.run_until([&] { return !c.alpha().daemon->core().peer().no_dead_time(); }, 2s));
  c.run_for(100ms);
  bool stored_ok = false;
  for (const auto& [path, v] : c.alpha().record.peer_watchdog_files) stored_ok = !v;
  CHECK(stored_ok);
  c.beta().running = false;  // beta hangs: its watchdog resets it
  CHECK(alpha_declares_beta_dead(c, 3 * c.timing().dead));
}

// Without a [fence] for the peer nothing is assumed: a cluster of watchdog nodes that lost a state directory
// still declares a dead peer dead on D.
TEST_CASE("peer watchdog memory: without a peer-watchdog file and without a fence for the peer, D decides as before") {
  Cluster c;
  start_both(c);
  c.alpha().record.peer_watchdog_files.clear();
  REQUIRE(c.restart(c.alpha()).ok());
  CHECK_FALSE(c.alpha().daemon->core().peer().no_dead_time());
  REQUIRE(c.run_until([&] { return has_lease(c, c.alpha()); }, 5s));
  c.beta().running = false;
  CHECK(alpha_declares_beta_dead(c, 3 * c.timing().dead));
}
