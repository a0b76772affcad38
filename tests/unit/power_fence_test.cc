// Power fencing (issue 16), the pure parts: [fence NODE] parsing, the fence-agents stdin contract and exit
// codes, the metadata check, the PowerFencer's rules, and the PeerMonitor's verdict on a confirmed fence.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "agent/fence_agent.h"
#include "config/fence_config.h"
#include "config/quorumd_config.h"
#include "quorumd/peer_monitor.h"
#include "quorumd/power_fencer.h"

using namespace castor;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

const char* kIni = R"([quorumd]
device = /dev/sdb
node = alpha

[fence beta]
agent = fence_ipmilan
option.ip = 203.0.113.12
option.username = admin
option.lanplus = 1
password_file = /etc/castor/beta.pw
timeout_s = 20
settle_ms = 500
)";

FenceDeviceConfig device(FenceAction a = FenceAction::off, Duration delay = Duration::zero(), int retries = 1) {
  FenceDeviceConfig d;
  d.node = "beta";
  d.agent = "fence_ipmilan";
  d.action = a;
  d.delay = delay;
  d.retries = retries;
  d.settle = milliseconds(500);
  return d;
}

AgentOutcome exited(int code, Duration elapsed = milliseconds(300)) {
  AgentOutcome o;
  o.exit_code = code;
  o.elapsed = elapsed;
  return o;
}

// The round's first action, the status before the off, answers "on"; returns the next action (the off).
std::optional<FenceAgentAction> probed_on(PowerFencer& f, const FenceSituation& s, TimePoint t, bool& started) {
  auto a = f.tick(s, t, 0, started);
  REQUIRE(a == FenceAgentAction::status);
  const bool was_started = started;
  f.on_result(FenceAgentAction::status, interpret_fence_outcome(FenceAgentAction::status, exited(0)), t);
  auto next = f.tick(s, t, 0, started);
  started = was_started;
  return next;
}

}  // namespace

TEST_CASE("fence config: [fence NODE] sections are read beside [quorumd], and bad ones are refused with file:line") {
  QuorumdConfig c;
  REQUIRE(parse_quorumd_ini(kIni, "castor.ini", c).ok());
  REQUIRE(c.fence.size() == 1);
  const FenceDeviceConfig& d = c.fence[0];
  CHECK(d.node == "beta");
  CHECK(d.agent_path() == "/usr/sbin/fence_ipmilan");
  REQUIRE(d.options.size() == 3);
  CHECK(d.options[0] == std::pair<std::string, std::string>("ip", "203.0.113.12"));
  CHECK(d.password_file == "/etc/castor/beta.pw");
  CHECK(d.timeout == seconds(20));
  CHECK(d.settle == milliseconds(500));
  CHECK(d.action == FenceAction::off);
  CHECK(contains(d.describe(), "fence_ipmilan ip=203.0.113.12"));

  auto refused = [](const std::string& extra) {
    QuorumdConfig c2;
    Status st = parse_quorumd_ini(std::string(kIni) + extra, "castor.ini", c2);
    CHECK(!st.ok());
    return st.message();
  };
  CHECK(contains(refused("option.password = secret\n"), "castor.ini:13: key 'option.password' in [fence beta]: a password is never written"));
  CHECK(contains(refused("option.action = reboot\n"), "Castor sets the agent's action itself"));
  CHECK(contains(refused("fence_action = cycle\n"), "neither off nor reboot"));
  CHECK(contains(refused("timeout_s = 0\n"), "castor.ini:13"));
  CHECK(contains(refused("retrys = 2\n"), "did you mean 'retries'"));
  CHECK(contains(refused("option.ip = 1.2.3.4\n"), "duplicate key 'option.ip'"));
  CHECK(contains(refused("option.Bad-Name = 1\n"), "[a-z0-9_]+"));
  CHECK(contains(refused("\n[fence beta]\nagent = fence_apc\n"), "given twice"));
  CHECK(contains(refused("\n[fence gamma]\noption.ip = 1.2.3.4\n"), "[fence gamma] has no agent"));
  CHECK(contains(refused("option.password_script = /bin/true\n"), "one password source"));
  // Still an unknown section for anything else, naming [fence NODE] among the known ones.
  CHECK(contains(refused("\n[fencing beta]\n"), "[fence NODE]"));
}

