// Test support: two whole quorumd instances (QuorumDaemon) in one process, for unit tests that drive both
// loops one turn at a time on a fake clock. Both share one memory quorum disk initialised as `castor init`
// does (each node's device a FaultyBlockDevice the test can hang), optionally a memory LAN, fake watchdogs
// and fake process-group signals (the QuorumdEnv seam; what they saw is kept in a Record), and have their
// real control sockets in a temporary directory removed at destruction.
// It must never touch a real device, watchdog, process group, cgroup or network: everything below the
// QuorumdEnv seam is in memory. Never used by production code.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/unique_fd.h"
#include "common/uuid.h"
#include "disk/block_device.h"
#include "disk/testing/faulty_block_device.h"
#include "disk/testing/memory_block_device.h"
#include "disk/timing.h"
#include "quorumd/quorum_daemon.h"
#include "quorumd/quorumd_env.h"

namespace castor::testing {

// The I/O timeout T of the cluster's quorum disk, and one step of fake time (Cluster::step).
inline constexpr Millis kIoTimeout{100};
inline constexpr Duration kStep = std::chrono::milliseconds(5);

// What a node's fake watchdog and fake process groups saw.
struct Record {
  std::vector<TimePoint> pets;
  bool disarmed = false;
  std::set<pid_t> alive;                            // process groups that "exist"
  std::vector<std::pair<pid_t, TimePoint>> killed;  // SIGKILLs sent, and when
  bool cgroup_busy = false;                         // a process in the services' cgroups (survives kills)
  int cgroup_kills = 0;                             // kill_cgroup_tree calls
  std::map<std::string, uint32_t> life_files;       // the node's life files (QuorumdEnv::load_life), by path
  std::optional<std::string> life_file_error;       // set: reading and writing the life file fail so
  std::map<std::string, bool> peer_watchdog_files;  // the node's peer-watchdog files (load_peer_no_watchdog), by path
  std::set<std::string> locks_held;                 // node locks (QuorumdEnv::lock_node) held by a daemon of the node
  std::vector<std::string> env_calls;               // lock_node, listen, store_life: in the order the daemons asked
};

// Pets only with more than `guard` of lease left, as the real watchdog does.
class FakeWatchdog final : public QuorumdWatchdog {
 public:
  FakeWatchdog(Record& r, Millis guard) : r_(r), guard_(guard) {}
  Result<bool> pet_within_lease(TimePoint now, std::optional<TimePoint> lease_expiry) override;
  Status disarm() override;
  const std::string& path() const override { return path_; }
  bool is_standin() const override { return false; }
  const char* kind() const override { return "fake"; }
  std::string describe() const override { return "fake watchdog"; }

 private:
  Record& r_;
  Millis guard_;
  std::string path_ = "fake-watchdog";
};

// The LAN of the in-process cluster: one inbox per address; an address in `cut` neither sends nor receives
// (a link pulled out). Tests may push their own bytes into an inbox (forgeries, replays).
struct MemoryLan {
  std::map<std::string, std::deque<std::vector<std::byte>>> inbox;
  std::set<std::string> cut;
  std::map<std::string, std::vector<std::vector<std::byte>>> sent;  // every datagram sent from an address
};

class MemoryLanSocket final : public LanSocket {
 public:
  MemoryLanSocket(MemoryLan& lan, LanLinkConfig link) : lan_(lan), link_(std::move(link)) {}
  int fd() const override { return -1; }
  Status send(std::span<const std::byte> d) override;
  Result<std::optional<size_t>> receive(std::span<std::byte> buf) override;
  std::string describe() const override { return "memory " + link_.local + " -> " + link_.peer; }

