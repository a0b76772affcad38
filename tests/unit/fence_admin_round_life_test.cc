// An admin's fence round belongs to the life of the core that accepted it (the adversarial review of 8bc122c:
// the check before the off looked at the CURRENT core only). An admin's announced round whose node lost its lease
// while the probe `status` ran (here: quorumd frozen, no watchdog; a storage stall does the same) is carried
// on after the daemon rejoined with a new life: the new core holds a lease, so the off goes ahead, although
// the round's announce/look and the admin's acceptance belonged to the lapsed life, and the daemon then drops
// the confirmed off's verdict (fence_generation_ != generation_): the healthy peer is off and its services are
// not taken over (for D; never for a peer without a watchdog).
// Now a round that reached its probe in an earlier life is not carried on.
//   build/tests/unit_tests -tc='fence admin round*'
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

#include "tests/support/clock_read_hook_device.h"
#include "tests/support/inprocess_quorumd.h"

using namespace castor;
using namespace castor::testing;
using namespace std::chrono_literals;

namespace {

std::function<void()> g_hook;


bool exists(const std::string& p) { return ::access(p.c_str(), F_OK) == 0; }

// status: held while $D/hold exists (a slow BMC), and after the off while $D/hold-confirm exists (a slow
// confirmation); then on (0) until the off ran, then off (2).
std::string write_agent(const std::string& dir) {
  const std::string path = dir + "/fence_slow";
  std::ofstream f(path);
  f << "#!/bin/sh\n"
       "D=" << dir << "\n"
       "action=\n"
       "while IFS= read -r line; do case \"$line\" in action=*) action=${line#action=};; esac; done\n"
       "case \"$action\" in\n"
       "metadata) echo '<?xml version=\"1.0\" ?><resource-agent name=\"fence_slow\"><parameters>"
       "<parameter name=\"ip\" unique=\"0\"><content type=\"string\"/></parameter></parameters><actions>"
       "<action name=\"on\"/><action name=\"off\"/><action name=\"status\"/><action name=\"metadata\"/>"
       "</actions></resource-agent>'; exit 0;;\n"
       "status) while [ -e $D/hold ] || { [ -e $D/off ] && [ -e $D/hold-confirm ]; }; do sleep 0.005; done\n"
       "  if [ -e $D/off ]; then exit 2; else exit 0; fi;;\n"
       "off) : > $D/off; exit 0;;\n"
       "on) rm -f $D/off; exit 0;;\n"
       "esac\n"
       "exit 1\n";
  f.close();
  ::chmod(path.c_str(), 0755);
  return path;
}

std::string phase(Cluster& c, Node& n) { return c.status(n)["power_fence"]["phase"].get<std::string>(); }

}  // namespace

TEST_CASE("fence admin round: an admin round whose life lost its lease during the probe is not carried on by the next life") {
  char ta[] = "/tmp/castor-fence-admin-life-a-XXXXXX";
  char tb[] = "/tmp/castor-fence-admin-life-b-XXXXXX";
  REQUIRE(::mkdtemp(ta) != nullptr);
  REQUIRE(::mkdtemp(tb) != nullptr);
  const std::string dir_alpha = ta, dir_beta = tb;

  ClusterOptions o;
  o.wrap_device = [](std::unique_ptr<FaultyBlockDevice> dev) {
    return std::unique_ptr<BlockDevice>(std::make_unique<ClockReadHookDevice>(std::move(dev), g_hook));
  };
  Cluster c{o};
  start_both(c);
  auto device = [](const std::string& node, const std::string& agent) {
    FenceDeviceConfig d;
    d.node = node;
    d.agent = agent;
    d.retries = 0;
    d.timeout = 30s;
    d.settle = 100ms;
    d.file = "castor.ini";
    d.line = node == "alpha" ? 1 : 10;
    return d;
  };
  const auto fence_alpha = device("alpha", write_agent(dir_alpha));
  const auto fence_beta = device("beta", write_agent(dir_beta));
  for (Node* n : {&c.beta(), &c.alpha()}) n->config.fence = {fence_alpha, fence_beta};
  c.alpha().config.watchdog_device = "none";
  REQUIRE(c.restart(c.beta()).ok());
  REQUIRE(c.restart(c.alpha()).ok());
  REQUIRE(c.run_until([&] {
    return has_lease(c, c.alpha()) && has_lease(c, c.beta()) && sees(c.alpha(), PeerView::up) &&
           sees(c.beta(), PeerView::up) && c.beta().daemon->core().peer().no_dead_time();
  }, 5s));

  std::ofstream(dir_beta + "/hold").close();  // beta's BMC is slow to answer the probe
  Client admin(c.alpha().socket);
  const auto reply = c.ask(admin, "fence-peer beta");
  REQUIRE(reply.value("ok", false));
  const uint64_t life1 = c.alpha().daemon->core().config().incarnation;
  REQUIRE(c.run_until([&] { return phase(c, c.alpha()) == "probing"; }, 1s));

  // alpha's quorumd freezes 1 s (F = 300 ms) while its probe is out; beta runs on (and yields to the intent).
  g_hook = [&] {
    const TimePoint until = c.now() + 1s;
    while (c.now() < until) {
      c.clock().advance(10ms);
      c.beta().daemon->turn();
      c.beta().daemon->serve_control();
    }
  };
  c.step();
  // alpha resumes: its lapsed life is fenced, it rejoins with a new life and a new lease; the probe is still out.
  REQUIRE(c.run_until([&] {
    return c.alpha().daemon->core().config().incarnation != life1 && has_lease(c, c.alpha());
  }, 3s));
  MESSAGE("alpha rejoined (new life holds a lease); its fencer: " << phase(c, c.alpha())
                                                                   << "; beta has lease " << has_lease(c, c.beta()));
  REQUIRE(phase(c, c.alpha()) == "probing");
  std::filesystem::remove(dir_beta + "/hold");  // the BMC answers: on
  for (int i = 0; i < 400 && !exists(dir_beta + "/off"); ++i) {
    c.step();
    std::this_thread::sleep_for(1ms);
  }
  const bool beta_off = exists(dir_beta + "/off");
  for (int i = 0; i < 100; ++i) c.step();
  MESSAGE("beta powered off by alpha's new life: " << beta_off << "; alpha's fence: "
                                                   << c.status(c.alpha())["power_fence"]["last"].dump()
                                                   << "; alpha's fencer now: " << phase(c, c.alpha())
                                                   << "; alpha sees beta dead: " << sees(c.alpha(), PeerView::dead));
  CHECK_FALSE(beta_off);

  std::error_code ec;
  std::filesystem::remove_all(dir_alpha, ec);
  std::filesystem::remove_all(dir_beta, ec);
}

