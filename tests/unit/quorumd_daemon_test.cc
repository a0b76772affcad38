// Two whole quorumd instances (QuorumDaemon) in-process, against one shared memory quorum disk initialised
// as `castor init` does, with a fake clock, fake watchdogs and fake process-group signals (the QuorumdEnv
// seam), and their real control sockets in a temporary directory. The loop is driven one turn at a time.
// Covers: start (leases, each sees the other UP), lease loss -> fence (before the peer's DEAD, which waits
// the full dead time), peer death -> takeover (DEAD after D, not before), and the table verbs (table-set
// written by one node, read by the other with table-peer); authenticated records (a forged DOWN or table block
// of a writer without the key is refused; start-up refuses a disk/config mismatch either way).
// The in-process cluster itself is tests/support/inprocess_quorumd.h.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/aligned_buffer.h"
#include "common/auth_key.h"
#include "common/clock.h"
#include "common/unique_fd.h"
#include "common/uuid.h"
#include "control/control_protocol.h"
#include "control/event_codec.h"
#include "control/table_codec.h"
#include "disk/block_device.h"
#include "disk/disk_layout.h"
#include "disk/heartbeat_record.h"
#include "disk/quorum_disk_init.h"
#include "disk/record_seal.h"
#include "disk/service_table_record.h"
#include "disk/superblock.h"
#include "disk/testing/faulty_block_device.h"
#include "disk/testing/memory_block_device.h"
#include "quorumd/quorum_daemon.h"
#include "quorumd/quorumd_env.h"
#include "lan/lan_datagram.h"
#include "tests/support/inprocess_quorumd.h"
#include "tests/support/scratch.h"
#include "tests/support/test_seal.h"
#include "tests/support/test_superblock.h"

using namespace castor;
using namespace castor::testing;  // the in-process cluster (Cluster, Node, Client, start_both, ...)
using namespace std::chrono_literals;

namespace {

// Drains `cl`'s frames; true once an event of `kind` was among them (replies and other events skipped).
bool saw_event(Client& cl, QuorumdEventKind kind) {
  while (auto f = cl.poll()) {
    auto e = parse_quorumd_event(*f);
    if (e.ok() && e->kind == kind) return true;
  }
  return false;
}

// CASTOR_TEST_BUG for the daemons started in its scope (quorumd reads it once, at start).
struct TestBugEnv {
  explicit TestBugEnv(const char* value) { REQUIRE(::setenv("CASTOR_TEST_BUG", value, 1) == 0); }
  ~TestBugEnv() { ::unsetenv("CASTOR_TEST_BUG"); }
  TestBugEnv(const TestBugEnv&) = delete;
  TestBugEnv& operator=(const TestBugEnv&) = delete;
};

// alpha leaves with a service manager subscribed and `web` owned in its table: returns once alpha told
// the service manager it is leaving. `sm` is the service manager's connection, `lv` the one that asked.
void leave_with_web_owned(Cluster& c, Client& ctl, Client& sm, Client& lv) {
  REQUIRE(c.ask(sm, "subscribe service-manager")["ok"] == true);
  auto set = c.ask(ctl, "table-set web owned 1 1 1 0 0 5");
  REQUIRE_MESSAGE(set["ok"] == true, set.dump());
  lv.send("leave");
  REQUIRE(c.run_until([&] { return saw_event(sm, QuorumdEventKind::leaving); }, 1s));
  REQUIRE(c.alpha().daemon->core().phase() == CorePhase::leaving_stopping);
}

// castor init of another cluster ("other", CRC only, heartbeats untouched) under the running nodes: both
// superblock copies now name a new UUID.
void reinitialise_disk_as_other_cluster(Cluster& c) {
  MemoryBlockDevice dev(c.disk(), "mem");
  testing::overwrite_superblocks(dev, c.clock(), testing::two_node_superblock("other", c.timing()),
                                 RecordSeal::crc_only(), kIoTimeout);
}

// A quorum disk of the two-node cluster "test" and a scratch directory (alpha's socket, keys), for the
// tests that start alpha alone with their own castor.ini.
struct LoneDisk {
  testing::ScratchDir dir;
  FakeClock clock;
  std::shared_ptr<MemoryDisk> disk = std::make_shared<MemoryDisk>(512, 4 << 20);
  Superblock sb = testing::two_node_superblock("test", *Timing::from_io_timeout(kIoTimeout));

  LoneDisk() { REQUIRE_FALSE(dir.path().empty()); }
  void initialise(const RecordSeal& seal) {
    MemoryBlockDevice dev(disk, "mem");
    REQUIRE(initialize_quorum_disk(dev, clock, sb, seal, kIoTimeout).ok());
  }
  // alpha's config from `ini` through castor.ini's parser (as quorumd reads it), with the fake watchdog,
  // its socket in `dir`, no mlock and no realtime.
  QuorumdConfig config(const std::string& ini) const {
    QuorumdConfig c;
    REQUIRE(parse_quorumd_ini(ini, "castor.ini", c).ok());
    c.watchdog_device = "/dev/fake-watchdog";
    c.socket_path = dir.file("alpha.sock");
    c.lock_memory = false;
    c.realtime = false;
    c.config_file = "castor.ini";
    return c;
  }
  // How QuorumDaemon::start(c) ended (a daemon that started is stopped again).
  Status start(const QuorumdConfig& c) {
    Record record;
    TestEnv env(clock, disk, record);
    auto d = QuorumDaemon::start(c, env);
    return d.status();
  }
};

}  // namespace

TEST_CASE("quorumd in-process: two nodes start, each holds a lease, pets its watchdog and sees the other UP") {
  Cluster c;
  CHECK(c.alpha().env->tuned() == 1);
  CHECK_FALSE(has_lease(c, c.alpha()));  // nothing written yet
  start_both(c);
  c.run_for(1s);  // and it stays that way
  for (Node* n : {&c.alpha(), &c.beta()}) {
    CHECK(has_lease(c, *n));
    CHECK(sees(*n, PeerView::up));
    CHECK(n->daemon->core().phase() == CorePhase::up);
    CHECK(n->record.pets.size() > 10);
    CHECK(n->record.pets.back() >= c.now() - c.timing().renew_interval);
    // The status JSON (nlohmann now) carries the fields castor status reads.
    auto s = c.status(*n);
    CHECK(s["ok"] == true);
    CHECK(s["phase"] == "up");
    CHECK(s["node"]["name"] == n->name);
    CHECK(s["cluster"]["name"] == "test");
    CHECK(s["lease"]["valid"] == true);
    CHECK(s["lease"]["remaining_ms"].get<int64_t>() > 0);
    CHECK(s["peer"]["view"] == "UP");
    CHECK(s["peer"]["state"] == "UP");
    CHECK(s["fences"] == 0);
    CHECK(s["last_fence"].is_null());
    CHECK(s["watchdog"]["pets"].get<uint64_t>() == n->record.pets.size());
    CHECK(s["watchdog"]["kind"] == "fake");
    CHECK(s["timing_ms"]["dead"] == c.timing().dead.count());
  }
  CHECK(c.status(c.alpha())["peer"]["name"] == "beta");
  // The control socket answers with the same document.
  Client cl(c.alpha().socket);
  auto s = c.ask(cl, "status");
  CHECK(s["ok"] == true);
  CHECK(s["node"]["id"] == 1);
  CHECK(s["peer"]["id"] == 2);
  auto bad = c.ask(cl, "no-such-verb");
  CHECK(bad["ok"] == false);
}