TEST_CASE("fence agent: options go on stdin after action=, the password from a root-only file, never on argv") {
  char dir_tmpl[] = "/tmp/castor-fence-test.XXXXXX";
  REQUIRE(mkdtemp(dir_tmpl) != nullptr);
  const std::string dir = dir_tmpl;
  const std::string pw = dir + "/pw";
  { std::ofstream(pw) << "s3cret\nsecond line ignored\n"; }
  REQUIRE(chmod(pw.c_str(), 0600) == 0);
  FenceDeviceConfig d = device();
  d.agent = "/bin/cat";  // a trusted program that echoes its stdin
  d.options = {{"ip", "203.0.113.12"}, {"lanplus", "1"}};
  d.password_file = pw;
  auto cmd = fence_agent_command(d, FenceAgentAction::off);
  REQUIRE(cmd.ok());
  CHECK(cmd->argv == std::vector<std::string>{"/bin/cat"});
  CHECK(cmd->stdin_data == "action=off\nip=203.0.113.12\nlanplus=1\npassword=s3cret\n");
  for (const auto& e : cmd->env) CHECK(!contains(e, "s3cret"));
  // Bounded even if quorumd freezes: the alarm after the timeout and its grace (a fence intent's stale bound).
  CHECK(cmd->hard_limit == d.timeout + cmd->kill_grace + std::chrono::seconds(1));
  // Run for real: the child reads exactly that on its stdin.
  BootClock clock;
  auto out = run_agent(*cmd, clock);
  REQUIRE(out.ok());
  CHECK(out->exit_code == 0);
  CHECK(out->output_tail == cmd->stdin_data);
  // The metadata action sends no options and no password.
  auto meta = fence_agent_command(d, FenceAgentAction::metadata);
  REQUIRE(meta.ok());
  CHECK(meta->stdin_data == "action=metadata\n");
  // A password file others can read is refused.
  REQUIRE(chmod(pw.c_str(), 0644) == 0);
  auto loose = fence_agent_command(d, FenceAgentAction::off);
  REQUIRE(!loose.ok());
  CHECK(contains(loose.status().message(), "readable by root only"));
  unlink(pw.c_str());
  rmdir(dir.c_str());
}

TEST_CASE("fence agent: exit codes as fence-agents define them (status: 0 on, 2 off, anything else unknown)") {
  CHECK(interpret_fence_outcome(FenceAgentAction::off, exited(0)).verdict == FenceVerdict::done);
  CHECK(interpret_fence_outcome(FenceAgentAction::off, exited(1)).verdict == FenceVerdict::failed);
  CHECK(interpret_fence_outcome(FenceAgentAction::status, exited(0)).verdict == FenceVerdict::power_on);
  CHECK(interpret_fence_outcome(FenceAgentAction::status, exited(2)).verdict == FenceVerdict::power_off);
  CHECK(interpret_fence_outcome(FenceAgentAction::status, exited(1)).verdict == FenceVerdict::failed);
  AgentOutcome slow = exited(0);
  slow.timed_out = true;
  slow.timeout = seconds(20);
  CHECK(interpret_fence_outcome(FenceAgentAction::off, slow).verdict == FenceVerdict::failed);
  CHECK(contains(interpret_fence_outcome(FenceAgentAction::off, slow).text, "timed out"));
  AgentOutcome killed = exited(-1);
  killed.signal = 9;
  CHECK(interpret_fence_outcome(FenceAgentAction::status, killed).verdict == FenceVerdict::failed);
}

