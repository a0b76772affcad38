// Power fencing against a stale clock reading (the adversarial review of stop 38). QuorumDaemon::step()
// reads the clock once, right after io_getevents; fence_step ran later in the same turn with that reading,
// while the fence agent -- a process of its own -- runs on when quorumd is paused. Two defects followed:
//  1. the end of the `off` was recorded at the turn's reading: an off that ended during a pause of quorumd
//     after that reading looked ended before the pause, and the settle (counted from the end of the off) was
//     shortened by the pause -- removed by one at least as long as the settle;
//  2. whether this node may fence was looked at with the turn's reading before an off was started: a node
//     without a watchdog paused between its probe and its off started the off on resuming, its lease long
//     gone, after the healthy peer had yielded to its intent (both nodes down).
//  3. (the review of that fix) an admin's round (`castor fence`, announced) skipped the check before its off
//     altogether: the same pause, the same result.
// All now use a clock read after the agent's reap / just before the next action. The "pause" is the test
// device's hook right after the turn's clock read (reap_with_clock), advancing the fake clock.
//   build/tests/unit_tests -tc='fence stale clock*'
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

#include "tests/support/clock_read_hook_device.h"
#include "tests/support/file_fence_agent.h"
#include "tests/support/scratch.h"
#include "tests/support/inprocess_quorumd.h"

using namespace castor;
using namespace castor::testing;
using namespace std::chrono_literals;

namespace {

// The hook runs right after the daemon's clock read of a turn (reap_with_clock), i.e. a freeze of quorumd
// between that read and the rest of the turn.
std::function<void()> g_after_clock_read;




std::string phase(Cluster& c) { return fence_phase(c, c.alpha()); }

// One turn. While alpha's fence agent runs (a real process: its start takes real time, more on a loaded
// machine), real time passes and the fake clock stands still, alpha alone turning: otherwise the dead time D
// (600 ms of fake time) could run out while a shell script starts, and a DEAD verdict on D would stand in
// for the fence the test is about.
void turn_cluster(Cluster& c) {
  const std::string p = phase(c);
  if (p == "probing" || p == "powering off" || p == "checking") {
    std::this_thread::sleep_for(2ms);
    c.alpha().daemon->turn();
    c.alpha().daemon->serve_control();
    return;
  }
  c.step();
}

pid_t read_pid(const std::string& path) {
  pid_t p = 0;
  std::ifstream f(path);
  f >> p;
  return p;
}

}  // namespace

TEST_CASE("fence stale clock: quorumd paused after its clock read while the off ends: the settle still counts from the off's end") {
  ScratchDir scratch;
  const std::string dir = scratch.path();
  const std::string agent = write_file_fence_agent(dir);

  ClusterOptions o;
  o.wrap_device = [](std::unique_ptr<FaultyBlockDevice> dev) {
    return std::unique_ptr<BlockDevice>(std::make_unique<ClockReadHookDevice>(std::move(dev), g_after_clock_read));
  };
  Cluster c{o};
  start_both(c);

  // alpha power-fences beta. T = 100 ms here (F = 300 ms, D = 600 ms, S = 2T = 200 ms); settle 100 ms.
  const FenceDeviceConfig dev = file_fence_device("beta", agent);
  std::ofstream(dir + "/hold-off").close();  // its off is done when the test lets it go
  c.alpha().config.fence.push_back(dev);
  REQUIRE(c.restart(c.alpha()).ok());
  REQUIRE(c.run_until([&] { return has_lease(c, c.alpha()) && sees(c.alpha(), PeerView::up) && sees(c.beta(), PeerView::up); }, 5s));
  REQUIRE(phase(c) == "idle");

  // beta's quorumd freezes: alpha suspects it after S, announces, looks, runs status (on), then off.
  c.beta().running = false;
  // Steps, letting the agent's short actions finish in (almost) no fake time.
  auto turn = [&] { turn_cluster(c); };
  const TimePoint end = c.now() + 5s;
  while (!file_exists(dir + "/off.pid") && c.now() < end) turn();
  REQUIRE(file_exists(dir + "/off.pid"));
  pid_t off_pid = 0;
  {
    std::ifstream f(dir + "/off.pid");
    f >> off_pid;
  }
  REQUIRE(off_pid > 0);
  c.step();  // the loop turns once more while the off runs
  REQUIRE(phase(c) == "powering off");

  // The next turn of alpha: its clock read, then quorumd is frozen for 150 ms (fake time), and during the
  // freeze the agent's off returns (power confirmed off by the BMC at that moment).
  const Duration freeze = 150ms;
  std::optional<TimePoint> off_ended, clock_read;
  g_after_clock_read = [&] {
    clock_read = c.now();
    c.clock().advance(freeze);
    std::filesystem::remove(dir + "/hold-off");
    siginfo_t si{};
    REQUIRE(::waitid(P_PID, id_t(off_pid), &si, WEXITED | WNOWAIT) == 0);  // the off has exited (not reaped)
    off_ended = c.now();
  };
  c.step();
  REQUIRE(off_ended.has_value());

  // Then the confirming status, and the verdict.
  const TimePoint end2 = c.now() + 3s;
  while (!sees(c.alpha(), PeerView::dead) && c.now() < end2) turn();
  REQUIRE(sees(c.alpha(), PeerView::dead));
  const TimePoint verdict_read = c.alpha().daemon->core().peer().confirmed_read_issued();
  const auto st = c.status(c.alpha())["power_fence"];
  MESSAGE("power_fence: " << st.dump());
  MESSAGE("the off ended " << std::chrono::duration_cast<std::chrono::milliseconds>(*off_ended - *clock_read).count()
                               << " ms after alpha's clock read; the verdict read was issued "
                               << std::chrono::duration_cast<std::chrono::milliseconds>(verdict_read - *off_ended).count()
                               << " ms after the off ended (settle " << 100 << " ms)");
  CHECK(st["last"]["confirmed"] == true);
  // The property: the first read that may declare beta dead is issued no earlier than the settle after the
  // end of the off.
  CHECK(verdict_read >= *off_ended + dev.settle);
}

