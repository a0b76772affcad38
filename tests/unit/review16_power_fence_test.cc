// Adversarial review of issue 16's power fencing (commits 42f11bd, 71d7ad5). Each test shows one finding of
// the review (report: the h-review16pf branch); they FAIL on the code as reviewed, and state what it should do.
//   build/tests/unit_tests -tc='*review16*'
#include <doctest/doctest.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "agent/fence_agent.h"
#include "config/fence_config.h"
#include "config/quorumd_config.h"
#include "control/control_server.h"
#include "control/json_codec.h"
#include "quorumd/power_fencer.h"
#include "quorumd/quorum_core.h"
#include "tests/support/scratch.h"
#include "tests/support/simulated_core.h"
#include "tools/cli_commands.h"

using namespace castor;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

FenceDeviceConfig beta_device(int retries = 1) {
  FenceDeviceConfig d;
  d.node = "beta";
  d.agent = "fence_ipmilan";
  d.retries = retries;
  d.settle = milliseconds(500);
  return d;
}

FenceAgentResult result(FenceAgentAction a, int exit_code) {
  AgentOutcome o;
  o.exit_code = exit_code;
  o.elapsed = milliseconds(300);
  return interpret_fence_outcome(a, o);
}

// The metadata of an installed fence agent (empty when fence-agents is not installed).
std::string metadata_of(const std::string& agent) {
  const std::string path = "/usr/sbin/" + agent;
  if (access(path.c_str(), X_OK) != 0) return {};
  FenceDeviceConfig d;
  d.node = "beta";
  d.agent = agent;
  auto cmd = fence_agent_command(d, FenceAgentAction::metadata);
  if (!cmd.ok()) return {};
  BootClock clock;
  auto out = run_agent(*cmd, clock);
  if (!out.ok() || out->exit_code != 0) return {};
  return out->output_tail;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// Finding 1 (availability): quorumd/power_fencer.cc. After a confirmed off the fencer sits in `settling` until
// verdict_stood(). When the verdict never comes — the daemon drops the confirmation because this node
// rejoined meanwhile (power_fencing.cc, fence_generation_ != generation_), or the first read after the settle
// returns a life not seen before the fence (peer_monitor.cc: no verdict) — nothing ever leaves `settling`:
// peer_alive() only leaves confirmed/failed, tick() ignores settling, request() refuses "already under way".
// Power fencing is then off for the rest of quorumd's life, `castor fence` included, and with fence_action =
// reboot the node it powered off is never powered on again.
TEST_CASE("review16: a confirmed fence whose verdict never comes must not disable power fencing for good") {
  PowerFencer f(beta_device(), seconds(10));
  TimePoint t{seconds(100)};
  bool started = false;
  const FenceSituation silent{true, true, false, 7, milliseconds(5), true};
  REQUIRE(f.tick(silent, t, 0, started) == FenceAgentAction::status);  // the status before the off: on
  f.on_result(FenceAgentAction::status, result(FenceAgentAction::status, 0), t);
  REQUIRE(f.tick(silent, t, 0, started) == FenceAgentAction::off);
  t += milliseconds(400);
  f.on_result(FenceAgentAction::off, result(FenceAgentAction::off, 0), t);
  REQUIRE(f.tick(silent, t, 0, started) == FenceAgentAction::status);
  t += milliseconds(300);
  f.on_result(FenceAgentAction::status, result(FenceAgentAction::status, 2), t);
  REQUIRE(f.take_confirmed());
  // The daemon drops it (a rejoin in between), or the read after the settle shows incarnation 8, never seen:
  // no verdict_stood(). The node comes back (powered on by its BMC's power-restore policy): UP.
  f.verdict_dropped();  // the daemon tells it (power_fencing.cc)
  f.peer_alive(t + milliseconds(100));  // its new life's heartbeat, first read after the round
  // Much later incarnation 8 goes silent: it must be fenceable again, automatically or by an admin.
  t += seconds(60);
  const FenceSituation silent_again{true, true, false, 8, milliseconds(5), true};
  std::string why;
  CHECK_MESSAGE(f.request("admin request (castor fence)", why), why);
  CHECK_MESSAGE(f.tick(silent_again, t, 0, started) == FenceAgentAction::status,
                "phase: " << std::string(PowerFencer::phase_name(f.phase())));
}

// ---------------------------------------------------------------------------------------------------------
// Finding 2 (availability; the race rule): power_fencer.cc attempt_failed(). A failed attempt queues the next
// `off` at once, and tick() hands it out without looking at the situation again: a node that lost its lease
// (or whose disk failed) between two attempts still powers its peer off — the peer that may just have taken
// the lease and the services. The rule "never fence while its own lease is lost" is checked only at the
// start of a round (and after the delay).
TEST_CASE("review16: a retry of the off re-checks that this node may still fence") {
  PowerFencer f(beta_device(3), seconds(10));
  TimePoint t{seconds(100)};
  bool started = false;
  REQUIRE(f.tick({true, true, false, 7, {}, true}, t, 0, started) == FenceAgentAction::status);
  f.on_result(FenceAgentAction::status, result(FenceAgentAction::status, 0), t);
  REQUIRE(f.tick({true, true, false, 7, {}, true}, t, 0, started) == FenceAgentAction::off);
  t += seconds(20);
  f.on_result(FenceAgentAction::off, result(FenceAgentAction::off, 1), t);  // the BMC did not answer
  // Meanwhile this node's lease lapsed (its disk failed); the peer is heard again on the LAN.
  const FenceSituation lost{false, false, false, 7, {}};
  const auto next = f.tick(lost, t, 0, started);
  CHECK_MESSAGE(!next.has_value(), "a retry of the off was started without a lease: "
                                       << std::string(fence_agent_action_name(*next)));
}

// ---------------------------------------------------------------------------------------------------------
// Finding 3 (availability; safety if the fence is not a real power-off): QuorumCore::peer_silent_for ignores
// the promise floor. Shared storage stall with LAN: x and y keep each other's leases with promises (x raised
// its floor: no DEAD about y before floor + D). x's disk returns a moment before y's (multipath failback, a
// longer queue on y): x's lease is valid, its disk works, y's block is unchanged since before the stall and
// y's LAN datagrams say its disk fails (lan_says_isolated in power_fencing.cc) -> x powers y off at once,
// while y holds a lease x itself extended and runs its services on it. Every shared stall whose end is
// skewed by more than a read period ends with a power-off. docs/design.md says a shared stall fences nobody.
// Fix: count the silence from max(first_seen, dead_floor()) — after the floor y's lease has lapsed anyway.
TEST_CASE("review16: the node whose disk returns first from a shared stall does not fence the peer it promised") {
  using Node = testing::SimulatedCore;
  const Millis T{200};
  const TimePoint start{seconds(100)};
  Node x(1, start), y(2, start);
  x.step_to(start + 2 * T);
  y.step_to(start + 2 * T);
  x.peer_seq = 2;
  y.peer_seq = 2;
  x.step_to(start + 3 * T);
  y.step_to(start + 3 * T);
  REQUIRE(x.core.peer().view() == PeerView::up);
  x.disk_ok = y.disk_ok = false;
  const TimePoint stall = x.t;
  for (TimePoint now = stall; now < stall + 10 * T; now += T / 2) {
    x.step_to(now);
    y.step_to(now);
    for (Node* asker : {&x, &y}) {
      Node& granter = asker == &x ? y : x;
      if (!asker->core.wants_promise(now)) continue;
      auto g = granter.core.grant_promise(asker->core.config().incarnation, now + Millis(1));
      if (!g) continue;
      std::vector<CoreAction> acts;
      asker->core.on_promise(now, *g, now + Millis(2), acts);
      asker->run(acts);
    }
  }
  REQUIRE(x.core.promises_granted() > 0);
  // x's disk returns; y's is still stalled for a moment (its datagrams say so).
  x.disk_ok = true;
  const TimePoint back = x.t;
  REQUIRE(y.core.lease_expiry());
  const TimePoint y_lease_end = *y.core.lease_expiry();  // extended by x's own promises
  // Step x until the first moment it would power-fence y (its lease valid, its disk working, y silent T).
  std::optional<TimePoint> would_fence;
  while (x.t < back + 10 * T && !would_fence) {
    x.step_to(x.t + Millis(10));
    if (x.core.may_power_fence(x.t) && x.core.peer_silent_for(2 * T)) would_fence = x.t;
  }
  REQUIRE(x.core.promises_granted() > 0);
  // Since the rule that the fencer's own disk must have worked the whole time the peer's value stood still,
  // x does not suspect y at all here (y's value stood still since before the stall); if it ever did, never
  // inside the lease its own promise gave y.
  if (!would_fence) return;
  MESSAGE("disk back at +0, x may fence y at +" << format_duration(*would_fence - back) << ", y's lease (x's promise) ends at +"
          << format_duration(y_lease_end - back) << ", x's promise floor at +" << format_duration(x.core.promise_floor() - back));
  CHECK_MESSAGE(*would_fence >= y_lease_end, "x would power y off while y holds the lease x's promise gave it");
  CHECK_MESSAGE(*would_fence >= x.core.promise_floor(), "x would power y off before the end of its own promise");
}

// ---------------------------------------------------------------------------------------------------------
// Finding 4 (security): lib/config/fence_config.cc. Only option.password / option.passwd are refused in
// castor.ini and only keys containing "pass" are masked by describe(). Real agents take other secrets as
// options: fence_aws secret_key/access_key, fence_ibm_vpc apikey, fence_apc_snmp community. They are accepted
// in castor.ini (which may be mode 0644: trusted_path only forbids writes by others), pass the metadata
// check, and describe() puts them in quorumd's start-up log ("power fencing of the peer configured"), in
// status JSON (power_fence.peer_levels / own_levels) and in `castor fence-check`'s output.
TEST_CASE("review16: secrets other than the password never show in describe() (log, status, fence-check)") {
  const char* ini = R"([fence beta]
agent = fence_aws
option.plug = i-0123456789abcdef0
option.region = eu-west-1
option.access_key = AKIAREVIEW16ACCESS
option.secret_key = REVIEW16-SECRET-KEY
)";
  auto devs = parse_fence_sections(ini, "castor.ini");
  REQUIRE_MESSAGE(devs.ok(), devs.status().to_string());
  const std::string d = (*devs)[0].describe();
  CHECK_MESSAGE(!has(d, "REVIEW16-SECRET-KEY"), d);
  const std::string xml = metadata_of("fence_aws");
  if (!xml.empty()) {  // the real agent takes it: the metadata check does not stop it
    CHECK(check_fence_options((*devs)[0], parse_fence_metadata_parameters(xml)).ok());
  }
  const char* snmp = R"([fence beta]
agent = fence_apc_snmp
option.ip = 192.0.2.7
option.plug = 3
option.community = REVIEW16-COMMUNITY
)";
  auto s = parse_fence_sections(snmp, "castor.ini");
  REQUIRE(s.ok());
  CHECK_MESSAGE(!has((*s)[0].describe(), "REVIEW16-COMMUNITY"), (*s)[0].describe());
}