TEST_CASE("fence agent: options are checked against the agent's metadata") {
  const std::string xml = R"(<resource-agent name="fence_ipmilan">
<parameters>
	<parameter name="action" unique="0" required="1">
	<parameter name="ip" unique="0" required="0" obsoletes="ipaddr">
	<parameter name="ipaddr" unique="0" required="0" deprecated="1">
	<parameter name="lanplus" unique="0" required="0">
	<parameter name="password" unique="0" required="0" obsoletes="passwd">
	<parameter name="username" unique="0" required="0" obsoletes="login">
</parameters></resource-agent>)";
  const auto params = parse_fence_metadata_parameters(xml);
  CHECK(params.count("ip"));
  CHECK(params.count("ipaddr"));
  CHECK(params.count("login"));
  CHECK(params.count("lanplus"));
  FenceDeviceConfig d = device();
  d.file = "castor.ini";
  d.line = 5;
  d.options = {{"ip", "1.2.3.4"}, {"lanpluss", "1"}};
  Status st = check_fence_options(d, params);
  REQUIRE(!st.ok());
  CHECK(contains(st.message(), "castor.ini:5: [fence beta]: option.lanpluss is not an option of fence_ipmilan"));
  CHECK(contains(st.message(), "did you mean 'lanplus'"));
  d.options = {{"ip", "1.2.3.4"}, {"lanplus", "1"}};
  d.password_file = "/etc/castor/pw";
  CHECK(check_fence_options(d, params).ok());
  d.options.clear();
  CHECK(!check_fence_options(d, {"ip"}).ok());  // a password for an agent that takes none
}

TEST_CASE("power fencer: status, off, status; confirmed only on all three, settle from the end of the off") {
  PowerFencer f(device(), seconds(10));
  TimePoint t{seconds(100)};
  FenceSituation s{true, true, false, 7, milliseconds(5), true};
  bool started = false;
  auto a = probed_on(f, s, t, started);
  REQUIRE(a == FenceAgentAction::off);
  CHECK(started);
  CHECK(!f.tick(s, t, 0, started));  // one action at a time
  t += milliseconds(400);
  f.on_result(FenceAgentAction::off, interpret_fence_outcome(FenceAgentAction::off, exited(0)), t);
  const TimePoint off_end = t;
  CHECK(!f.take_confirmed());
  a = f.tick(s, t, 0, started);
  REQUIRE(a == FenceAgentAction::status);
  CHECK(!started);
  t += milliseconds(300);
  f.on_result(FenceAgentAction::status, interpret_fence_outcome(FenceAgentAction::status, exited(2)), t);
  auto settle_end = f.take_confirmed();
  REQUIRE(settle_end);
  CHECK(*settle_end == off_end + milliseconds(500));
  CHECK(f.fences() == 1);
  REQUIRE(f.last());
  CHECK(f.last()->confirmed);
  CHECK(contains(f.last()->result, "status: off"));
  // Nothing more while settling; a later silence of the same life is not fenced again.
  CHECK(!f.tick(s, t, 0, started));
  f.verdict_stood();
  CHECK(f.phase() == PowerFencer::Phase::confirmed);
  CHECK(!f.tick(s, t + seconds(5), 0, started));
  // An admin asking to fence it again is told so (castor fence prints quorumd's refusal), not left waiting.
  std::string why;
  CHECK_FALSE(f.request("admin", why));
  CHECK_MESSAGE(contains(why, "already powered off"), why);
}