// Defect 2: the checks before an `off` is started (PowerFencer::tick's re-check of may_fence and the suspicion
// in probing/powering_off, the fix of review16b's "frozen fencer") were made with the turn's `now`, and the off
// was spawned at the end of that turn. A node
// WITHOUT a watchdog (allowed with a [fence] for it) whose quorumd freezes after its clock read, while its probe
// `status` comes back, starts the off whenever it resumes -- its lease long gone, its disk view stale -- as long
// as the freeze is shorter than the agent's timeout_s (the off's deadline also counts from the stale clock; a
// longer freeze has it SIGTERMed at the next turn). Meanwhile the healthy peer yielded to its intent. The rule
// "only a node that holds its lease and whose disk works fences" does not hold; the result is both nodes down
// (the fencer's own services are killed at its lease end, the peer is powered off).
TEST_CASE("fence stale clock: a fencer without a watchdog paused between its probe and its off does not power its peer off once its lease ended") {
  ScratchDir scratch_alpha, scratch_beta;  // alpha's power, beta's power (each fenced by the other's agent)
  const std::string dir_alpha = scratch_alpha.path(), dir_beta = scratch_beta.path();

  ClusterOptions o;
  o.wrap_device = [](std::unique_ptr<FaultyBlockDevice> dev) {
    return std::unique_ptr<BlockDevice>(std::make_unique<ClockReadHookDevice>(std::move(dev), g_after_clock_read));
  };
  Cluster c{o};
  start_both(c);

  REQUIRE(fence_each_other(c, dir_alpha, dir_beta, 10s));
  REQUIRE(fence_phase(c, c.alpha()) == "idle");
  REQUIRE(fence_phase(c, c.beta()) == "idle");

  // beta's quorumd pauses just long enough for alpha to suspect it (S = 2T) -- not long enough to lose its lease.
  // beta's BMC is slow to answer a status (held): alpha's first status, asked ahead of the suspicion, is still
  // out when its round begins, which then waits for that answer before its off.
  std::ofstream(dir_beta + "/hold").close();
  c.beta().running = false;
  const TimePoint paused = c.now();
  auto turn = [&] { turn_cluster(c); };
  while (phase(c) != "probing" && c.now() < paused + 2s) turn();
  REQUIRE(phase(c) == "probing");  // alpha announced, looked (clear), and its status is out (held)
  MESSAGE("alpha's probe started " << std::chrono::duration_cast<std::chrono::milliseconds>(c.now() - paused).count()
                                   << " ms after beta paused");

  // alpha's next turn: its clock read, then alpha's quorumd is frozen for 1 s (its lease F = 300 ms). Meanwhile
  // its status returns (on) and beta resumes and runs on (it yields to alpha's intent; alpha has no watchdog, so
  // no DEAD on D).
  std::optional<TimePoint> alpha_froze, alpha_resumed, alpha_lease_end;
  g_after_clock_read = [&] {
    alpha_froze = c.now();
    alpha_lease_end = c.alpha().daemon->core().lease_expiry();
    std::filesystem::remove(dir_beta + "/hold");  // the BMC answers while alpha is frozen
    for (int i = 0; i < 1000 && !file_exists(dir_beta + "/status.pid"); ++i) std::this_thread::sleep_for(1ms);
    siginfo_t si{};
    REQUIRE(::waitid(P_PID, id_t(read_pid(dir_beta + "/status.pid")), &si, WEXITED | WNOWAIT) == 0);
    c.beta().running = true;
    const TimePoint until = c.now() + 1s;
    while (c.now() < until) {
      c.clock().advance(kStep);
      c.beta().daemon->turn();
      c.beta().daemon->serve_control();
    }
    alpha_resumed = c.now();
  };
  c.step();
  REQUIRE(alpha_resumed.has_value());
  REQUIRE(alpha_lease_end.has_value());
  MESSAGE("beta while alpha was frozen: " << c.status(c.beta())["power_fence"]["phase"].dump() << ", has lease "
                                          << has_lease(c, c.beta()) << ", sees alpha "
                                          << std::string(sees(c.beta(), PeerView::up) ? "UP" : "not UP"));
  for (int i = 0; i < 200 && !file_exists(dir_beta + "/off"); ++i) {
    turn();
    std::this_thread::sleep_for(1ms);
  }
  const bool alpha_powered_beta_off = file_exists(dir_beta + "/off");
  MESSAGE("alpha froze " << std::chrono::duration_cast<std::chrono::milliseconds>(*alpha_lease_end - *alpha_froze).count()
                         << " ms before its lease end and resumed "
                         << std::chrono::duration_cast<std::chrono::milliseconds>(*alpha_resumed - *alpha_lease_end).count()
                         << " ms after it; alpha's core now: " << std::string(core_phase_name(c.alpha().daemon->core().phase()))
                         << "; alpha's fence of beta: " << c.status(c.alpha())["power_fence"]["last"].dump());
  CHECK_FALSE(alpha_powered_beta_off);
  // ...because the round stopped before its off, for that reason (not some other way).
  const auto last = c.status(c.alpha())["power_fence"]["last"];
  CHECK_MESSAGE((last.is_object() && last.value("result", std::string()).find("not carried on: this node may no "
                                                                               "longer fence") != std::string::npos),
                last.dump());

}