TEST_CASE("quorumd in-process: lease loss -> the node fences (pets stop, groups killed) before its peer declares it DEAD after the full D") {
  Cluster c;
  start_both(c);
  Client cl(c.alpha().socket);
  c.alpha().record.alive.insert(4304242);
  auto reg = c.ask(cl, "register-pgid 4304242");
  REQUIRE(reg["ok"] == true);
  c.run_for(200ms);

  // alpha's disk path stalls: every new I/O hangs (and times out at its deadline).
  c.alpha().env->faulty()->hang_all();
  const TimePoint stalled = c.now();
  std::optional<TimePoint> fenced, dead;
  REQUIRE(c.run_until(
      [&] {
        if (!fenced && c.alpha().daemon->core().phase() == CorePhase::fenced) fenced = c.now();
        if (!dead && sees(c.beta(), PeerView::dead)) dead = c.now();
        return fenced && dead;
      },
      5s));
  const Timing& t = c.timing();
  MESSAGE("fenced after " << format_duration(*fenced - stalled) << ", DEAD after " << format_duration(*dead - stalled));
  // alpha fenced before beta declared it dead, and within its lease.
  CHECK(*fenced < *dead);
  CHECK(*fenced <= stalled + t.lease + kStep);
  // Its registered process group was killed when it fenced.
  REQUIRE(c.alpha().record.killed.size() == 1);
  CHECK(c.alpha().record.killed[0].first == 4304242);
  CHECK(c.alpha().record.killed[0].second == *fenced);
  // Its watchdog was last petted with W of lease left; a watchdog that fires W after that pet has reset
  // the node before beta declares it dead.
  REQUIRE_FALSE(c.alpha().record.pets.empty());
  const TimePoint last_pet = c.alpha().record.pets.back();
  CHECK(last_pet <= *fenced);
  CHECK(last_pet + t.watchdog < *dead);
  // beta waited the full dead time D from the last heartbeat alpha wrote (at most one renew interval and a
  // step before the stall) — and not much longer.
  CHECK(*dead - stalled >= Duration(t.dead) - t.renew_interval - kStep);
  CHECK(*dead - stalled <= Duration(t.dead) + 2 * t.renew_interval + 2 * kStep);
  CHECK(c.status(c.beta())["peer"]["heartbeat_age_ms"].get<int64_t>() >= t.dead.count());
  CHECK(has_lease(c, c.beta()));
  // Fenced, the node reports it, and no pet happens while its I/O hangs.
  auto s = c.status(c.alpha());
  CHECK(s["phase"] == "fenced");
  CHECK(s["fences"] == 1);
  CHECK(s["lease"]["valid"] == false);
  const size_t pets = c.alpha().record.pets.size();
  c.run_for(1s);
  CHECK(c.alpha().record.pets.size() == pets);
  CHECK(c.alpha().daemon->core().phase() == CorePhase::fenced);  // never rejoins while its writes may land

  // The disk comes back: the hung writes land, alpha rejoins with a new incarnation, and both are UP again.
  const uint64_t old_incarnation = c.alpha().daemon->core().config().incarnation;
  c.alpha().env->faulty()->pass_all();
  c.alpha().env->faulty()->release_hung(c.now());
  start_both(c);
  CHECK(c.alpha().daemon->core().config().incarnation != old_incarnation);
}

TEST_CASE("quorumd in-process: a fenced node whose services' processes survive the kill never rejoins (no pets) until they end") {
  Cluster c;
  start_both(c);
  c.alpha().env->faulty()->hang_all();
  REQUIRE(c.run_until([&] { return c.alpha().daemon->core().phase() == CorePhase::fenced; }, 5s));
  CHECK(c.alpha().record.cgroup_kills >= 1);
  // A process in alpha's cgroups does not die (D state, or the kill failed).
  c.alpha().record.cgroup_busy = true;
  const size_t pets = c.alpha().record.pets.size();
  const int kills = c.alpha().record.cgroup_kills;
  c.alpha().env->faulty()->pass_all();
  c.alpha().env->faulty()->release_hung(c.now());
  c.run_for(3s);
  CHECK(c.alpha().daemon->core().phase() == CorePhase::fenced);  // not rejoined: the watchdog is left to fire
  CHECK(c.alpha().record.pets.size() == pets);
  CHECK(c.alpha().record.cgroup_kills > kills);  // killed again while it waits
  // Once they are gone, it rejoins.
  c.alpha().record.cgroup_busy = false;
  start_both(c);
  CHECK(c.alpha().record.pets.size() > pets);
}

TEST_CASE("quorumd in-process: peer death -> the survivor declares it DEAD after D and not before, keeping its lease") {
  Cluster c;
  start_both(c);
  Client sub(c.alpha().socket);
  auto subscribed = c.ask(sub, "subscribe");
  REQUIRE(subscribed["ok"] == true);
  c.run_for(300ms);
  c.beta().running = false;  // beta stops: no heartbeat any more
  const TimePoint stopped = c.now();
  std::optional<TimePoint> dead;
  REQUIRE(c.run_until(
      [&] {
        if (!has_lease(c, c.alpha())) return true;  // must never happen: checked below
        if (sees(c.alpha(), PeerView::dead)) dead = c.now();
        return dead.has_value();
      },
      5s));
  REQUIRE(dead);
  const Timing& t = c.timing();
  MESSAGE("DEAD after " << format_duration(*dead - stopped));
  CHECK(*dead - stopped >= Duration(t.dead) - t.renew_interval - kStep);
  CHECK(*dead - stopped <= Duration(t.dead) + 2 * t.renew_interval + 2 * kStep);
  CHECK(has_lease(c, c.alpha()));
  auto s = c.status(c.alpha());
  CHECK(s["peer"]["view"] == "DEAD");
  CHECK(s["peer"]["heartbeat_age_ms"].get<int64_t>() >= t.dead.count());
  CHECK(s["phase"] == "up");
  // Subscribers heard it as a typed event (lease renewals before it).
  std::optional<QuorumdEvent> changed;
  size_t renewals = 0;
  while (auto f = sub.poll()) {
    auto e = parse_quorumd_event(*f);
    REQUIRE_MESSAGE(e.ok(), *f);
    if (e->kind == QuorumdEventKind::lease_renewed) ++renewals;
    if (e->kind == QuorumdEventKind::peer_changed) changed = *e;
  }
  CHECK(renewals > 5);
  REQUIRE(changed);
  CHECK(changed->node == "alpha");
  CHECK(changed->peer == "beta");
  CHECK(changed->from == PeerView::up);
  CHECK(changed->to == PeerView::dead);
  CHECK(changed->boottime_ns == dead->time_since_epoch().count());
}

