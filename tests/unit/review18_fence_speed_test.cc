// Adversarial review 18 of the faster power-fenced failover: e5f5ad2 (the peer's silence counts from the first
// LAN datagram naming its completed write, QuorumCore::silence_start) and 9ae5299 (the probe ahead: the round's
// first status asked S/4 before the suspicion, PowerFencer).
//
// Finding 1 (e5f5ad2): the datagram's arrival is stamped with the loop turn's clock reading, taken right after
// io_getevents (QuorumDaemon::step) and BEFORE LanChannel::receive drains the sockets. A datagram that arrived
// after that reading -- while quorumd finished the completions of the turn, or was paused (CPU starvation, a
// blocking log write, a VM stall) -- gets a time earlier than its arrival, earlier even than the write it names
// was issued. silence_start is then no upper bound of the moment the write landed (design.md "Power fencing",
// the suspicion bullet), and the silence counted is longer than the real one by the pause: a healthy peer,
// writing on time, is suspected and power-fenced after a LAN cut. The first read (PeerMonitor::first_seen) is
// safe against exactly this pause: its time is that same reading, taken after the reap of the read.
// Fails on 4f7381f: silence_start is 80 ms before beta issued the write it names; alpha suspects the healthy
// beta at S = T after that stamp, announces, takes the probe ahead's "on", powers beta off (confirmed), declares
// it DEAD, and beta's own core fences itself on reading that verdict. Passes with the arrival of each datagram read from the clock after the socket's recv returned
// (LanChannel::receive given the daemon's Clock; the time given to QuorumCore::on_peer_write_heard).
// What held up is listed in the review's report.
//   build/tests/unit_tests -tc='review18*'
#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>

#include "agent/fence_agent.h"
#include "quorumd/power_fencer.h"
#include "tests/support/clock_read_hook_device.h"
#include "tests/support/file_fence_agent.h"
#include "tests/support/inprocess_quorumd.h"
#include "tests/support/scratch.h"

using namespace castor;
using namespace castor::testing;
using namespace std::chrono_literals;

namespace {

std::function<void()> g_review18_after_clock_read;

std::string phase_now(Cluster& c, Node& n) {
  auto j = nlohmann::json::parse(n.daemon->status_json(c.now()), nullptr, false);
  if (j.is_discarded() || !j.contains("power_fence")) return "?";
  return j["power_fence"]["phase"].get<std::string>();
}

}  // namespace

TEST_CASE("review18 finding 1: a datagram drained after the turn's clock read is stamped before it arrived: a healthy peer is power-fenced after a LAN cut") {
  ScratchDir scratch;
  const std::string agent = write_file_fence_agent(scratch.path());
  ClusterOptions o;
  o.with_lan = true;
  o.wrap_device = [](std::unique_ptr<FaultyBlockDevice> dev) {
    return std::unique_ptr<BlockDevice>(std::make_unique<ClockReadHookDevice>(std::move(dev), g_review18_after_clock_read));
  };
  Cluster c{o};
  start_both(c);
  REQUIRE(alpha_fences_beta(c, agent));
  REQUIRE(phase_now(c, c.alpha()) == "idle");

  // T = 100 ms, R = T/2, S = T (a LAN). beta is healthy throughout: it runs every step, its writes complete
  // within a step (far below T/2).
  const Duration S = c.timing().io_timeout;
  const Duration pause = 80ms;  // alpha's quorumd paused right after its turn's clock read (1.6 s at T = 2 s)
  const uint64_t beta_life = c.beta().daemon->core().config().incarnation;
  uint64_t k = 0;
  TimePoint k_issued{}, clock_read{};
  g_review18_after_clock_read = [&] {
    clock_read = c.now();
    uint64_t seen = c.beta().daemon->core().last_ok_written_seq();
    bool fresh = false;
    // beta turns on while alpha is paused; the pause ends right after a heartbeat write of beta completed (its
    // datagram naming it is in alpha's inbox).
    while (c.now() - clock_read < pause || !fresh) {
      c.clock().advance(kStep);
      c.beta().daemon->turn();
      const uint64_t s = c.beta().daemon->core().last_ok_written_seq();
      if (s != seen) {
        seen = s;
        fresh = c.now() - clock_read >= pause;
      }
    }
    k = seen;
    k_issued = *c.beta().daemon->core().last_ok_write_issue();
    c.lan().cut.insert("10.9.1.2");  // then every link is cut (the one fault besides the pause)
  };
  c.step();  // alpha's turn: clock read, pause, then the rest of the turn drains beta's datagram
  REQUIRE(k != 0);
  MESSAGE("beta's write " << k << " issued " << std::chrono::duration_cast<std::chrono::milliseconds>(k_issued - clock_read).count()
                          << " ms after alpha's clock read");

  std::set<std::string> phases;
  bool silence_checked = false, suspected_on_k = false;
  const TimePoint end = c.now() + 3 * S;
  for (int i = 0; c.now() < end; ++i) {
    // The agent is a real process: the first steps wait for it in real time (the fake clock stands still), so
    // that the probe ahead's status is back within the fake time it takes a real BMC (~0.1 s at T = 2 s).
    if (i < 8) std::this_thread::sleep_for(50ms);
    c.step();
    const QuorumCore& a = c.alpha().daemon->core();
    const PeerMonitor& pm = a.peer();
    const bool shows_k = pm.incarnation() == beta_life && pm.seq() == k;
    if (shows_k && !silence_checked) {
      silence_checked = true;
      // design.md: the silence counts from an upper bound of the moment the write landed.
      CHECK_MESSAGE(a.silence_start() >= k_issued, "silence_start is "
                                                      << std::chrono::duration_cast<std::chrono::milliseconds>(k_issued - a.silence_start()).count()
                                                      << " ms before beta even issued the write it names");
    }
    if (shows_k && a.peer_silent_for(S)) suspected_on_k = true;
    phases.insert(phase_now(c, c.alpha()));
  }
  REQUIRE(silence_checked);
  std::string seen;
  for (const auto& p : phases) seen += p + ",";
  MESSAGE("alpha's fencer phases seen: " << seen);
  // beta's block changed every R (writes within a step): a silence of S = 2R it never had.
  CHECK_FALSE(suspected_on_k);
  CHECK(phases.count("announcing") == 0);
  CHECK(phases.count("probing") == 0);
  CHECK(phases.count("powering off") == 0);
  CHECK_FALSE(file_exists(scratch.path() + "/off.pid"));  // the healthy beta's power was never cut
  g_review18_after_clock_read = nullptr;
  c.lan().cut.clear();
}