// Defect 3 (the review of the fix): an admin's `castor fence beta` (without --force) on a node without a watchdog, paused between its
// probe `status` and its `off`: the off is started on resuming although its lease ended during the pause.
// PowerFencer::tick re-checks may_fence before an off only for automatic rounds (`!admin_round_`), and the
// daemon's fresh `checked` reading is therefore never looked at for an admin round. The admin's command was
// accepted only because alpha held a lease (admin_fence: may_act); beta yields to alpha's announced intent
// meanwhile. Same schedule as the fix's defect 2, with the round started by the admin.
TEST_CASE("fence stale clock: an admin fence round paused between its probe and its off does not power the peer off once its lease ended") {
  ScratchDir scratch_alpha, scratch_beta;  // alpha's power, beta's power (each fenced by the other's agent)
  const std::string dir_alpha = scratch_alpha.path(), dir_beta = scratch_beta.path();

  ClusterOptions o;
  o.wrap_device = [](std::unique_ptr<FaultyBlockDevice> dev) {
    return std::unique_ptr<BlockDevice>(std::make_unique<ClockReadHookDevice>(std::move(dev), g_after_clock_read));
  };
  Cluster c{o};
  start_both(c);

  REQUIRE(fence_each_other(c, dir_alpha, dir_beta, 10s));

  // The admin, on alpha (which holds its lease): castor fence beta (announced, not --force).
  Client admin(c.alpha().socket);
  const auto reply = c.ask(admin, "fence-peer beta");
  MESSAGE("castor fence beta: " << reply.dump());
  REQUIRE(reply.value("ok", false));
  auto turn = [&] { turn_cluster(c); };
  const TimePoint asked = c.now();
  while (phase(c) != "probing" && c.now() < asked + 2s) turn();
  REQUIRE(phase(c) == "probing");

  // alpha's next turn: its clock read, then alpha's quorumd is frozen for 1 s (F = 300 ms). Its status returns
  // (on); beta runs on and yields to alpha's announced intent.
  std::optional<TimePoint> alpha_froze, alpha_resumed, alpha_lease_end;
  g_after_clock_read = [&] {
    alpha_froze = c.now();
    alpha_lease_end = c.alpha().daemon->core().lease_expiry();
    std::filesystem::remove(dir_beta + "/hold");  // the BMC answers while alpha is frozen
    for (int i = 0; i < 1000 && !file_exists(dir_beta + "/status.pid"); ++i) std::this_thread::sleep_for(1ms);
    siginfo_t si{};
    REQUIRE(::waitid(P_PID, id_t(read_pid(dir_beta + "/status.pid")), &si, WEXITED | WNOWAIT) == 0);
    const TimePoint until = c.now() + 1s;
    while (c.now() < until) {
      c.clock().advance(kStep);
      c.beta().daemon->turn();
      c.beta().daemon->serve_control();
    }
    alpha_resumed = c.now();
  };
  c.step();
  REQUIRE(alpha_resumed.has_value());
  REQUIRE(alpha_lease_end.has_value());
  MESSAGE("beta while alpha was frozen: fencer " << c.status(c.beta())["power_fence"]["phase"].dump()
                                                 << ", has lease " << has_lease(c, c.beta()));
  for (int i = 0; i < 200 && !file_exists(dir_beta + "/off"); ++i) {
    turn();
    std::this_thread::sleep_for(1ms);
  }
  const bool alpha_powered_beta_off = file_exists(dir_beta + "/off");
  MESSAGE("alpha's lease ended " << std::chrono::duration_cast<std::chrono::milliseconds>(*alpha_lease_end - *alpha_froze).count()
                                 << " ms after its clock read; it resumed "
                                 << std::chrono::duration_cast<std::chrono::milliseconds>(*alpha_resumed - *alpha_lease_end).count()
                                 << " ms after its lease end; beta powered off by alpha: " << alpha_powered_beta_off
                                 << "; alpha's core now: " << std::string(core_phase_name(c.alpha().daemon->core().phase()))
                                 << "; alpha's fence: " << c.status(c.alpha())["power_fence"]["last"].dump());
  CHECK_FALSE(alpha_powered_beta_off);
  // ...because the round stopped before its off, for that reason (not some other way).
  const auto last = c.status(c.alpha())["power_fence"]["last"];
  CHECK_MESSAGE((last.is_object() && last.value("result", std::string()).find("not carried on: this node may no "
                                                                               "longer fence") != std::string::npos),
                last.dump());

}

