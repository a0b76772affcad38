// castor fence NODE --confirm-off (an admin confirms the peer is powered off, checked by hand; Pacemaker's
// stonith_admin --confirm): the PowerFencer's round without an agent, and quorumd's refusals where something
// here says the peer lives or the request cannot be right. The takeover it gives a peer no device can confirm
// (already off before the off) is in review_startup_fence_test.
//   build/tests/unit_tests -tc='fence confirm-off*'
#include <doctest/doctest.h>

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

FenceDeviceConfig device() {
  FenceDeviceConfig d;
  d.node = "beta";
  d.agent = "fence_ipmilan";
  d.retries = 1;
  d.settle = std::chrono::milliseconds(500);
  return d;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

AgentOutcome exited_off() {  // a status that exits 2: off
  AgentOutcome o;
  o.exit_code = 2;
  o.elapsed = std::chrono::milliseconds(100);
  return o;
}

}  // namespace

TEST_CASE("fence confirm-off: the fencer confirms at once, settle from the confirmation; a round under way gives way") {
  PowerFencer f(device(), std::chrono::seconds(10));
  TimePoint t{std::chrono::seconds(100)};
  FenceSituation s{true, true, false, 7, std::chrono::milliseconds(5), true};
  bool started = false;
  REQUIRE(f.tick(s, t, 0, started) == FenceAgentAction::status);  // a round's first status is out
  std::string why;
  REQUIRE(f.confirm_off_by_admin("admin confirmed off (test)", t + 50ms, 0, why));
  const auto settle_end = f.take_confirmed();
  REQUIRE(settle_end);
  CHECK(*settle_end == t + 50ms + 500ms);
  CHECK(f.phase() == PowerFencer::Phase::settling);
  CHECK(f.fences() == 1);
  REQUIRE(f.last());
  CHECK(f.last()->confirmed);
  CHECK(contains(f.last()->reason, "admin confirmed off"));
  // The status of the round it ended comes back "off before the off": ignored, nothing fails, no new action.
  f.on_result(FenceAgentAction::status, interpret_fence_outcome(FenceAgentAction::status, exited_off()), t + 100ms);
  CHECK(f.phase() == PowerFencer::Phase::settling);
  CHECK(f.failures() == 0);
  CHECK_FALSE(f.tick(s, t + 200ms, 0, started));
  // Confirmed once: a second confirmation (or fence) of the same life is refused until it comes back.
  CHECK_FALSE(f.confirm_off_by_admin("again", t + 300ms, 0, why));
  CHECK_MESSAGE(contains(why, "already powered off"), why);
  f.verdict_stood();
  CHECK_FALSE(f.confirm_off_by_admin("again", t + 1s, 0, why));
}

TEST_CASE("fence confirm-off: refused while this node yields to the peer's announced fence of it") {
  PowerFencer f(device(), std::chrono::seconds(10));
  TimePoint t{std::chrono::seconds(100)};
  FenceSituation s{true, true, false, 7, std::chrono::milliseconds(5), std::nullopt};
  bool started = false;
  f.tick(s, t, 0, started);  // announcing
  s.look_clear = false;      // the look found the peer's intent against this node
  f.tick(s, t + 10ms, 0, started);
  REQUIRE(f.phase() == PowerFencer::Phase::yielded);
  std::string why;
  CHECK_FALSE(f.confirm_off_by_admin("admin", t + 20ms, 0, why));
  CHECK_MESSAGE(contains(why, "announced a fence of this node"), why);
  CHECK_FALSE(f.take_confirmed());
}

TEST_CASE("fence confirm-off: quorumd refuses it for a peer it hears, for a node not its peer, and without a [fence]") {
  ScratchDir power_alpha, power_beta;
  Cluster c;
  start_both(c);
  Client admin(c.alpha().socket);
  auto refused = [&](const std::string& line, const std::string& part) {
    const auto reply = c.ask(admin, line);
    CHECK_MESSAGE(reply.value("ok", true) == false, reply.dump());
    CHECK_MESSAGE(contains(reply.value("error", std::string()), part), reply.dump());
  };
  refused("fence-peer beta confirm-off", "no [fence beta]");
  REQUIRE(fence_each_other(c, power_alpha.path(), power_beta.path(), 30s));
  Client admin2(c.alpha().socket);
  auto refused2 = [&](const std::string& line, const std::string& part) {
    const auto reply = c.ask(admin2, line);
    CHECK_MESSAGE(reply.value("ok", true) == false, reply.dump());
    CHECK_MESSAGE(contains(reply.value("error", std::string()), part), reply.dump());
  };
  // beta runs: its heartbeat changes every R. The wrong node named, or not off after all.
  refused2("fence-peer beta confirm-off", "it is not off");
  refused2("fence-peer alpha confirm-off", "only its peer beta");
  refused2("fence-peer gamma confirm-off", "not this cluster's peer");
  refused2("fence-peer beta confirmoff", "fence-peer NODE [force | confirm-off]");
  CHECK(c.status(c.alpha())["power_fence"]["fences"] == 0);
  CHECK(sees(c.alpha(), PeerView::up));
}