TEST_CASE("power fencer: the probe ahead: a status asked before the suspicion stands for the round's first, in the same silence only") {
  const TimePoint silence{seconds(98)};  // the start of the peer's silence (QuorumCore::silence_start)
  auto ahead = [&] {
    FenceSituation s{true, false, false, 7, milliseconds(5), std::nullopt};
    s.probe_ahead = true;
    s.silence_start = silence;
    return s;
  };
  auto suspected = [&](TimePoint episode) {
    FenceSituation s{true, true, false, 7, milliseconds(5), true};
    s.silence_start = episode;
    return s;
  };
  const auto on = interpret_fence_outcome(FenceAgentAction::status, exited(0));
  SUBCASE("it said on: the round goes straight to its off, and is confirmed as any") {
    PowerFencer f(device(), seconds(10));
    TimePoint t{seconds(100)};
    bool started = false;
    REQUIRE(f.tick(ahead(), t, 0, started) == FenceAgentAction::status);
    CHECK_FALSE(started);  // no fence yet: nothing but a status
    CHECK(f.probing_ahead());
    CHECK(f.phase() == PowerFencer::Phase::idle);
    f.on_result(FenceAgentAction::status, on, t + milliseconds(100));
    CHECK_FALSE(f.tick(ahead(), t + milliseconds(200), 0, started));  // one probe per silence
    REQUIRE(f.tick(suspected(silence), t + milliseconds(500), 0, started) == FenceAgentAction::off);
    CHECK(started);
    f.on_result(FenceAgentAction::off, interpret_fence_outcome(FenceAgentAction::off, exited(0)), t + milliseconds(700));
    REQUIRE(f.tick(suspected(silence), t + milliseconds(700), 0, started) == FenceAgentAction::status);
    f.on_result(FenceAgentAction::status, interpret_fence_outcome(FenceAgentAction::status, exited(2)), t + milliseconds(800));
    REQUIRE(f.take_confirmed());
    CHECK_MESSAGE(contains(f.last()->result, "status: on"), f.last()->result);
    CHECK_MESSAGE(contains(f.last()->result, "ahead of the suspicion"), f.last()->result);
  }
  SUBCASE("the round began while it ran: its answer is the round's first status") {
    PowerFencer f(device(), seconds(10));
    TimePoint t{seconds(100)};
    bool started = false;
    REQUIRE(f.tick(ahead(), t, 0, started) == FenceAgentAction::status);
    CHECK_FALSE(f.tick(suspected(silence), t + milliseconds(50), 0, started));  // the probe is still out
    CHECK(started);
    CHECK(f.phase() == PowerFencer::Phase::probing);
    f.on_result(FenceAgentAction::status, on, t + milliseconds(100));
    CHECK(f.phase() == PowerFencer::Phase::powering_off);
    CHECK(f.tick(suspected(silence), t + milliseconds(100), 0, started) == FenceAgentAction::off);
  }
  SUBCASE("the peer's value changed since (another silence): the round asks its own status first") {
    PowerFencer f(device(), seconds(10));
    TimePoint t{seconds(100)};
    bool started = false;
    REQUIRE(f.tick(ahead(), t, 0, started) == FenceAgentAction::status);
    f.on_result(FenceAgentAction::status, on, t + milliseconds(100));
    CHECK(f.tick(suspected(silence + seconds(1)), t + milliseconds(1500), 0, started) == FenceAgentAction::status);
  }
  SUBCASE("it said off: the round of that silence fails at once on an off before the off (review18 finding 2)") {
    PowerFencer f(device(), seconds(10));
    TimePoint t{seconds(100)};
    bool started = false;
    REQUIRE(f.tick(ahead(), t, 0, started) == FenceAgentAction::status);
    f.on_result(FenceAgentAction::status, interpret_fence_outcome(FenceAgentAction::status, exited(2)), t + milliseconds(100));
    CHECK_FALSE(f.tick(suspected(silence), t + milliseconds(500), 0, started));  // no agent action: no off
    CHECK(f.phase() == PowerFencer::Phase::failed);
    CHECK_FALSE(f.take_confirmed());
    REQUIRE(f.last());
    CHECK_MESSAGE(contains(f.last()->result, "BEFORE the off"), f.last()->result);
  }
  SUBCASE("an admin's round asks its own status; no probe without the right to fence") {
    PowerFencer f(device(), seconds(10));
    TimePoint t{seconds(100)};
    bool started = false;
    FenceSituation no_lease = ahead();
    no_lease.may_fence = false;
    CHECK_FALSE(f.tick(no_lease, t, 0, started));
    REQUIRE(f.tick(ahead(), t, 0, started) == FenceAgentAction::status);
    f.on_result(FenceAgentAction::status, on, t + milliseconds(100));
    std::string why;
    REQUIRE(f.request("admin", why));
    FenceSituation s = ahead();
    s.look_clear = true;
    CHECK(f.tick(s, t + milliseconds(200), 0, started) == FenceAgentAction::status);
    CHECK(started);
  }
}