TEST_CASE("quorumd in-process: table-set through one node's control socket is written; table-peer on the other reads it") {
  Cluster c;
  start_both(c);
  Client a(c.alpha().socket), b(c.beta().socket);
  // Refused arguments get an error and write nothing.
  auto bad = c.ask(a, "table-set web owned 1 1");
  CHECK(bad["ok"] == false);
  TableSetRequest req;
  req.name = "web";
  req.state = OwnershipState::owned;
  req.node = 1;
  req.epoch = 3;
  req.ballot = 7;
  req.restarts = 2;
  req.digest = 99;
  REQUIRE(encode_table_set_request(req) == "table-set web owned 1 3 7 0 2 99");
  auto set = c.ask(a, encode_table_set_request(req));
  REQUIRE_MESSAGE(set["ok"] == true, set.dump());
  CHECK(set["completed_boottime_ns"].get<int64_t>() <= c.now().time_since_epoch().count());

  auto own = c.ask(a, "table-own");
  REQUIRE(own["ok"] == true);
  REQUIRE(own["entries"].size() == 1);
  CHECK(own["entries"][0]["name"] == "web");
  CHECK(own["entries"][0]["state"] == "owned");
  CHECK(own["own_epoch_floor"].get<uint64_t>() >= 3);  // the epoch record went first

  // The reply parses with the codec svcmgr reads it with.
  auto typed = parse_table_peer_reply(c.ask_text(b, "table-peer"));
  REQUIRE_MESSAGE(typed.ok(), typed.status().to_string());
  REQUIRE(typed->entries.size() == 1);
  CHECK(typed->entries[0].entry.name == "web");
  CHECK(typed->entries[0].entry.state == OwnershipState::owned);
  CHECK(typed->entries[0].block.has_value());
  CHECK(typed->peer.view == PeerView::up);
  CHECK(typed->own_epoch_floor == 0);  // beta had seen no epoch before this read
  auto peer = c.ask(b, "table-peer");
  REQUIRE_MESSAGE(peer["ok"] == true, peer.dump());
  REQUIRE(peer["entries"].size() == 1);
  const auto& e = peer["entries"][0];
  CHECK(e["name"] == "web");
  CHECK(e["state"] == "owned");
  CHECK(e["node"] == 1);
  CHECK(e["epoch"] == 3);
  CHECK(e["ballot"] == 7);
  CHECK(e["restarts"] == 2);
  CHECK(e["digest"] == 99);
  CHECK(e["incarnation"] == c.alpha().daemon->core().config().incarnation);
  CHECK(peer["peer_epoch_floor"].get<uint64_t>() >= 3);
  CHECK(peer["corrupt_blocks"].empty());
  CHECK(peer["peer"]["view"] == "UP");
  CHECK(peer["own_epoch_floor"] == 3);  // having seen epoch 3, beta's own floor was raised and written

  // The release a relocate writes, seen by the peer too.
  auto rel = c.ask(a, "table-set web released 0 3 7 0 2 99");
  REQUIRE(rel["ok"] == true);
  auto peer2 = c.ask(b, "table-peer");
  REQUIRE(peer2["entries"].size() == 1);
  CHECK(peer2["entries"][0]["state"] == "released");
  // beta takes it with a higher epoch; alpha reads it back.
  auto take = c.ask(b, "table-set web owned 2 4 8 0 0 99");
  REQUIRE(take["ok"] == true);
  auto back = c.ask(a, "table-peer");
  REQUIRE(back["entries"].size() == 1);
  CHECK(back["entries"][0]["node"] == 2);
  CHECK(back["entries"][0]["epoch"] == 4);
}

TEST_CASE("quorumd in-process: a clean leave writes DOWN only after services-stopped, then exits 0 with the watchdog disarmed") {
  Cluster c;
  start_both(c);
  Client ctl(c.alpha().socket), sm(c.alpha().socket), lv(c.alpha().socket);
  REQUIRE(c.ask(sm, "subscribe service-manager")["ok"] == true);
  // Not leaving yet: services-stopped is refused.
  auto early = c.ask(ctl, "services-stopped");
  CHECK(early["ok"] == false);
  CHECK(early["error"] == "services-stopped: this node is not leaving");
  lv.send("leave");
  REQUIRE(c.run_until([&] { return saw_event(sm, QuorumdEventKind::leaving); }, 1s));
  // LEAVING, not DOWN, while the service manager stops the services: the peer may not take over yet.
  c.run_for(5 * c.timing().renew_interval);
  CHECK(c.alpha().daemon->core().phase() == CorePhase::leaving_stopping);
  CHECK_FALSE(c.alpha().daemon->done());
  CHECK_FALSE(sees(c.beta(), PeerView::down));
  auto ok = c.ask(ctl, "services-stopped");
  CHECK(ok == nlohmann::json::parse(R"({"ok":true,"down":true})"));
  REQUIRE(c.run_until([&] { return c.alpha().daemon->done(); }, 1s));
  CHECK(c.alpha().daemon->exit_code() == kQuorumdExitLeft);
  std::optional<std::string> left;
  REQUIRE(c.run_until([&] { return (left = lv.poll()).has_value(); }, 1s));
  auto lj = nlohmann::json::parse(*left, nullptr, false);
  CHECK(lj["ok"] == true);
  CHECK(lj["left"] == true);
  REQUIRE(c.run_until([&] { return sees(c.beta(), PeerView::down); }, 1s));
}

TEST_CASE("quorumd in-process: a leave never writes DOWN while the table holds an entry up here: exit 3, the peer waits D") {
  Cluster c;
  start_both(c);
  Client ctl(c.alpha().socket), sm(c.alpha().socket), lv(c.alpha().socket);
  leave_with_web_owned(c, ctl, sm, lv);
  auto r = c.ask(ctl, "services-stopped");
  CHECK(r["ok"] == false);
  CHECK(r["error"] ==
        "services-stopped: not writing DOWN: the service table holds 1 entry that may be up here: web (owned)");
  CHECK(c.alpha().daemon->done());
  CHECK(c.alpha().daemon->exit_code() == kQuorumdExitUnclean);
  // No DOWN: beta waits the dead time as for a crash.
  const TimePoint stopped = c.now();
  REQUIRE(c.run_until([&] { return !sees(c.beta(), PeerView::up); }, 5s));
  CHECK(sees(c.beta(), PeerView::dead));
  CHECK(c.now() - stopped >= Duration(c.timing().dead) - c.timing().renew_interval - kStep);
}

TEST_CASE("quorumd in-process: services-stopped with a registered group alive is refused and the group killed") {
  Cluster c;
  start_both(c);
  Client ctl(c.alpha().socket), sm(c.alpha().socket), lv(c.alpha().socket);
  c.alpha().record.alive.insert(4304242);
  REQUIRE(c.ask(ctl, "register-pgid 4304242")["ok"] == true);
  leave_with_web_owned(c, ctl, sm, lv);
  auto r = c.ask(ctl, "services-stopped");
  CHECK(r["ok"] == false);
  CHECK(r["error"] == "services-stopped: not writing DOWN: a registered service process group is alive");
  CHECK(c.alpha().daemon->exit_code() == kQuorumdExitUnclean);
  REQUIRE(c.alpha().record.killed.size() == 1);
  CHECK(c.alpha().record.killed[0].first == 4304242);
  c.run_for(c.timing().dead / 2);
  CHECK_FALSE(sees(c.beta(), PeerView::down));
}

TEST_CASE("quorumd in-process: the service manager going away during a leave exits 3 without DOWN") {
  Cluster c;
  start_both(c);
  Client ctl(c.alpha().socket), lv(c.alpha().socket);
  {
    Client sm(c.alpha().socket);
    REQUIRE(c.ask(sm, "subscribe service-manager")["ok"] == true);
    lv.send("leave");
    REQUIRE(c.run_until([&] { return saw_event(sm, QuorumdEventKind::leaving); }, 1s));
  }
  REQUIRE(c.run_until([&] { return c.alpha().daemon->done(); }, 1s));
  CHECK(c.alpha().daemon->exit_code() == kQuorumdExitUnclean);
  c.run_for(c.timing().dead / 2);
  CHECK_FALSE(sees(c.beta(), PeerView::down));
}