// The review of 256238c: a rejoin of this node between the off and its confirmation (here quorumd frozen 1 s
// while the confirming status is out: its lease lapses, it is fenced and rejoins) dropped the confirmed
// verdict ("the dead time decides"). For a peer without a watchdog the dead time never decides, a core that
// never saw it up never suspects it, and every later round fails at its first status ("off before the off"):
// its services were never taken over. The new core now takes the verdict over, on the life the fence began for.
TEST_CASE("fence admin round: a fence confirmed after this node rejoined still declares the fenced life dead (a peer without a watchdog)") {
  char ta[] = "/tmp/castor-fence-admin-confirm-a-XXXXXX";
  char tb[] = "/tmp/castor-fence-admin-confirm-b-XXXXXX";
  REQUIRE(::mkdtemp(ta) != nullptr);
  REQUIRE(::mkdtemp(tb) != nullptr);
  const std::string dir_alpha = ta, dir_beta = tb;

  ClusterOptions o;
  o.wrap_device = [](std::unique_ptr<FaultyBlockDevice> dev) {
    return std::unique_ptr<BlockDevice>(std::make_unique<ClockReadHookDevice>(std::move(dev), g_hook));
  };
  Cluster c{o};
  start_both(c);
  auto device = [](const std::string& node, const std::string& agent) {
    FenceDeviceConfig d;
    d.node = node;
    d.agent = agent;
    d.retries = 0;
    d.timeout = 30s;
    d.settle = 100ms;
    d.file = "castor.ini";
    d.line = node == "alpha" ? 1 : 10;
    return d;
  };
  const auto fence_alpha = device("alpha", write_agent(dir_alpha));
  const auto fence_beta = device("beta", write_agent(dir_beta));
  for (Node* n : {&c.beta(), &c.alpha()}) n->config.fence = {fence_alpha, fence_beta};
  c.alpha().config.watchdog_device = "none";
  c.beta().config.watchdog_device = "none";
  REQUIRE(c.restart(c.beta()).ok());
  REQUIRE(c.restart(c.alpha()).ok());
  REQUIRE(c.run_until([&] {
    return has_lease(c, c.alpha()) && has_lease(c, c.beta()) && sees(c.alpha(), PeerView::up) &&
           sees(c.beta(), PeerView::up) && c.alpha().daemon->core().peer().no_dead_time();
  }, 5s));

  std::ofstream(dir_beta + "/hold-confirm").close();  // beta's BMC is slow to confirm the off
  Client admin(c.alpha().socket);
  const auto reply = c.ask(admin, "fence-peer beta");
  REQUIRE(reply.value("ok", false));
  const uint64_t life1 = c.alpha().daemon->core().config().incarnation;
  for (int i = 0; i < 2000 && !exists(dir_beta + "/off"); ++i) {
    c.step();
    std::this_thread::sleep_for(1ms);
  }
  REQUIRE(exists(dir_beta + "/off"));
  c.beta().running = false;  // beta's power is off
  REQUIRE(c.run_until([&] { return phase(c, c.alpha()) == "checking"; }, 1s));

  // alpha's quorumd freezes 1 s while the confirming status is out.
  g_hook = [&] { c.clock().advance(1s); };
  c.step();
  REQUIRE(c.run_until([&] {
    return c.alpha().daemon->core().config().incarnation != life1 && has_lease(c, c.alpha());
  }, 5s));
  MESSAGE("alpha rejoined; its fencer: " << phase(c, c.alpha()));
  std::filesystem::remove(dir_beta + "/hold-confirm");  // the BMC confirms: off
  for (int i = 0; i < 400 && phase(c, c.alpha()) == "checking"; ++i) {
    c.step();
    std::this_thread::sleep_for(1ms);
  }
  MESSAGE("after the confirmation: alpha's fencer " << phase(c, c.alpha()) << "; last "
                                                     << c.status(c.alpha())["power_fence"]["last"].dump());
  // Many dead times (D = 600 ms) and fence rounds later: is beta, whose power is off, ever declared dead?
  bool dead = false;
  for (int i = 0; i < 6000 && !dead; ++i) {
    c.step();
    if (i % 10 == 0) std::this_thread::sleep_for(1ms);
    dead = sees(c.alpha(), PeerView::dead);
  }
  MESSAGE("alpha's fencer at the end: " << phase(c, c.alpha()) << "; last "
                                        << c.status(c.alpha())["power_fence"]["last"].dump() << "; failures "
                                        << c.status(c.alpha())["power_fence"]["failures"].dump());
  MESSAGE("alpha sees beta: " << c.status(c.alpha())["peer"].dump());
  CHECK(dead);
  std::error_code ec;
  std::filesystem::remove_all(dir_alpha, ec);
  std::filesystem::remove_all(dir_beta, ec);
}