TEST_CASE("power fencer: the settle is never shorter than the worst own write latency") {
  PowerFencer f(device(), seconds(10));
  TimePoint t{seconds(100)};
  FenceSituation s{true, true, false, 7, milliseconds(800), true};
  bool started = false;
  REQUIRE(probed_on(f, s, t, started) == FenceAgentAction::off);
  f.on_result(FenceAgentAction::off, {FenceVerdict::done, "off"}, t);
  REQUIRE(f.tick(s, t, 0, started) == FenceAgentAction::status);
  f.on_result(FenceAgentAction::status, {FenceVerdict::power_off, "off"}, t);
  CHECK(f.take_confirmed() == t + milliseconds(800));
}

TEST_CASE("power fencer: never confirmed on a failed off, a status that says on, or an unreachable device") {
  for (int variant = 0; variant < 3; ++variant) {
    CAPTURE(variant);
    PowerFencer f(device(FenceAction::off, Duration::zero(), /*retries=*/1), seconds(10));
    TimePoint t{seconds(100)};
    FenceSituation s{true, true, false, 7, {}, true};
    bool started = false;
    for (int attempt = 0; attempt < 2; ++attempt) {
      REQUIRE(probed_on(f, s, t, started) == FenceAgentAction::off);
      if (variant == 0) {
        f.on_result(FenceAgentAction::off, interpret_fence_outcome(FenceAgentAction::off, exited(1)), t);
        continue;
      }
      f.on_result(FenceAgentAction::off, {FenceVerdict::done, "off"}, t);
      REQUIRE(f.tick(s, t, 0, started) == FenceAgentAction::status);
      f.on_result(FenceAgentAction::status,
                  interpret_fence_outcome(FenceAgentAction::status, exited(variant == 1 ? 0 : 1)), t);
    }
    CHECK(!f.take_confirmed());
    CHECK(f.phase() == PowerFencer::Phase::failed);
    CHECK(f.failures() == 1);
    CHECK(!f.last()->confirmed);
    // No new round before retry_after -- also while the daemon sees the peer still UP with the value it had
    // before the round (its silence is what failed to be fenced: torture saw a round every 250 ms).
    f.peer_alive(t - seconds(1));
    CHECK(!f.tick(s, t + seconds(5), 0, started));
    CHECK(f.phase() == PowerFencer::Phase::failed);
    CHECK(f.tick(s, t + seconds(10), 0, started) == FenceAgentAction::status);
  }
}

TEST_CASE("power fencer: after a failed round, a value the peer wrote since lets it fence again at once") {
  PowerFencer f(device(), seconds(10));
  TimePoint t{seconds(100)};
  FenceSituation s{true, true, false, 7, milliseconds(5), true};
  bool started = false;
  REQUIRE(f.tick(s, t, 0, started) == FenceAgentAction::status);
  f.on_result(FenceAgentAction::status, {FenceVerdict::failed, "unreachable"}, t + milliseconds(50));
  for (int i = 0; i < 3 && f.phase() != PowerFencer::Phase::failed; ++i) {
    auto a = f.tick(s, t + milliseconds(100), 0, started);
    if (a) f.on_result(*a, {FenceVerdict::failed, "unreachable"}, t + milliseconds(150));
  }
  REQUIRE(f.phase() == PowerFencer::Phase::failed);
  f.peer_alive(t + milliseconds(500));  // it wrote after the round began: alive, and fenceable when silent again
  CHECK(f.phase() == PowerFencer::Phase::idle);
}

TEST_CASE("power fencer: no fence without suspicion, without a lease or working disk, or of a peer gone") {
  PowerFencer f(device(), seconds(10));
  TimePoint t{seconds(100)};
  bool started = false;
  CHECK(!f.tick({true, false, false, 7, {}}, t, 0, started));
  CHECK(!f.tick({false, true, false, 7, {}}, t, 0, started));
  CHECK(!f.tick({true, true, true, 7, {}}, t, 0, started));
  CHECK(f.phase() == PowerFencer::Phase::idle);
}