TEST_CASE("quorumd in-process: CASTOR_TEST_BUG=down_while_owned writes DOWN although the table holds web") {
  TestBugEnv bug("down_while_owned");
  Cluster c;
  start_both(c);
  Client ctl(c.alpha().socket), sm(c.alpha().socket), lv(c.alpha().socket);
  leave_with_web_owned(c, ctl, sm, lv);
  auto r = c.ask(ctl, "services-stopped");
  CHECK(r["ok"] == true);
  REQUIRE(c.run_until([&] { return sees(c.beta(), PeerView::down); }, 1s));
  CHECK(c.alpha().daemon->exit_code() == kQuorumdExitLeft);
}

TEST_CASE("quorumd in-process: table-peer decodes every table block; CASTOR_TEST_BUG=read_block0 only the first") {
  const uint32_t per_block = DiskLayout::for_sector_size(512)->services_per_block();
  for (const bool bug : {false, true}) {
    CAPTURE(bug);
    std::optional<TestBugEnv> env;
    if (bug) env.emplace("read_block0");
    Cluster c;
    start_both(c);
    Client a(c.alpha().socket), b(c.beta().socket);
    for (uint32_t i = 0; i <= per_block; ++i) {  // one more than block 0 holds
      auto set = c.ask(a, "table-set s" + std::to_string(i) + " owned 1 1 1 0 0 5");
      REQUIRE_MESSAGE(set["ok"] == true, set.dump());
    }
    auto peer = c.ask(b, "table-peer");
    REQUIRE(peer["ok"] == true);
    CHECK(peer["entries"].size() == (bug ? per_block : per_block + 1));
  }
}

TEST_CASE("quorumd in-process: a disk re-initialised under running nodes makes them exit 3 at the next superblock check") {
  constexpr Duration kScrub = 300ms;
  Cluster c(kScrub);
  start_both(c);
  Client ctl(c.alpha().socket);
  c.alpha().record.alive.insert(4304242);
  REQUIRE(c.ask(ctl, "register-pgid 4304242")["ok"] == true);
  c.run_for(kScrub);  // a check or two of the unchanged superblock change nothing
  REQUIRE_FALSE(c.alpha().daemon->done());

  // Both copies now name another cluster (castor init of a new cluster, heartbeats untouched).
  reinitialise_disk_as_other_cluster(c);
  const TimePoint changed = c.now();
  REQUIRE(c.run_until([&] { return c.alpha().daemon->done() && c.beta().daemon->done(); }, 3 * kScrub));
  CHECK(c.now() - changed <= kScrub + 2 * kStep + Duration(kIoTimeout));
  for (Node* n : {&c.alpha(), &c.beta()}) CHECK(n->daemon->exit_code() == kQuorumdExitUnclean);
  REQUIRE(c.alpha().record.killed.size() == 1);
  CHECK(c.alpha().record.killed[0].first == 4304242);
}

TEST_CASE("quorumd in-process: run() reads SIGINT+SIGTERM from its signalfd: the second exits at once (3), watchdog armed") {
  // Blocked here, so that both stay pending for this thread until alpha's signalfd reads them (raise()
  // directs the signal at the calling thread). Two different signals: two SIGTERMs would merge into one.
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  REQUIRE(pthread_sigmask(SIG_BLOCK, &set, &old) == 0);
  {
    Cluster c;
    start_both(c);
    REQUIRE(::raise(SIGINT) == 0);
    REQUIRE(::raise(SIGTERM) == 0);
    // run() turns, arms its timer and waits: the pending signals make the wait return at once. The first
    // starts a clean leave, the second ends the loop without DOWN and without the magic close.
    const int rc = c.alpha().daemon->run();
    CHECK(rc == kQuorumdExitUnclean);
    CHECK(c.alpha().daemon->done());
    CHECK_FALSE(c.alpha().record.disarmed);
    CHECK(c.status(c.alpha())["leaving"] == true);
    c.run_for(c.timing().dead / 2);
    CHECK_FALSE(sees(c.beta(), PeerView::down));
  }
  sigset_t pending;
  REQUIRE(sigpending(&pending) == 0);
  const bool left_pending = sigismember(&pending, SIGTERM) || sigismember(&pending, SIGINT);
  const timespec zero{};
  while (sigtimedwait(&set, nullptr, &zero) > 0) {
  }
  CHECK_FALSE(left_pending);
  REQUIRE(pthread_sigmask(SIG_SETMASK, &old, nullptr) == 0);
}

TEST_CASE("quorumd in-process: a cluster_uuid pinned in castor.ini refuses a disk with another UUID (a clone)") {
  LoneDisk lone;
  lone.initialise(RecordSeal::crc_only());
  // The pin goes through castor.ini's parser, as quorumd reads it.
  const Uuid other = *random_uuid();
  QuorumdConfig c = lone.config("[quorumd]\ndevice = mem\nnode = alpha\ncluster_uuid = " + other.to_string() + "\n");
  REQUIRE(c.cluster_uuid.has_value());
  Status st = lone.start(c);
  REQUIRE_FALSE(st.ok());
  CHECK(st.code() == Code::refused);
  CHECK_MESSAGE(st.message() == "castor.ini pins cluster_uuid " + other.to_string() + ", but the quorum disk mem holds cluster 'test' with UUID " +
                                    lone.sb.cluster_uuid.to_string() + " (a clone or snapshot, or the wrong device)",
                st.message());
  // The right UUID starts.
  c.cluster_uuid = lone.sb.cluster_uuid;
  st = lone.start(c);
  CHECK_MESSAGE(st.ok(), st.to_string());
}

// ---------------------------------------------------------------------------------------------------------
// Authenticated records (issue 14): an attacker who can write to the SAN but lacks the cluster key.