// ---------------------------------------------------------------------------------------------------------
// Finding 5 (SAFETY): quorumd/power_fencing.cc setup_power_fence / tools/cmd_fence.cc. Any fence-agents program
// is accepted as a POWER fence. fence_scsi and fence_mpath are fabric fences: `off` removes the node's
// SCSI-3 reservation key and `status` exits 2 ("off") once the key is gone — the node keeps running, its
// processes, addresses and services included. quorumd would take the confirmation as a power-off and take
// over at once: two nodes running a service. Their metadata says so (<action name="on" on_target="1"
// automatic="1"/>: unfencing). fence_dummy, fence_ack_manual, fence_kdump, fence_heuristics_ping are not
// power fences either.
TEST_CASE("review16: a fabric fence (fence_scsi, fence_mpath) is never accepted as a power fence") {
  for (const std::string agent : {"fence_scsi", "fence_mpath"}) {
    const std::string xml = metadata_of(agent);
    if (xml.empty()) {
      MESSAGE(agent << " not installed: skipped");
      continue;
    }
    FenceDeviceConfig d = beta_device();
    d.agent = agent;
    d.options = {{"devices", "/dev/sdb"}, {"plug", "beta"}};
    CHECK_MESSAGE(!check_fence_options(d, parse_fence_metadata_parameters(xml)).ok(),
                  agent << " passes quorumd's start-up check as a power fence");
  }
}