TEST_CASE("power fencer: with a delay, it waits and fences only if the peer is still silent and it still may") {
  PowerFencer f(device(FenceAction::off, seconds(4)), seconds(10));
  TimePoint t{seconds(100)};
  bool started = false;
  FenceSituation s{true, true, false, 7, {}, true};
  CHECK(!f.tick(s, t, 0, started));
  CHECK(f.phase() == PowerFencer::Phase::delaying);
  CHECK(f.next_wakeup() == t + seconds(4));
  CHECK(!f.tick(s, t + seconds(3), 0, started));
  // The race lost by the peer: it is heard again (or this node lost its lease) when the delay ends.
  CHECK(!f.tick({true, false, false, 7, {}}, t + seconds(4), 0, started));
  CHECK(f.phase() == PowerFencer::Phase::idle);
  CHECK(!started);
  // Still silent after the delay: fenced.
  CHECK(!f.tick(s, t + seconds(5), 0, started));
  CHECK(f.tick(s, t + seconds(9), 0, started) == FenceAgentAction::status);
  CHECK(started);
}

TEST_CASE("power fencer: reboot powers the node on only once the verdict stood") {
  PowerFencer f(device(FenceAction::reboot), seconds(10));
  TimePoint t{seconds(100)};
  bool started = false;
  FenceSituation s{true, true, false, 7, {}, true};
  REQUIRE(probed_on(f, s, t, started) == FenceAgentAction::off);
  f.on_result(FenceAgentAction::off, {FenceVerdict::done, "off"}, t);
  REQUIRE(f.tick(s, t, 0, started) == FenceAgentAction::status);
  f.on_result(FenceAgentAction::status, {FenceVerdict::power_off, "off"}, t);
  REQUIRE(f.take_confirmed());
  CHECK(!f.tick(s, t + seconds(1), 0, started));  // settling: not yet
  f.verdict_stood();
  CHECK(f.tick(s, t + seconds(1), 0, started) == FenceAgentAction::on);
}

TEST_CASE("power fencer: an admin request fences without suspicion, once") {
  PowerFencer f(device(), seconds(10));
  TimePoint t{seconds(100)};
  bool started = false;
  std::string why;
  REQUIRE(f.request("admin", why));
  CHECK(f.tick({true, false, false, 7, {}, true}, t, 0, started) == FenceAgentAction::status);  // its look: clear
  CHECK(started);
  CHECK(!f.request("again", why));
  CHECK(contains(why, "already under way"));
}

namespace {

struct MonitorRig {
  PeerMonitor pm{milliseconds(1200)};
  TimePoint t{seconds(1000)};
  std::optional<PeerTransition> last;
  PeerView read(uint64_t inc, uint64_t seq) {
    HeartbeatRecord r;
    r.node_id = 2;
    r.incarnation = inc;
    r.seq = seq;
    r.state = NodeState::up;
    last = pm.observe({t, t + milliseconds(1), r, 0});
    t += milliseconds(100);
    return pm.view();
  }
};

}  // namespace

TEST_CASE("peer monitor: a confirmed fence declares DEAD at the first read after the settle, long before D") {
  MonitorRig r;
  r.read(5, 1);
  CHECK(r.read(5, 2) == PeerView::up);
  r.pm.fence_started();
  r.read(5, 2);
  const TimePoint settle_end = r.t + milliseconds(250);
  r.pm.declare_fenced(settle_end, "fence_ipmilan by alpha");
  CHECK(r.pm.dead_deadline() == settle_end);  // the core schedules its read then
  CHECK(r.read(5, 2) == PeerView::up);        // issued before the settle end: nothing yet
  r.t = settle_end;
  CHECK(r.read(5, 2) == PeerView::dead);
  REQUIRE(r.last);
  CHECK(contains(r.last->reason, "confirmed fence"));
  CHECK(r.pm.confirmed_read_issued() == settle_end);
  CHECK(r.pm.value_fenced());
  // Re-confirmed by every read of the unchanged value, without waiting D.
  const TimePoint next = r.t;
  r.read(5, 2);
  CHECK(r.pm.confirmed_read_issued() == next);
  // A late write of the fenced life (a higher seq still in flight) is stale: no life, verdict stands.
  CHECK(r.read(5, 3) == PeerView::dead);
  // The node powered on again: a new incarnation is life.
  r.read(9, 1);
  CHECK(r.read(9, 2) == PeerView::up);
}

