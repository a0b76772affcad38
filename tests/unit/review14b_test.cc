// Second review of issue 14 (after the first review's fixes): failing cases that prove the findings. Each
// case that fails on main is marked doctest::should_fail() (so the suite stays green) with a comment; remove
// the mark to see the failure: ./build/tests/unit_tests -tc='review14b*'.
// FINDING N is the report's numbering (session 24, most severe first); the cases here need no root or cgroups
// (findings 2, 5, 6 are in tests/root/review14b_test.cc).
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include "agent/agent_command_builder.h"
#include "common/names.h"
#include "common/trusted_path.h"
#include "common/unix_socket.h"
#include "config/service_loader.h"
#include "disk/disk_layout.h"
#include "disk/service_table_record.h"
#include "quorumd/process_groups.h"
#include "svcmgr/definition_store.h"
#include "tests/support/sample_service_file.h"
#include "tests/support/scratch.h"

using namespace castor;
using castor::testing::ScratchDir;
using castor::testing::kWebServiceText;
using castor::testing::load_web_service;

namespace {

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// Node 1's service-table block 0 holding one owned entry named `name`, encoded and decoded again (CRC only).
Result<ServiceTableRecord> round_trip_entry_named(const std::string& name) {
  auto layout = DiskLayout::for_sector_size(512);
  REQUIRE(layout.ok());
  std::vector<std::byte> block(layout->block_size());
  ServiceTableRecord rec;
  rec.node_id = 1;
  rec.block_index = 0;
  rec.incarnation = 1;
  rec.seq = 1;
  rec.entries.resize(layout->services_per_block());
  rec.entries[0] = {true, OwnershipState::owned, 0, 1, 1, 1, 0, 0, 0, name};
  REQUIRE(encode_service_table(rec, *layout, RecordSeal::crc_only(), block).ok());
  return decode_service_table(block, *layout, 1, 0, RecordSeal::crc_only());
}

}  // namespace

// FINDING 1 (security: root for whoever can write svcmgr's state_dir). svcmgr stops (and probes) a service
// with the SAVED COPY of its definition, state_dir/definitions/NODE/NAME.ini, when the service file was
// removed (adopt_removed) or changed (AdoptDefinition::saved) while svcmgr was down and the entry is up.
// DefinitionStore::load reads that copy with no trusted-path check (svcmgr/definition_store.cc:84-96), so a
// copy in a directory others can write to is run as root: `shell = yes` + `stop = <anything>` uses
// /bin/sh, which passes check_agent_program. The service files, castor.ini and services.d are refused in
// that situation (issue 14); the copies svcmgr runs from are not.
// Expected: load() refuses (Code::refused) a copy that anyone but root can change. On main it returns the
// planted definition.
TEST_CASE("review14b: a saved definition copy others can write to is refused, not run as root") {
  // Fixed: DefinitionStore::load reads a copy only through the trusted-path check (and O_NOFOLLOW).
  ScratchDir dir;
  LoadResult r = load_web_service(dir);
  const std::string store_dir = dir.file("state/definitions/a");
  DefinitionStore store(store_dir);
  REQUIRE(store.save(r.services[0], {"a", "b"}).ok());

  // The state directory is writable by others (an admin's state_dir on a shared volume, a package that
  // made it 0777, ...): anyone replaces the copy.
  REQUIRE(::chmod(store_dir.c_str(), 0777) == 0);
  const std::string copy_path = store_dir + "/web.ini";  // DefinitionStore::path_of
  const std::string planted = std::string(kWebServiceText).replace(std::string(kWebServiceText).find("rm -f /tmp/web"),
                                                        std::string("rm -f /tmp/web").size(),
                                                        "cp /bin/sh /tmp/rootshell; chmod 4755 /tmp/rootshell");
  write(copy_path, planted);
  REQUIRE(::chmod(copy_path.c_str(), 0666) == 0);
  REQUIRE_FALSE(check_trusted_path(copy_path).ok());  // the loader's own rule refuses this file

  auto back = store.load("web", {"a", "b"});
  // What svcmgr would run as root at the next restart (adopt_removed / adopt_service 'saved'):
  if (back.ok() && back->has_value()) MESSAGE("stop line svcmgr would run as root: " << (**back).resources[0].stop_line);
  CHECK_FALSE(back.ok());
  if (!back.ok()) CHECK(back.status().code() == Code::refused);
}