namespace {

// A seal of another key than the cluster's (an attacker's guess, or another cluster's key).
RecordSeal other_key_seal() { return testing::test_seal(0x5a); }

// The attacker rewrites beta's heartbeat block: what beta last wrote, with state DOWN and the next sequence
// number, sealed with `seal` (never the cluster's key: a valid CRC, and no tag or a wrong one).
void forge_down_heartbeat(Cluster& c, const RecordSeal& seal) {
  auto layout = *DiskLayout::for_sector_size(512);
  AlignedBuffer block(layout.block_size(), layout.block_size());
  MemoryBlockDevice dev(c.disk(), "mem");
  REQUIRE(read_blocking(dev, c.clock(), layout.heartbeat_offset(2), block.span(), kIoTimeout).ok());
  auto hb = decode_heartbeat(block.span(), layout, 2, RecordSeal::tag_unchecked());
  REQUIRE_MESSAGE(hb.ok(), hb.status().to_string());
  hb->state = NodeState::down;
  hb->seq += 1;
  encode_heartbeat(*hb, layout, seal, block.span());
  REQUIRE(write_blocking(dev, c.clock(), layout.heartbeat_offset(2), block.span(), kIoTimeout).ok());
}

// The attacker writes beta's service-table block 0 holding `web`, owned by beta with a restart request (a
// "service request"), sealed with `seal`.
void forge_table_block(Cluster& c, const RecordSeal& seal) {
  auto layout = *DiskLayout::for_sector_size(512);
  ServiceTableRecord rec;
  rec.cluster_uuid = c.cluster_uuid();
  rec.node_id = 2;
  rec.block_index = 0;
  rec.incarnation = c.beta().daemon->core().config().incarnation;
  rec.seq = 1000;
  rec.entries.resize(layout.services_per_block());
  ServiceEntry& e = rec.entries[0];
  e.in_use = true;
  e.state = OwnershipState::owned;
  e.flags = ServiceEntry::kRestartRequest;
  e.node = 2;
  e.epoch = 9;
  e.ballot = 9;
  e.name = "web";
  AlignedBuffer block(layout.block_size(), layout.block_size());
  REQUIRE(encode_service_table(rec, layout, seal, block.span()).ok());
  MemoryBlockDevice dev(c.disk(), "mem");
  REQUIRE(write_blocking(dev, c.clock(), layout.service_table_offset(2), block.span(), kIoTimeout).ok());
}

// Starts alpha alone on a disk made with `disk_auth` (and the key in `dir`/disk.key), configured with
// `config_auth` and `dir`/config.key; returns how start() ended.
Status start_with(bool disk_auth, bool config_auth, bool same_key) {
  LoneDisk lone;
  const std::string dir = lone.dir.path();
  REQUIRE(write_new_auth_key(dir + "/disk.key", false).ok());
  if (same_key) REQUIRE(std::filesystem::copy_file(dir + "/disk.key", dir + "/config.key"));
  else REQUIRE(write_new_auth_key(dir + "/config.key", false).ok());
  lone.sb.records_authenticated = disk_auth;
  auto key = load_auth_key(dir + "/disk.key");
  REQUIRE(key.ok());
  lone.initialise(disk_auth ? *disk_record_seal(*key) : RecordSeal::crc_only());
  return lone.start(lone.config(std::string("[quorumd]\ndevice = mem\nnode = alpha\nauthenticate_disk = ") +
                                (config_auth ? "yes" : "no") + "\nauthkey = " + dir + "/config.key\n"));
}

}  // namespace

TEST_CASE("quorumd in-process: a forged DOWN heartbeat (valid CRC, no or a wrong tag) gives no DOWN verdict with authentication on") {
  // Without authentication the forgery works: the attack is real, and this test can fail.
  {
    Cluster c;
    start_both(c);
    c.beta().running = false;  // beta stops writing (paused): only the forged block speaks for it
    forge_down_heartbeat(c, RecordSeal::crc_only());
    CHECK(c.run_until([&] { return sees(c.alpha(), PeerView::down); }, 3 * c.timing().renew_interval));
  }
  for (const bool wrong_tag : {false, true}) {
    CAPTURE(wrong_tag);
    Cluster c{Authenticated{}};
    start_both(c);
    c.beta().running = false;
    forge_down_heartbeat(c, wrong_tag ? other_key_seal() : RecordSeal::crc_only());
    // Long enough for several reads of the forged block, shorter than the dead time.
    c.run_for(3 * c.timing().renew_interval);
    CHECK_FALSE(sees(c.alpha(), PeerView::down));
    CHECK_FALSE(sees(c.alpha(), PeerView::dead));
    CHECK(has_lease(c, c.alpha()));
    // beta's own write (with the key) is taken again once it runs.
    c.beta().running = true;
    c.run_for(3 * c.timing().renew_interval);
    CHECK(sees(c.alpha(), PeerView::up));
  }
}

TEST_CASE("quorumd in-process: a forged service-table block is not taken as the peer's table with authentication on") {
  {
    Cluster c;
    start_both(c);
    forge_table_block(c, RecordSeal::crc_only());
    Client a(c.alpha().socket);
    auto peer = c.ask(a, "table-peer");
    REQUIRE(peer["ok"] == true);
    REQUIRE(peer["entries"].size() == 1);  // without authentication the forgery is believed
    CHECK(peer["entries"][0]["name"] == "web");
  }
  for (const bool wrong_tag : {false, true}) {
    CAPTURE(wrong_tag);
    Cluster c{Authenticated{}};
    start_both(c);
    Client a(c.alpha().socket), b(c.beta().socket);
    REQUIRE(c.ask(b, "table-set db owned 2 1 1 0 0 5")["ok"] == true);  // a real entry, written with the key
    auto real = c.ask(a, "table-peer");
    REQUIRE(real["entries"].size() == 1);
    CHECK(real["entries"][0]["name"] == "db");
    forge_table_block(c, wrong_tag ? other_key_seal() : RecordSeal::crc_only());
    auto peer = c.ask(a, "table-peer");
    REQUIRE_MESSAGE(peer["ok"] == true, peer.dump());
    CHECK(peer["entries"].empty());  // neither the forged web nor db (its block is now unknown, never free)
    REQUIRE(peer["corrupt_blocks"].size() == 1);
    CHECK(peer["corrupt_blocks"][0].dump().find("bad authentication tag") != std::string::npos);
  }
}

TEST_CASE("quorumd in-process: start-up refuses a disk whose authentication flag and castor.ini disagree, or another key") {
  CHECK(start_with(false, false, true).ok());
  CHECK(start_with(true, true, true).ok());
  Status st = start_with(true, false, true);  // the disk is authenticated, the config is not
  CHECK(st.code() == Code::refused);
  CHECK_MESSAGE(st.message().find("set authenticate_disk = yes in [quorumd] and install the cluster's authkey") !=
                    std::string::npos,
                st.message());
  st = start_with(false, true, true);  // the config says yes, the disk (or a rewritten superblock) says no
  CHECK(st.code() == Code::refused);
  CHECK_MESSAGE(st.message().find("was initialised without authentication") != std::string::npos, st.message());
  st = start_with(true, true, false);  // another key than the disk's
  CHECK(st.code() == Code::refused);
  CHECK_MESSAGE(st.message().find("authentication tag does not verify with the key") != std::string::npos, st.message());
}

TEST_CASE("quorumd in-process: authenticated nodes exit 3 when the disk is re-initialised without their key under them") {
  // castor init without --authenticate (or with another key) of a new cluster: the new superblock's tag
  // does not verify, yet the node must not keep writing on the new cluster's disk.
  constexpr Duration kScrub = 300ms;
  Cluster c(kScrub, true);
  start_both(c);
  c.run_for(kScrub);
  REQUIRE_FALSE(c.alpha().daemon->done());
  reinitialise_disk_as_other_cluster(c);
  REQUIRE(c.run_until([&] { return c.alpha().daemon->done() && c.beta().daemon->done(); }, 3 * kScrub));
  for (Node* n : {&c.alpha(), &c.beta()}) CHECK(n->daemon->exit_code() == kQuorumdExitUnclean);
}