// The same rule at the request: an admin's announced fence is refused while this node holds its lease but
// its own disk does not work (the round would stop before its off anyway, after its announce had made the
// peer yield); --force is the way around it.
TEST_CASE("fence stale clock: castor fence is refused while this node's own heartbeat writes fail, lease or not") {
  ScratchDir scratch;
  const std::string dir = scratch.path();
  Cluster c;
  start_both(c);
  c.alpha().config.fence.push_back(file_fence_device("beta", write_file_fence_agent(dir)));
  REQUIRE(c.restart(c.alpha()).ok());
  REQUIRE(c.run_until([&] { return has_lease(c, c.alpha()) && sees(c.alpha(), PeerView::up); }, 5s));
  c.alpha().env->faulty()->fail_all();
  const QuorumCore& core = c.alpha().daemon->core();
  REQUIRE(c.run_until([&] { return !core.may_power_fence(c.now()); }, 1s));
  REQUIRE(core.may_act(c.now()));  // the lease still runs
  Client admin(c.alpha().socket);
  const auto reply = c.ask(admin, "fence-peer beta");
  MESSAGE(reply.dump());
  CHECK_FALSE(reply.value("ok", true));
  CHECK(reply.value("error", std::string()).find("may not fence now") != std::string::npos);
  CHECK_FALSE(file_exists(dir + "/status.pid"));  // no agent was run
  c.alpha().env->faulty()->pass_all();
}