TEST_CASE("peer monitor: a fence verdict is not given to a life never seen before the fence (powered on again)") {
  MonitorRig r;
  r.read(5, 1);
  r.read(5, 2);
  r.pm.fence_started();
  r.pm.declare_fenced(r.t, "fence_ipmilan by alpha");
  CHECK(r.read(8, 1) != PeerView::dead);  // incarnation 8 appeared after the fence: maybe a new boot
  CHECK(!r.pm.value_fenced());
  CHECK(!r.pm.fence_pending());
}

TEST_CASE("peer monitor: a late write of the fenced life landing during the settle still gets the verdict") {
  MonitorRig r;
  r.read(5, 1);
  r.read(5, 2);
  r.pm.fence_started();
  r.read(5, 3);  // landed after the fence began (it was in flight)
  r.pm.declare_fenced(r.t, "fence_ipmilan by alpha");
  CHECK(r.read(5, 3) == PeerView::dead);
}

TEST_CASE("fence agent: the agent's own wait after its off (power_wait), from the option or the metadata's default") {
  const std::string xml = R"(<resource-agent name="fence_ipmilan">
<parameters>
	<parameter name="power_timeout" unique="0" required="0">
		<getopt mixed="--power-timeout=[seconds]" />
		<content type="second" default="20"  />
	</parameter>
	<parameter name="power_wait" unique="0" required="0">
		<getopt mixed="--power-wait=[seconds]" />
		<content type="second" default="2"  />
		<shortdesc lang="en">Wait X seconds after issuing ON/OFF</shortdesc>
	</parameter>
	<parameter name="power_wait_extra" unique="0" required="0">
		<content type="second" default="9"  />
	</parameter>
	<parameter name="quiet" unique="0" required="0">
		<content type="boolean"  />
	</parameter>
</parameters></resource-agent>)";
  CHECK(fence_metadata_default(xml, "power_wait") == std::optional<std::string>("2"));
  CHECK(fence_metadata_default(xml, "power_timeout") == std::optional<std::string>("20"));
  CHECK(fence_metadata_default(xml, "quiet") == std::nullopt);  // a content without a default
  CHECK(fence_metadata_default(xml, "power") == std::nullopt);  // no parameter of that name
  FenceDeviceConfig d = device();
  CHECK(fence_agent_power_wait_s(d, xml) == 2);  // the agent's default
  d.options = {{"ip", "1.2.3.4"}, {"power_wait", "0"}};
  CHECK(fence_agent_power_wait_s(d, xml) == 0);
  d.options = {{"power_wait", "5"}};
  CHECK(fence_agent_power_wait_s(d, xml) == 5);
  d.options.clear();
  CHECK(fence_agent_power_wait_s(d, "<resource-agent/>") == 0);  // an agent without the parameter
}

TEST_CASE("fence agent: the whole metadata of the real fence_ipmilan is read (it is longer than an output tail)") {
  if (access("/usr/sbin/fence_ipmilan", X_OK) != 0) {
    MESSAGE("fence-agents is not installed: skipped");
    return;
  }
  FenceDeviceConfig d = device();
  d.timeout = seconds(30);
  auto cmd = fence_agent_command(d, FenceAgentAction::metadata);
  REQUIRE(cmd.ok());
  BootClock clock;
  auto out = run_agent(*cmd, clock);
  REQUIRE(out.ok());
  CHECK(out->exit_code == 0);
  CHECK(out->output_tail.size() > AgentProcess::kTailBytes);
  const auto params = parse_fence_metadata_parameters(out->output_tail);
  for (const char* p : {"action", "ip", "ipport", "username", "password", "lanplus", "cipher", "power_wait", "power_timeout"})
    CHECK_MESSAGE(params.count(p), p);
  // fence_ipmilan's own default: 2 s after its off before its first status (fencing.py's power_wait).
  CHECK(fence_agent_power_wait_s(d, out->output_tail) == 2);
}