namespace {

// The bytes of one block of beta's region at `offset` (what the attacker saves, to write back later).
std::vector<std::byte> save_block(Cluster& c, uint64_t offset) {
  auto layout = *DiskLayout::for_sector_size(512);
  AlignedBuffer block(layout.block_size(), layout.block_size());
  MemoryBlockDevice dev(c.disk(), "mem");
  REQUIRE(read_blocking(dev, c.clock(), offset, block.span(), kIoTimeout).ok());
  return std::vector<std::byte>(block.span().begin(), block.span().end());
}

void write_back(Cluster& c, uint64_t offset, const std::vector<std::byte>& bytes) {
  auto layout = *DiskLayout::for_sector_size(512);
  AlignedBuffer block(layout.block_size(), layout.block_size());
  std::copy(bytes.begin(), bytes.end(), block.span().begin());
  MemoryBlockDevice dev(c.disk(), "mem");
  REQUIRE(write_blocking(dev, c.clock(), offset, block.span(), kIoTimeout).ok());
}

}  // namespace

// Finding E of review14c: a block beta really wrote earlier (valid tag) written back is not its table.
// Fails without the fix (quorumd/peer_region.cc check_replay): ./build/tests/unit_tests -tc='*written back*'
TEST_CASE("quorumd in-process: an older genuine table block or epoch record of the peer written back is unknown, never free") {
  Cluster c{Authenticated{}};
  start_both(c);
  Client a(c.alpha().socket), b(c.beta().socket);
  auto layout = *DiskLayout::for_sector_size(512);
  const uint64_t table0 = layout.service_table_offset(2);
  const uint64_t epoch = layout.epoch_record_offset(2);
  const auto init_block = save_block(c, table0);  // castor init's empty block (incarnation 0)
  const auto init_epoch = save_block(c, epoch);   // castor init's floor 0 (incarnation 0)
  REQUIRE(c.ask(b, "table-set db released 0 4 3 0 0 5")["ok"] == true);
  auto released = c.ask(a, "table-peer");
  REQUIRE(released["entries"].size() == 1);
  REQUIRE(released["entries"][0]["block"] == 0);  // the saved block is db's
  CHECK(released["entries"][0]["state"] == "released");
  const auto released_block = save_block(c, table0);  // beta's genuine "released" block, same incarnation
  REQUIRE(c.ask(b, "table-set db owned 2 5 6 0 0 5")["ok"] == true);
  auto owned = c.ask(a, "table-peer");
  REQUIRE(owned["entries"].size() == 1);
  CHECK(owned["entries"][0]["state"] == "owned");
  CHECK(owned["corrupt_blocks"].empty());
  REQUIRE(owned["peer_epoch_floor"] == 5);

  // The same incarnation's older block: its entries are unknown (never "released", free to claim).
  write_back(c, table0, released_block);
  for (int i = 0; i < 2; ++i) {  // and stays so at every read (logged once)
    auto peer = c.ask(a, "table-peer");
    REQUIRE_MESSAGE(peer["ok"] == true, peer.dump());
    CHECK(peer["entries"].empty());
    REQUIRE(peer["corrupt_blocks"].size() == 1);
    CHECK(peer["corrupt_blocks"][0]["block"] == 0);
    CHECK_MESSAGE(peer["corrupt_blocks"][0].dump().find("replayed: record seq") != std::string::npos,
                  peer.dump());
  }
  // castor init's empty block after the incarnation's own: the same.
  write_back(c, table0, init_block);
  auto empty = c.ask(a, "table-peer");
  CHECK(empty["entries"].empty());
  REQUIRE(empty["corrupt_blocks"].size() == 1);
  CHECK_MESSAGE(empty["corrupt_blocks"][0].dump().find("incarnation 0") != std::string::npos, empty.dump());
  // The epoch record: castor init's floor 0 after floor 5 is no floor at all.
  write_back(c, epoch, init_epoch);
  auto floor = c.ask(a, "table-peer");
  CHECK(floor["peer_epoch_floor"].is_null());
  CHECK_MESSAGE(floor.value("peer_epoch_floor_error", "").find("replayed") != std::string::npos, floor.dump());

  // beta's next writes (higher seq) are read again.
  REQUIRE(c.ask(b, "table-set db owned 2 5 7 0 0 5")["ok"] == true);
  auto again = c.ask(a, "table-peer");
  REQUIRE(again["entries"].size() == 1);
  CHECK(again["entries"][0]["ballot"] == 7);
  CHECK(again["corrupt_blocks"].empty());
}

// ---------------------------------------------------------------------------------------------------------
// The LAN heartbeat and the promises of a shared storage stall (issue 15); stall_both, unstall_both and
// fenced are the in-process cluster's (tests/support/inprocess_quorumd.h).

TEST_CASE("quorumd in-process LAN: both disk paths stall for 30 T with the LAN up: no stop, no fence, pets go on; the disk returns and nobody is DEAD") {
  Cluster c{WithLan{}};
  start_both(c);
  Client sm(c.alpha().socket);
  REQUIRE(c.ask(sm, "subscribe service-manager")["ok"] == true);
  c.run_for(500ms);
  auto s0 = c.status(c.alpha());
  REQUIRE(s0["channels"]["lan"].size() == 1);
  CHECK(s0["channels"]["lan"][0]["up"] == true);
  CHECK(s0["channels"]["lan"][0]["peer_hears_me"] == true);
  CHECK(s0["channels"]["disk"]["up"] == true);
  CHECK(s0["promises"]["enabled"] == true);

  stall_both(c);
  const TimePoint stalled = c.now();
  const Timing& t = c.timing();
  bool stop_seen = false;
  // svcmgr times the lease from quorumd's lease_renewed events and kills every service when it runs out:
  // a promise that extends the lease must be announced like a renewal.
  std::optional<TimePoint> svcmgr_lease_end;
  int renewals_in_stall = 0;
  while (c.now() < stalled + 30 * t.io_timeout) {
    c.step();
    while (auto f = sm.poll()) {
      auto e = parse_quorumd_event(*f);
      if (!e.ok()) continue;
      if (e->kind == QuorumdEventKind::lease_at_risk) stop_seen = true;
      if (e->kind == QuorumdEventKind::lease_renewed && e->lease_expiry_boottime_ns) {
        svcmgr_lease_end = TimePoint(std::chrono::nanoseconds(*e->lease_expiry_boottime_ns));
        ++renewals_in_stall;
      }
    }
    REQUIRE(svcmgr_lease_end);
    REQUIRE(*svcmgr_lease_end > c.now());
    REQUIRE_FALSE(fenced(c.alpha()));
    REQUIRE_FALSE(fenced(c.beta()));
    REQUIRE(has_lease(c, c.alpha()));
    REQUIRE(has_lease(c, c.beta()));
    REQUIRE_FALSE(sees(c.alpha(), PeerView::dead));
    REQUIRE_FALSE(sees(c.beta(), PeerView::dead));
  }
  CHECK_FALSE(stop_seen);
  CHECK(renewals_in_stall > 40);
  // The watchdog was petted all along (with W of lease left each time).
  CHECK(c.alpha().record.pets.back() >= c.now() - t.renew_interval - kStep);
  auto s = c.status(c.alpha());
  CHECK(s["channels"]["disk"]["up"] == false);
  CHECK(s["promises"]["requesting"] == true);
  CHECK(s["promises"]["riding_through_stall"] == true);
  CHECK(s["promises"]["received"].get<uint64_t>() > 20);
  CHECK(s["promises"]["granted"].get<uint64_t>() > 20);
  // One grant per request, one request per interval (R here): a grant reply never asks in turn, so the two
  // nodes do not ping-pong grants ever faster.
  const uint64_t intervals = uint64_t((30 * t.io_timeout) / t.renew_interval);
  CHECK(s["promises"]["granted"].get<uint64_t>() <= 4 * intervals + 5);  // asking four times per interval
  CHECK(s["channels"]["lan"][0]["sent"].get<uint64_t>() <= 2 * (4 * intervals + 20));
  CHECK(s["channels"]["lan"][0]["peer_disk_ok"] == false);

  unstall_both(c);
  c.run_for(3 * Duration(t.dead));
  for (Node* n : {&c.alpha(), &c.beta()}) {
    CHECK_FALSE(fenced(*n));
    CHECK(sees(*n, PeerView::up));
    CHECK(c.status(*n)["fences"] == 0);
    CHECK(c.status(*n)["channels"]["disk"]["up"] == true);
  }
}