 private:
  MemoryLan& lan_;
  LanLinkConfig link_;
};

// What the daemon's read-write device is, given the FaultyBlockDevice under it (TestEnv::faulty() stays that
// FaultyBlockDevice). Empty: the FaultyBlockDevice itself. A test file models a property of the real device
// the fake lacks with it (review15: AioBlockDevice's bounded kernel queue).
using DeviceWrap = std::function<std::unique_ptr<BlockDevice>(std::unique_ptr<FaultyBlockDevice>)>;

// One node's QuorumdEnv: its devices on the shared memory disk, the memory LAN (none: opening a link fails),
// the fake watchdog and fake process groups recording into `record`.
class TestEnv final : public QuorumdEnv {
 public:
  TestEnv(FakeClock& clock, std::shared_ptr<MemoryDisk> disk, Record& record, MemoryLan* lan = nullptr,
          DeviceWrap wrap_device = {})
      : clock_(clock), disk_(std::move(disk)), record_(record), lan_(lan), wrap_device_(std::move(wrap_device)) {}
  Result<std::unique_ptr<LanSocket>> open_lan_socket(const LanLinkConfig& link, uint16_t) override;
  const Clock& clock() const override { return clock_; }
  Result<std::string> resolve_device(const std::string& spec) override { return spec; }
  Result<std::unique_ptr<BlockDevice>> open_device(const std::string& path, Access access) override;
  Result<std::unique_ptr<QuorumdWatchdog>> open_watchdog(const std::string&, Millis max_timeout) override;
  Result<std::unique_ptr<ControlServer>> listen(const std::string& path, ControlAccess access) override;
  // The life file in memory (shared by the node's lives in this test, as the file on its disk is).
  Result<uint32_t> load_life(const std::string& path) override {
    if (record_.life_file_error) return Error(Code::io_error, path + ": " + *record_.life_file_error);
    auto it = record_.life_files.find(path);
    return it == record_.life_files.end() ? uint32_t(0) : it->second;
  }
  Status store_life(const std::string& path, uint32_t life) override {
    record_.env_calls.push_back("store_life");
    if (record_.life_file_error) return Error(Code::io_error, path + ": " + *record_.life_file_error);
    record_.life_files[path] = life;
    return Status::Ok();
  }
  // The peer-watchdog file in memory (shared by the node's lives in this test, as the file on its disk is).
  Result<std::optional<bool>> load_peer_no_watchdog(const std::string& path) override {
    auto it = record_.peer_watchdog_files.find(path);
    if (it == record_.peer_watchdog_files.end()) return std::optional<bool>();
    return std::optional<bool>(it->second);
  }
  Status store_peer_no_watchdog(const std::string& path, bool peer_without_watchdog) override {
    record_.env_calls.push_back("store_peer_no_watchdog");
    record_.peer_watchdog_files[path] = peer_without_watchdog;
    return Status::Ok();
  }
  // The node lock: one holder per path among the node's daemons (they share the Record, as processes share
  // the node's state directory); released when the daemon holding it is destroyed.
  Result<std::unique_ptr<QuorumdNodeLock>> lock_node(const std::string& path) override;
  void tune_process(const QuorumdConfig&) override { ++tuned_; }
  int signal_process_group(pid_t pgid, int signo) override;
  Result<size_t> kill_cgroup_tree(const std::string&) override;
  Result<bool> cgroup_tree_busy(const std::string&) override { return record_.cgroup_busy; }

  FaultyBlockDevice* faulty() { return faulty_; }  // the loop's device (owned by the daemon)
  int tuned() const { return tuned_; }
  // A set of quorum devices (ClusterOptions::device_set): the disk behind each path; open_device(path) opens
  // that one (an unknown path fails, as a missing device does). faulty(path)/memory(path): this node's path
  // to it, as the loop opened it (nullptr before).
  void use_device_set(std::map<std::string, std::shared_ptr<MemoryDisk>> disks) { set_disks_ = std::move(disks); }
  FaultyBlockDevice* faulty(const std::string& path) { return set_faulty_.count(path) ? set_faulty_[path] : nullptr; }
  MemoryBlockDevice* memory(const std::string& path) { return set_memory_.count(path) ? set_memory_[path] : nullptr; }

 private:
  FakeClock& clock_;
  std::shared_ptr<MemoryDisk> disk_;
  std::map<std::string, std::shared_ptr<MemoryDisk>> set_disks_;
  std::map<std::string, FaultyBlockDevice*> set_faulty_;
  std::map<std::string, MemoryBlockDevice*> set_memory_;
  std::map<std::string, std::shared_ptr<const FaultPolicy>> set_policies_;  // each path's policy (read-only opens follow it)
  Record& record_;
  MemoryLan* lan_;
  DeviceWrap wrap_device_;
  FaultyBlockDevice* faulty_ = nullptr;
  int tuned_ = 0;
};

// A blocking-connect, non-blocking-read client of a control socket.
class Client {
 public:
  explicit Client(const std::string& path);
  void send(const std::string& line);
  std::optional<std::string> poll();  // the next whole frame received, if any