// FINDING 1, second half (security: any root-owned file overwritten). DefinitionStore::save_copy writes
// state_dir/definitions/NODE/NAME.ini.tmp with open(O_WRONLY|O_CREAT|O_TRUNC) (svcmgr/definition_store.cc:67:
// no O_NOFOLLOW, no O_EXCL) and make_dirs() accepts an existing directory whatever its owner and mode. In a
// directory others can write to (not sticky, so fs.protected_symlinks does not apply) anyone plants
// NAME.ini.tmp -> /etc/shadow (or /etc/sudoers.d/x, /root/.ssh/authorized_keys) and svcmgr, as root,
// truncates it and writes the service file's text there at the next load or reload.
// Expected: save() refuses a store directory anyone but root can change (or never follows a link). On main
// the link's target is overwritten.
TEST_CASE("review14b: saving a definition copy never writes through a link planted in the store") {
  // Fixed: the store's directory must be root's alone, and the .tmp is created O_EXCL|O_NOFOLLOW.
  ScratchDir dir;
  LoadResult r = load_web_service(dir);
  const std::string store_dir = dir.file("state/definitions/a");
  REQUIRE(::mkdir(dir.file("state").c_str(), 0755) == 0);
  REQUIRE(::mkdir(dir.file("state/definitions").c_str(), 0755) == 0);
  REQUIRE(::mkdir(store_dir.c_str(), 0777) == 0);
  REQUIRE(::chmod(store_dir.c_str(), 0777) == 0);  // writable by others, not sticky
  const std::string victim = dir.file("victim");    // stands for /etc/shadow
  write(victim, "precious\n");
  REQUIRE(::symlink(victim.c_str(), (store_dir + "/web.ini.tmp").c_str()) == 0);

  DefinitionStore store(store_dir);
  Status st = store.save(r.services[0], {"a", "b"});
  std::ifstream f(victim);
  std::string first;
  std::getline(f, first);
  CHECK_MESSAGE(first == "precious", "svcmgr wrote through the planted link; the victim now starts with '" << first
                                                                                                        << "' (save: "
                                                                                                        << st.to_string() << ")");
}

// Control: a copy svcmgr wrote itself, in a directory only root can change, still loads (the fix must keep
// this green).
TEST_CASE("review14b: a saved copy only root can change loads (control for the case above)") {
  ScratchDir dir;
  LoadResult r = load_web_service(dir);
  DefinitionStore store(dir.file("state/definitions/a"));
  REQUIRE(store.save(r.services[0], {"a", "b"}).ok());
  auto back = store.load("web", {"a", "b"});
  REQUIRE(back.ok());
  REQUIRE(back->has_value());
  CHECK((**back).resources[0].stop_line == "rm -f /tmp/web");
}