TEST_CASE("quorumd in-process LAN: the same stall with the LAN down: both fence as without a LAN") {
  Cluster c{WithLan{}};
  start_both(c);
  c.lan().cut.insert("10.9.1.1");
  c.run_for(200ms);
  stall_both(c);
  const TimePoint stalled = c.now();
  REQUIRE(c.run_until([&] { return fenced(c.alpha()) && fenced(c.beta()); }, 2s));
  CHECK(c.now() - stalled <= Duration(c.timing().lease) + kStep);
  CHECK(c.status(c.alpha())["promises"]["received"] == 0);
}

TEST_CASE("quorumd in-process LAN: only alpha's path stalls: beta (disk ok) never grants, alpha fences at F, beta declares it DEAD after D") {
  Cluster c{WithLan{}};
  start_both(c);
  c.run_for(500ms);
  c.alpha().env->faulty()->hang_all();
  const TimePoint stalled = c.now();
  std::optional<TimePoint> f, dead;
  REQUIRE(c.run_until(
      [&] {
        if (!f && fenced(c.alpha())) f = c.now();
        if (!dead && sees(c.beta(), PeerView::dead)) dead = c.now();
        return f && dead;
      },
      5s));
  const Timing& t = c.timing();
  CHECK(*f <= stalled + t.lease + kStep);
  CHECK(*f < *dead);
  CHECK(*dead - stalled <= Duration(t.dead) + 2 * t.renew_interval + 2 * kStep);  // failover time as without a LAN
  CHECK(c.status(c.beta())["promises"]["granted"] == 0);
  CHECK(c.status(c.alpha())["promises"]["received"] == 0);
  // beta still hears alpha on the LAN: the status says so (its storage path is the problem, not the node).
  auto s = c.status(c.beta());
  CHECK(s["channels"]["lan"][0]["up"] == true);
  CHECK(s["channels"]["lan"][0]["peer_disk_ok"] == false);
}

TEST_CASE("quorumd in-process LAN: the LAN is cut during a shared stall: both fence once the promises run out; DEAD only after the last grant + P + D") {
  Cluster c{WithLan{}};
  start_both(c);
  c.run_for(500ms);
  stall_both(c);
  c.run_for(10 * c.timing().io_timeout);
  REQUIRE_FALSE(fenced(c.alpha()));
  REQUIRE_FALSE(fenced(c.beta()));
  c.lan().cut.insert("10.9.1.1");
  const TimePoint cut = c.now();
  const TimePoint floor_beta = c.beta().daemon->core().promise_floor();
  CHECK(floor_beta >= cut);
  REQUIRE(c.run_until([&] { return fenced(c.alpha()) && fenced(c.beta()); }, 2s));
  const TimePoint alpha_lease_end = c.now();
  CHECK(alpha_lease_end <= cut + c.timing().lease + kStep);
  // The disk returns at once: beta's new incarnation reads alpha's block (unchanged, or alpha's rejoin).
  // Whatever it sees, no DEAD verdict about alpha before the floor its promises set + D.
  unstall_both(c);
  const TimePoint limit = floor_beta + c.timing().dead;
  while (c.now() < limit) {
    c.step();
    REQUIRE_FALSE(sees(c.beta(), PeerView::dead));
  }
}

TEST_CASE("quorumd in-process LAN: a heartbeat write is told over the LAN as it completes: a crashed peer's silence counts from its last write, not from the next read of it") {
  Cluster c{WithLan{}};
  start_both(c);
  c.run_for(300ms);
  // Beta crashes right after one of its heartbeat writes completed (its loop ends in that turn).
  const uint64_t before = c.beta().daemon->core().last_ok_written_seq();
  REQUIRE(c.run_until([&] { return c.beta().daemon->core().last_ok_written_seq() != before; }, 1s));
  const uint64_t last = c.beta().daemon->core().last_ok_written_seq();
  const uint64_t beta_life = c.beta().daemon->core().config().incarnation;
  c.beta().running = false;
  const TimePoint crashed = c.now();
  // Alpha reads that write on the disk at its next periodic read of beta's block (up to R later).
  REQUIRE(c.run_until([&] {
    const PeerMonitor& pm = c.alpha().daemon->core().peer();
    return pm.incarnation() == beta_life && pm.seq() == last;
  }, 1s));
  const QuorumCore& a = c.alpha().daemon->core();
  // The datagram beta sent in the turn its write completed reached alpha within a step: the silence counts
  // from there.
  CHECK(a.silence_start() <= crashed + kStep);
  CHECK(a.silence_start() < a.peer().first_seen());
}

TEST_CASE("quorumd in-process LAN: forged, replayed, truncated, oversized and wrong-key datagrams are counted and none accepted") {
  Cluster c{WithLan{}};
  start_both(c);
  c.run_for(300ms);
  // alpha pauses (sends nothing more); what it sent last is the attacker's material.
  c.alpha().running = false;
  c.run_for(50ms);
  auto& captured = c.lan().sent["10.9.1.1"];
  REQUIRE(captured.size() > 3);
  const std::vector<std::byte> good = captured.back();
  auto& inbox = c.lan().inbox["10.9.1.2"];
  inbox.clear();
  const uint64_t accepted0 = c.status(c.beta())["channels"]["lan"][0]["accepted"].get<uint64_t>();
  REQUIRE(accepted0 > 0);
  inbox.push_back(good);                                                   // a replay of one beta already took
  std::vector<std::byte> forged = good;
  forged[40] ^= std::byte{1};
  inbox.push_back(forged);                                                 // forged (tag does not verify)
  inbox.push_back(std::vector<std::byte>(good.begin(), good.begin() + 100));  // truncated
  std::vector<std::byte> big = good;
  big.resize(1400);
  inbox.push_back(big);                                                    // oversized
  {
    AuthKey other(std::as_bytes(std::span<const char>("another cluster key, 32 bytes!!!", 32)));
    auto seal = LanSeal::from_cluster_key(other);
    REQUIRE(seal.ok());
    LanDatagram d;
    d.cluster_uuid = c.cluster_uuid();
    d.sender_node = 1;
    d.link = 1;
    d.incarnation = c.alpha().daemon->core().config().incarnation;
    d.seq = 1u << 30;
    auto bytes = encode_lan_datagram(d, *seal);
    REQUIRE(bytes.ok());
    inbox.push_back(std::vector<std::byte>(bytes->begin(), bytes->end()));  // wrong key
  }
  c.run_for(50ms);
  auto after = c.status(c.beta())["channels"]["lan"][0];
  CHECK(after["accepted"].get<uint64_t>() == accepted0);  // none of them
  CHECK(after["refused"]["replayed"].get<uint64_t>() == 1);
  CHECK(after["refused"]["bad_tag"].get<uint64_t>() == 2);
  CHECK(after["refused"]["truncated"].get<uint64_t>() == 1);
  CHECK(after["refused"]["oversized"].get<uint64_t>() == 1);
}