// Finding 2 (9ae5299): the probe ahead's answer is the round's first status when it says on, and thrown away
// when it says off. design.md "Confirmed.": a device that says off before any off does not power the peer
// (wrong address, swapped plug): the round fails at once and D decides. A probe ahead that said off in the
// silence the round fences IS that device saying off before any off; 4f7381f asks again and, if the second
// status says on (the wrong machine was powered on meanwhile, a BMC answering off and on by turns), goes on
// to the off and can confirm a fence of a machine that is not the peer. The probe picks the answer it likes.
TEST_CASE("review18 finding 2: a probe ahead that said off in the round's silence is an off before the off: the round must not go on to its off") {
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  FenceDeviceConfig dev;
  dev.node = "beta";
  dev.agent = "fence_ipmilan";
  dev.action = FenceAction::off;
  dev.retries = 1;
  dev.settle = milliseconds(500);
  auto exited = [](int code) {
    AgentOutcome o;
    o.exit_code = code;
    o.elapsed = milliseconds(300);
    return o;
  };
  const auto on = interpret_fence_outcome(FenceAgentAction::status, exited(0));
  const auto off = interpret_fence_outcome(FenceAgentAction::status, exited(2));
  const TimePoint silence{seconds(98)};
  auto ahead = [&] {
    FenceSituation s{true, false, false, 7, milliseconds(5), std::nullopt};
    s.probe_ahead = true;
    s.silence_start = silence;
    return s;
  };
  auto suspected = [&] {
    FenceSituation s{true, true, false, 7, milliseconds(5), true};
    s.silence_start = silence;
    return s;
  };
  // Runs the round on from its next action; true if an off was ever started.
  auto reaches_off = [&](PowerFencer& f, std::optional<FenceAgentAction> next, TimePoint t) {
    bool started = false;
    for (int i = 0; i < 6 && f.phase() != PowerFencer::Phase::failed; ++i) {
      if (next == FenceAgentAction::off) return true;
      if (next == FenceAgentAction::status) f.on_result(FenceAgentAction::status, on, t);  // the device now says on
      t += milliseconds(100);
      next = f.tick(suspected(), t, 0, started);
    }
    return false;
  };
  SUBCASE("the probe said off before the round began") {
    PowerFencer f(dev, seconds(10));
    TimePoint t{seconds(100)};
    bool started = false;
    REQUIRE(f.tick(ahead(), t, 0, started) == FenceAgentAction::status);
    f.on_result(FenceAgentAction::status, off, t + milliseconds(100));
    auto next = f.tick(suspected(), t + milliseconds(500), 0, started);
    REQUIRE(started);
    CHECK_FALSE(reaches_off(f, next, t + milliseconds(500)));
  }
  SUBCASE("the round waited on the probe, which said off") {
    PowerFencer f(dev, seconds(10));
    TimePoint t{seconds(100)};
    bool started = false;
    REQUIRE(f.tick(ahead(), t, 0, started) == FenceAgentAction::status);
    REQUIRE_FALSE(f.tick(suspected(), t + milliseconds(50), 0, started));  // the round waits on the probe
    REQUIRE(started);
    f.on_result(FenceAgentAction::status, off, t + milliseconds(100));
    auto next = f.tick(suspected(), t + milliseconds(100), 0, started);
    CHECK_FALSE(reaches_off(f, next, t + milliseconds(100)));
  }
}