// ---------------------------------------------------------------------------------------------------------
// Finding 6 (safety of the admin's intent: the wrong machine powered off): tools/cmd_fence.cc. The CLI checks
// NODE against castor.ini's own `node`, which is optional there (quorumd takes --node; a castor.ini shared by
// both nodes, as the harness's FENCE=1 gives, has both [fence NODE] sections). Then `castor fence alpha` run
// ON alpha asks "Power off alpha now?" and sends "fence-peer": alpha's quorumd powers off beta — the healthy
// node the admin meant to keep — and reports "alpha: powered off (confirmed)". The verb names no target, so
// quorumd cannot refuse. Fix: send "fence-peer NODE" and have quorumd refuse unless NODE is its peer.
namespace {

class FenceQuorumd : ControlServer::Handler {
 public:
  explicit FenceQuorumd(const std::string& path) {
    auto s = ControlServer::listen(path);
    REQUIRE_MESSAGE(s.ok(), s.status().to_string());
    server_ = std::move(*s);
    thread_ = std::thread([this] {
      while (!stop_) {
        server_->process(*this);
        pollfd p{server_->fd(), POLLIN, 0};
        (void)::poll(&p, 1, 5);
      }
    });
  }
  ~FenceQuorumd() {
    stop_ = true;
    thread_.join();
  }
  std::vector<std::string> fence_requests() {
    std::lock_guard<std::mutex> g(mu_);
    return fences_;
  }