// CI found it (svcmgr_many_services under ASan, 40 services relocated at once): quorumd refused to submit its
// heartbeat write while the device held 12 of its I/Os, counting table I/Os still inside their deadlines, so
// a busy but working disk failed every write and the lease ran out. Only I/Os that already timed out and are
// still held (a stalled path) count.
TEST_CASE("quorumd: a busy device with many I/Os inside their deadlines still takes heartbeat I/O; a stalled one holding 12 timed out does not") {
  FakeClock clock;
  auto disk = std::make_shared<MemoryDisk>(512, 1 << 20);
  FaultyBlockDevice dev{std::make_shared<MemoryBlockDevice>(disk, "mem0")};
  std::vector<std::byte> data(512, std::byte{1});
  std::vector<IoCompletion> done;
  dev.delay_all(Millis(90));  // every I/O finishes inside its 100 ms deadline
  for (uint64_t tag = 1; tag <= 20; ++tag)
    REQUIRE(dev.submit_write(tag, 512 * tag, data, clock.now(), clock.now() + Millis(100)).ok());
  CHECK(dev.held_by_kernel() == 20);
  CHECK_FALSE(QuorumDaemon::path_holds_too_many(dev));
  clock.advance(Millis(90));
  dev.reap(clock.now(), done);
  CHECK(done.size() == 20);

  dev.hang_all();
  for (uint64_t tag = 21; tag < 21 + QuorumDaemon::kMaxHeldBeforeSubmit; ++tag)
    REQUIRE(dev.submit_write(tag, 512 * (tag - 20), data, clock.now(), clock.now() + Millis(100)).ok());
  CHECK_FALSE(QuorumDaemon::path_holds_too_many(dev));  // held, but not yet timed out
  clock.advance(Millis(100));
  done.clear();
  dev.reap(clock.now(), done);
  CHECK(done.size() == QuorumDaemon::kMaxHeldBeforeSubmit);
  CHECK(dev.held_after_timeout() == QuorumDaemon::kMaxHeldBeforeSubmit);
  CHECK(QuorumDaemon::path_holds_too_many(dev));
  dev.release_hung(clock.now());
  done.clear();
  dev.reap(clock.now(), done);
  CHECK(dev.held_by_kernel() == 0);
  CHECK_FALSE(QuorumDaemon::path_holds_too_many(dev));
}

// castor standby PEER (docs/design.md "Standby asked from the peer"), as review 20d broke it: the feature bit
// only while a service manager that acts on requests is connected; a request nobody acts on expires; what
// was handled survives a new life of the daemon's core.
TEST_CASE("quorumd in-process: peer requests: the takes-requests bit follows svcmgr, an unhandled request expires") {
  Cluster c;
  start_both(c);
  Client a(c.alpha().socket), b(c.beta().socket);
  auto peer_of = [&](Client& cl) {
    auto r = parse_table_peer_reply(c.ask_text(cl, "table-peer"));
    REQUIRE_MESSAGE(r.ok(), r.status().to_string());
    return r->peer;
  };
  c.run_for(c.timing().renew_interval * 2);
  CHECK_FALSE(peer_of(a).takes_requests);  // beta's svcmgr has not said it acts on requests
  {
    Client sm(c.beta().socket);
    REQUIRE(c.ask(sm, "peer-requests-taken")["ok"] == true);
    c.run_for(c.timing().renew_interval * 2);
    CHECK(peer_of(a).takes_requests);
  }  // that svcmgr's connection closes
  c.run_for(c.timing().renew_interval * 2);
  CHECK_FALSE(peer_of(a).takes_requests);

  // alpha asks; beta sees it; beta's svcmgr handles it and alpha takes it down.
  auto asked = c.ask(a, "peer-request standby");
  REQUIRE(asked["ok"] == true);
  const uint64_t serial = asked["serial"].get<uint64_t>();
  c.run_for(c.timing().renew_interval * 2);
  PeerSummary seen = peer_of(b);
  CHECK(seen.request == PeerRequest::standby);
  CHECK(seen.request_serial == serial);
  CHECK(c.ask(a, "status")["peer_request"]["kind"] == "standby");
  REQUIRE(c.ask(b, "peer-request-done " + std::to_string(seen.incarnation) + " " + std::to_string(serial))["ok"] == true);
  c.run_for(c.timing().renew_interval * 3);
  CHECK(c.ask(a, "status")["peer_request"].is_null());
  CHECK(peer_of(b).request == PeerRequest::none);
  CHECK(peer_of(b).handled_serial == serial);

  // A request nobody acts on is taken down after its lifetime, not kept for whenever a svcmgr starts.
  REQUIRE(c.ask(a, "peer-request unstandby")["ok"] == true);
  c.run_for(std::chrono::seconds(59));
  CHECK(c.ask(a, "status")["peer_request"]["kind"] == "unstandby");
  c.run_for(std::chrono::seconds(2));
  CHECK(c.ask(a, "status")["peer_request"].is_null());
  c.run_for(c.timing().renew_interval * 2);
  CHECK(peer_of(b).request == PeerRequest::none);
}

TEST_CASE("quorumd in-process: peer_updated tells a subscriber when the peer's table changed, and only then") {
  Cluster c;
  start_both(c);
  Client a(c.alpha().socket), sm(c.beta().socket);
  REQUIRE(c.ask(sm, "subscribe service-manager")["ok"] == true);
  auto updates = [&] {
    int n = 0;
    while (auto f = sm.poll()) {
      auto e = parse_quorumd_event(*f);
      if (e.ok() && e->kind == QuorumdEventKind::peer_updated) ++n;
    }
    return n;
  };
  c.run_for(c.timing().renew_interval * 4);
  (void)updates();
  const auto& pm = c.beta().daemon->core().peer();
  REQUIRE(pm.record().has_value());
  CHECK((pm.record()->features & HeartbeatRecord::kPublishesTableGeneration) != 0);
  const uint64_t gen = pm.record()->table_generation;
  // Idle: alpha's heartbeats go on, nothing of it changes, no event.
  c.run_for(c.timing().renew_interval * 10);
  CHECK(updates() == 0);
  CHECK(pm.record()->table_generation == gen);
  // alpha writes an entry (its epoch record, then the block): within two renew intervals of the write's
  // completion beta's subscriber hears it, with the generation that counts the writes.
  REQUIRE(c.ask(a, "table-set web owned 1 3 7 0 0 99")["ok"] == true);
  REQUIRE(c.run_until([&] { return pm.record()->table_generation > gen; }, c.timing().renew_interval * 2));
  CHECK(pm.record()->table_generation == gen + 2);
  c.run_for(c.timing().renew_interval / 2);
  CHECK(updates() >= 1);
  c.run_for(c.timing().renew_interval * 10);
  CHECK(updates() == 0);
  // A standby of alpha is news too (no table write).
  REQUIRE(c.ask(a, "standby 1")["ok"] == true);
  c.run_for(c.timing().renew_interval * 3);
  CHECK(updates() >= 1);
}