 private:
  UniqueFd fd_;
  std::string in_;
};

struct Node {
  std::string name;
  Record record;
  std::unique_ptr<TestEnv> env;
  std::unique_ptr<QuorumDaemon> daemon;
  std::string socket;
  bool running = true;  // turned by the cluster (false: "paused", or its process is gone)
  QuorumdConfig config;  // what it was started with (Cluster::restart)
};

// Authenticated records: a cluster key in the test's directory (root-only 0600, as castor keygen writes it),
// the disk initialised with it (castor init --authenticate) and both nodes configured with it.
struct Authenticated {};
// The LAN heartbeat on one memory link (alpha 10.9.1.1, beta 10.9.1.2), with a cluster key for it.
struct WithLan {};

struct ClusterOptions {
  Duration scrub_interval = std::chrono::seconds(60);
  bool authenticated = false;                 // see Authenticated
  bool with_lan = false;                      // see WithLan
  std::optional<Duration> max_storage_stall;  // with_lan: lan.max_storage_stall (unset: the config's default)
  DeviceWrap wrap_device;                     // each node's read-write device (see DeviceWrap)
  bool device_set = false;  // a set of three quorum devices "mem0 mem1 mem2" (issue 17) instead of one disk
  size_t spare_devices = 0;  // with device_set: blank devices "mem3".. both nodes can open (castor disk replace)
};

// alpha and beta of the two-node cluster "test", started and joined; the test turns them with step().
class Cluster {
 public:
  explicit Cluster(Duration scrub_interval = std::chrono::seconds(60)) : Cluster(scrub_interval, false) {}
  explicit Cluster(Authenticated) : Cluster(std::chrono::seconds(60), true) {}
  explicit Cluster(WithLan) : Cluster(std::chrono::seconds(60), false, true) {}
  Cluster(Duration scrub_interval, bool authenticated, bool with_lan = false)
      : Cluster(ClusterOptions{scrub_interval, authenticated, with_lan, std::nullopt, {}}) {}
  explicit Cluster(const ClusterOptions& options);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  Node& alpha() { return *nodes_[0]; }
  Node& beta() { return *nodes_[1]; }
  const Timing& timing() const { return timing_; }
  TimePoint now() const { return clock_.now(); }
  FakeClock& clock() { return clock_; }
  const std::shared_ptr<MemoryDisk>& disk() const { return disk_; }
  // With device_set: member i's disk, and its path ("mem0", "mem1", "mem2").
  const std::shared_ptr<MemoryDisk>& set_disk(size_t i) const { return set_disks_.at(i); }
  static std::string set_path(size_t i) { return "mem" + std::to_string(i); }
  std::string authkey() const { return dir_ + "/authkey"; }
  const Uuid& cluster_uuid() const { return cluster_uuid_; }
  MemoryLan& lan() { return lan_; }

  // One step of fake time: every running node turns and serves its control socket.
  void step();
  // Steps until `pred` holds (true) or `limit` of fake time passed (false).
  template <typename Pred>
  bool run_until(Pred pred, Duration limit) {
    const TimePoint end = clock_.now() + limit;
    while (clock_.now() < end) {
      if (pred()) return true;
      step();
    }
    return pred();
  }
  void run_for(Duration d) {
    run_until([] { return false; }, d);
  }
  // The node's quorumd process ends (its daemon destroyed, as at an exit: every I/O of the memory devices has
  // completed) and a new one starts with the same configuration and environment, and joins. The start's
  // failure is returned (the node then has no daemon).
  Status restart(Node& n);
  // Sends `line` and steps until the reply arrives.
  std::string ask_text(Client& c, const std::string& line);
  nlohmann::json ask(Client& c, const std::string& line);
  nlohmann::json status(Node& n);

 private:
  std::string dir_;
  FakeClock clock_;
  std::shared_ptr<MemoryDisk> disk_;
  std::vector<std::shared_ptr<MemoryDisk>> set_disks_;
  Timing timing_;
  Uuid cluster_uuid_;
  MemoryLan lan_;
  std::vector<std::unique_ptr<Node>> nodes_;
};

// A set of three quorum devices (ClusterOptions::device_set) with no scrub during a test (a damaged member must
// heal by the repair alone).
ClusterOptions device_set_options();
// The life number of the node's current life (disk/life_number.h).
uint32_t life_now(const Node& n);
bool sees(const Node& n, PeerView v);
bool has_lease(Cluster& c, const Node& n);
bool fenced(const Node& n);
// Steps until both hold a lease and see each other UP (REQUIREd within 5 s).
void start_both(Cluster& c);
// Both nodes' disk paths hang (every new I/O hangs and times out at its deadline) / come back, the hung
// I/Os landing now.
void stall_both(Cluster& c);
void unstall_both(Cluster& c);

}  // namespace castor::testing