// FINDING 8 (availability, low): connect_unix_socket(path, nonblocking=true) sets O_NONBLOCK only after
// connect() (lib/common/unix_socket.cc:22), and an AF_UNIX connect() blocks while the listener's backlog is
// full. svcmgr's start-up loop (svcmgr_daemon.cc:127-133, bounded by connect_timeout) and every castor verb
// (ControlClient::connect, "10 s"/"5 s" timeouts) then hang without bound on a quorumd/svcmgr that is stopped
// (SIGSTOP, a debugger, frozen by the tests' nemesis) or not accepting, once 17 connections wait (listen(16)).
// Expected: with nonblocking=true the call returns (an error) instead of blocking. On main it blocks until the
// listener goes away.
TEST_CASE("review14b: a non-blocking control connect does not hang on a server whose backlog is full") {
  // Fixed: SOCK_NONBLOCK at socket(): EAGAIN is Code::busy at once (blocking: bounded by SO_SNDTIMEO).
  ScratchDir dir;
  const std::string path = dir.file("s.sock");
  int lfd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(lfd >= 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  REQUIRE(::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::listen(lfd, 0) == 0);  // a stopped daemon: nothing is accepted
  // Fill the backlog (backlog 0 holds one pending connection).
  std::vector<UniqueFd> pending;
  for (int i = 0; i < 2; ++i) {
    int c = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    REQUIRE(c >= 0);
    (void)::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a);  // the second one: EAGAIN
    pending.emplace_back(c);
  }
  std::atomic<bool> returned{false};
  std::thread t([&] {
    auto fd = connect_unix_socket(path, /*nonblocking=*/true);
    (void)fd;
    returned = true;
  });
  for (int i = 0; i < 100 && !returned; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const bool returned_in_time = returned;
  ::close(lfd);  // wakes a blocked connect (ECONNREFUSED) so that the thread ends either way
  t.join();
  CHECK_MESSAGE(returned_in_time, "connect_unix_socket(nonblocking) still blocked after 1 s");
}

// FINDING 7 (availability: quorumd's real-time loop stalls on a busy host). ProcessGroups::add() prunes
// every registered group first (quorumd/process_groups.cc:25), and each check is_castors -> QuorumdEnv::
// group_in_cgroup_tree -> process_group_in_cgroup_tree, which reads /proc/PID/stat of EVERY process on the
// host (lib/agent/service_cgroup.cc:403-437). So each `register-pgid` (svcmgr sends one per start/stop action)
// costs (registered groups) x (processes on the host) file reads inside quorumd's SCHED_FIFO heartbeat loop:
// measured here 1.7 ms per scan with 180 processes (~9 us per process), so with 20 registered groups on a
// host of 10 000 processes (a container host) one registration blocks the loop ~1.9 s, about two renew
// intervals at the default io_timeout of 2 s, and a mass start after a failover repeats it per service.
// Expected: the number of whole-/proc scans per add() does not grow with the number of registered groups
// (one scan can answer for every group). On main, registering 64 groups costs 2016 scans.
TEST_CASE("review14b: registering a process group does not rescan /proc once per registered group") {
  // Fixed: add() checks at most two registered groups, in turn (ProcessGroups::prune_some).
  size_t scans = 0;
  ProcessGroups groups([](pid_t, int) { return 0; },            // every group exists
                       [] { return Result<size_t>(size_t(0)); },  // nothing in the cgroups
                       [&](pid_t) -> Result<bool> {
                         ++scans;  // in quorumd: process_group_in_cgroup_tree, one pass over all of /proc
                         return true;
                       });
  constexpr int kGroups = 64;
  for (int i = 0; i < kGroups; ++i) REQUIRE(groups.add(pid_t(4300000 + i)).ok());  // above any pid_max: never our own group
  CHECK(groups.groups().size() == size_t(kGroups));
  MESSAGE(kGroups << " registrations cost " << scans << " whole-/proc scans");
  CHECK(scans <= size_t(2 * kGroups));
}

// FINDING 3 (security: root for whoever can write an interpreter or program an agent uses). check_agent_program
// checks argv[0] only (lib/agent/agent_command_builder.cc:88-93). (a) A root-owned script whose '#!' line
// names an interpreter others can change (#!/opt/app/venv/bin/python, an application's own runtime: a common
// layout) passes, and the kernel runs that interpreter as root. (b) With shell = yes only /bin/sh is checked
// (documented), so `start = /opt/app/bin/ctl start` is refused without shell = yes and run as root with it.
// Expected: the interpreter of a '#!' script, and an absolute program that starts a shell line, are held to
// the same rule as argv[0]. On main both pass.
namespace {
AgentCommand start_command_of(const std::string& service_text) {
  LoadResult r = load_service_text(service_text, "/etc/castor/services.d/app.ini", {"a", "b"});
  REQUIRE_MESSAGE(r.ok(), r.error_text());
  RunContext ctx;
  auto cmd = build_agent_command(r.services[0].resources[0], AgentAction::start, ctx);
  REQUIRE(cmd.ok());
  return *cmd;
}
}  // namespace

TEST_CASE("review14b: an agent script whose #! interpreter others can change is refused") {
  // Fixed: check_agent_program checks a script's #! interpreter too (common/trusted_program.h).
  ScratchDir dir;
  const std::string app = dir.file("app"), bin = dir.file("bin");
  REQUIRE(::mkdir(app.c_str(), 0755) == 0);
  REQUIRE(::chmod(app.c_str(), 0777) == 0);  // the application's tree, writable by its own user (others here)
  REQUIRE(::mkdir(bin.c_str(), 0755) == 0);
  write(app + "/python", "#!/bin/sh\nexit 0\n");
  REQUIRE(::chmod((app + "/python").c_str(), 0755) == 0);
  write(bin + "/ctl", "#!" + app + "/python\n");
  REQUIRE(::chmod((bin + "/ctl").c_str(), 0755) == 0);
  REQUIRE(check_trusted_path(bin + "/ctl").ok());               // the script itself is root's alone
  REQUIRE_FALSE(check_trusted_path(app + "/python").ok());      // its interpreter is not
  AgentCommand cmd = start_command_of("[service]\nname = app\nnodes = a, b\n\n[resource r]\nagent = exec\n"
                                      "start = " + bin + "/ctl start\nstop = " + bin + "/ctl stop\n");
  Status st = check_agent_program(cmd);
  CHECK_MESSAGE(!st.ok(), "an agent whose interpreter " << app << "/python anyone can replace passes the check");
}

TEST_CASE("review14b: shell = yes does not turn an untrusted program into a trusted one") {
  // Fixed: the absolute program that starts a shell line is checked too.
  ScratchDir dir;
  const std::string app = dir.file("app");
  REQUIRE(::mkdir(app.c_str(), 0755) == 0);
  REQUIRE(::chmod(app.c_str(), 0777) == 0);
  write(app + "/ctl", "#!/bin/sh\nexit 0\n");
  REQUIRE(::chmod((app + "/ctl").c_str(), 0755) == 0);
  const std::string head = "[service]\nname = app\nnodes = a, b\n\n[resource r]\nagent = exec\n";
  // Without a shell: refused (issue 14).
  CHECK_FALSE(check_agent_program(start_command_of(head + "start = " + app + "/ctl start\nstop = " + app + "/ctl stop\n")).ok());
  // The same command through the shell.
  Status st = check_agent_program(
      start_command_of(head + "shell = yes\nstart = " + app + "/ctl start\nstop = " + app + "/ctl stop\n"));
  CHECK_MESSAGE(!st.ok(), "with shell = yes, " << app << "/ctl (writable by others) is run as root");
}

// FINDING 4 (security, for someone with write access to the SAN disk: a root-owned *.ini deleted). A service
// table entry's name is not validated when decoded (lib/disk/service_table_record.cc:92-93: only "not empty,
// fits 63 bytes"; node names in the superblock ARE checked with check_name). svcmgr adopts every entry of its
// own table that is up for a service no file defines (svcmgr_daemon.cc:174 -> adopt_removed), with that
// name, as an orphan, and the log tells the admin to run `castor reset NAME`; after the reset the service is
// dropped and DefinitionStore::remove(name) unlinks state_dir/definitions/NODE/NAME.ini (svcmgr_loop.cc:193,
// definition_store.cc:100) -- for NAME = "../../../../etc/castor/castor", /etc/castor/castor.ini. The disk
// records carry a CRC, not an HMAC (issue 14's authentication is not done), so anyone who can write the LUN
// can plant such an entry. (The load of a copy by that name is safe: the loaded service's own name, which
// check_name validates, must equal it.)
// Expected: decode refuses an entry name check_name refuses (or the store refuses such a name). On main both
// pass through.
TEST_CASE("review14b: a service table entry named like a path is refused, and the store never leaves its directory") {
  auto back = round_trip_entry_named("../../../../etc/castor/castor");
  CHECK_MESSAGE(!back.ok(), "an entry named '../../../../etc/castor/castor' decodes as valid");

  ScratchDir dir;
  write(dir.file("victim.ini"), "precious\n");  // stands for /etc/castor/castor.ini
  DefinitionStore store(dir.file("state/definitions/a"));
  REQUIRE(::mkdir(dir.file("state").c_str(), 0700) == 0);
  REQUIRE(::mkdir(dir.file("state/definitions").c_str(), 0700) == 0);
  REQUIRE(::mkdir(dir.file("state/definitions/a").c_str(), 0700) == 0);
  Status st = store.remove("../../../victim");
  struct stat sb;
  CHECK_MESSAGE(::stat(dir.file("victim.ini").c_str(), &sb) == 0,
                "DefinitionStore::remove(\"../../../victim\") deleted a file outside the store (" << st.to_string() << ")");
}

// FINDING 4, the decode half (the case above checks both halves): an entry whose name is not a service name makes its block
// corrupt -- the protocol already treats a corrupt block safely -- so it never reaches svcmgr's orphan
// adoption, its log hint `castor reset NAME` or DefinitionStore::remove. A valid name still decodes
// (control). The CLI's and svcmgr's reset refuse such a name too: tests/integration/service_names.sh.
TEST_CASE("review14b: a service table entry named like a path is refused on decode; a valid one decodes") {
  for (const std::string bad : {"../../../../etc/castor/castor", "a/b", "..", ".hidden", "-x", "a b", "x\x1b[2J"}) {
    auto back = round_trip_entry_named(bad);
    CHECK_MESSAGE(!back.ok(), "an entry named '" << bad << "' decodes as valid");
    if (!back.ok()) CHECK(back.status().code() == Code::corrupt);
  }
  auto good = round_trip_entry_named("web-1.db_x");
  REQUIRE_MESSAGE(good.ok(), good.status().to_string());
  CHECK(good->entries[0].name == "web-1.db_x");
}

// FINDING 5, the names half: a service or node named like a file the kernel puts in every cgroup directory
// cannot have a cgroup; the loader (and so svcmgr and `castor check`) refuses such a service name.
TEST_CASE("review14b: service names that are cgroup control file names are refused by the loader") {
  for (const char* n : {"tasks", "notify_on_release", "release_agent", "cgroup.procs", "cgroup.kill", "memory.max",
                        "cpu.weight", "pids.max", "freezer.state", "net_cls.classid", "misc.max", "io.max"}) {
    CHECK_MESSAGE(is_reserved_cgroup_name(n), std::string(n));
    LoadResult r = load_service_text(std::string("[service]\nname = ") + n +
                                         "\nnodes = a, b\n\n[resource r]\nagent = exec\nshell = yes\nstart = true\n"
                                         "stop = true\n",
                                     "/etc/castor/services.d/x.ini", {"a", "b"});
    CHECK_MESSAGE(!r.ok(), "service '" << std::string(n) << "' loads");
    CHECK_MESSAGE(r.error_text().find("reserved") != std::string::npos, r.error_text());
  }
  for (const char* n : {"task", "tasks2", "memory", "cpu", "cgroup", "web.tasks", "memoryx.max", "db.cgroup"}) {
    CHECK_MESSAGE(!is_reserved_cgroup_name(n), std::string(n));
    CHECK_MESSAGE(check_not_reserved_cgroup_name("service name", n).ok(), std::string(n));
  }
  CHECK_FALSE(is_valid_service_name("../x"));
  CHECK(is_valid_service_name("tasks"));  // a valid name; reserved only as a cgroup name
}