 private:
  void on_request(ControlServer::ConnId conn, const ControlRequest& req) override {
    if (req.verb == "status") {
      std::lock_guard<std::mutex> g(mu_);
      json_codec::Json pf{{"fences", int64_t(fences_.size())}, {"failures", 0}};
      if (!fences_.empty())
        pf["last"] = json_codec::Json{{"target", "beta"}, {"confirmed", true}, {"took_ms", 1200}, {"result", "off: done"}};
      server_->reply(conn, json_codec::dump(json_codec::Json{{"node", {{"name", "alpha"}}}, {"power_fence", pf}}));
    } else if (req.verb == "fence-peer") {
      {
        std::lock_guard<std::mutex> g(mu_);
        fences_.push_back(req.args);  // alpha's quorumd: its peer is beta
      }
      server_->reply(conn, json_codec::dump(json_codec::Json{{"ok", true}, {"message", "fencing beta"}}));
    } else {
      server_->reply_error(conn, "not this verb", false);
    }
  }
  std::mutex mu_;
  std::vector<std::string> fences_;
  std::unique_ptr<ControlServer> server_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace

TEST_CASE("review16: castor fence NODE never powers off another node than NODE (a castor.ini without node=)") {
  testing::ScratchDir dir;
  const std::string ini = dir.file("castor.ini");
  {
    std::ofstream f(ini);
    f << "[quorumd]\ndevice = /dev/sdb\n\n"
         "[fence alpha]\nagent = fence_ipmilan\noption.ip = 192.0.2.1\n\n"
         "[fence beta]\nagent = fence_ipmilan\noption.ip = 192.0.2.2\n";
  }
  FenceQuorumd q(dir.file("q.sock"));  // alpha's quorumd (started with --node alpha)
  std::ostringstream captured;
  std::streambuf* old = std::cout.rdbuf(captured.rdbuf());
  const int rc = cmd_fence({"alpha", "--yes", "--config", ini, "--socket", dir.file("q.sock")});
  std::cout.rdbuf(old);
  const auto sent = q.fence_requests();
  // Either refused before anything is sent, or the request names alpha so that quorumd can refuse it.
  bool fenced_the_peer_instead = false;
  for (const std::string& args : sent)
    if (!has(args, "alpha")) fenced_the_peer_instead = true;
  CHECK_MESSAGE(!fenced_the_peer_instead, "rc " << rc << "; castor printed:\n" << captured.str());
}

// ---------------------------------------------------------------------------------------------------------
// Finding 7 (SAFETY against a misconfigured device; a recommendation): power_fencer.cc starts a round with
// `off`. A device that points at the wrong machine — a wrong BMC address, a swapped plug — that is already
// off answers off: done (fence-agents: off of an off machine succeeds) and status: off, so the peer, alive
// and maybe disk-isolated with a valid lease for up to F, is declared dead after the settle: two nodes run
// the services. Castor cannot prove which machine a BMC powers, but it can refuse to trust a device that
// says "off" before its own off: a `status` first, and a fence whose target was already off before the off
// does not take the fast path (the dead time D decides). (The periodic check belongs beside it: a device
// whose status says off while the peer's heartbeat changes is misconfigured — alarm and disable the level.)
TEST_CASE("review16: a device that says the peer is off before the off is not a confirmed fence") {
  PowerFencer f(beta_device(0), seconds(10));
  TimePoint t{seconds(100)};
  bool started = false;
  const FenceSituation silent{true, true, false, 7, milliseconds(5), true};
  auto a = f.tick(silent, t, 0, started);
  REQUIRE(a);
  if (*a == FenceAgentAction::off) {
    // The wrong, already-off machine: off succeeds, status says off.
    f.on_result(FenceAgentAction::off, result(FenceAgentAction::off, 0), t + milliseconds(100));
    REQUIRE(f.tick(silent, t, 0, started) == FenceAgentAction::status);
    f.on_result(FenceAgentAction::status, result(FenceAgentAction::status, 2), t + milliseconds(200));
    CHECK_MESSAGE(false, "no status before the off: a device that was off all along confirms a fence it never did");
  } else {
    CHECK(*a == FenceAgentAction::status);
    f.on_result(FenceAgentAction::status, result(FenceAgentAction::status, 2), t + milliseconds(100));
    CHECK_FALSE(f.take_confirmed());
  }
}
