#include "tests/support/inprocess_quorumd.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/auth_key.h"
#include "control/control_protocol.h"
#include "disk/life_number.h"
#include "disk/quorum_disk_init.h"
#include "disk/record_seal.h"
#include "disk/superblock.h"
#include "tests/support/test_superblock.h"

namespace castor::testing {

using namespace std::chrono_literals;

Result<bool> FakeWatchdog::pet_within_lease(TimePoint now, std::optional<TimePoint> lease_expiry) {
  if (!lease_expiry || *lease_expiry - now < guard_) return false;
  r_.pets.push_back(now);
  return true;
}

Status FakeWatchdog::disarm() {
  r_.disarmed = true;
  return Status::Ok();
}

Status MemoryLanSocket::send(std::span<const std::byte> d) {
  std::vector<std::byte> bytes(d.begin(), d.end());
  lan_.sent[link_.local].push_back(bytes);
  if (lan_.cut.count(link_.local) || lan_.cut.count(link_.peer)) return Status::Ok();  // lost on the wire
  lan_.inbox[link_.peer].push_back(std::move(bytes));
  return Status::Ok();
}

Result<std::optional<size_t>> MemoryLanSocket::receive(std::span<std::byte> buf) {
  auto& q = lan_.inbox[link_.local];
  if (q.empty() || lan_.cut.count(link_.local)) return std::optional<size_t>();
  std::vector<std::byte> d = std::move(q.front());
  q.pop_front();
  std::copy_n(d.begin(), std::min(d.size(), buf.size()), buf.begin());
  return std::optional<size_t>(d.size());
}

Result<std::unique_ptr<LanSocket>> TestEnv::open_lan_socket(const LanLinkConfig& link, uint16_t) {
  if (!lan_) return Error(Code::unsupported, "no LAN in this test");
  return std::unique_ptr<LanSocket>(std::make_unique<MemoryLanSocket>(*lan_, link));
}

Result<std::unique_ptr<BlockDevice>> TestEnv::open_device(const std::string& path, Access access) {
  if (!set_disks_.empty()) {
    auto it = set_disks_.find(path);
    if (it == set_disks_.end()) return Error(Code::not_found, path + ": no such device");
    auto mem = std::make_shared<MemoryBlockDevice>(it->second, path);
    if (access == Access::read_only) mem->set_read_only(true);
    auto dev = std::make_unique<FaultyBlockDevice>(mem);
    if (access == Access::read_write) {
      set_faulty_[path] = dev.get();
      set_memory_[path] = mem.get();
      set_policies_[path] = dev->current_policy();
    } else if (auto pol = set_policies_.find(path); pol != set_policies_.end()) {
      // A read-only handle goes over the node's same path: it fails where that path fails or hangs (its
      // reads are synchronous on the fake clock, so a hang is a failure here, not a wait).
      dev->set_policy([path_now = pol->second](IoKind kind, uint64_t offset, size_t length, TimePoint now) {
        // (a delayed pass would spin the synchronous read on the fake clock: it passes at once)
        const FaultDecision d = *path_now ? (*path_now)(kind, offset, length, now) : FaultDecision{};
        return d.kind == FaultDecision::Kind::pass ? FaultDecision{}
                                                   : FaultDecision{FaultDecision::Kind::fail, Duration(0), 0};
      });
    }
    return std::unique_ptr<BlockDevice>(std::move(dev));
  }
  auto mem = std::make_shared<MemoryBlockDevice>(disk_, path);
  if (access == Access::read_only) {
    mem->set_read_only(true);
    return std::unique_ptr<BlockDevice>(std::make_unique<FaultyBlockDevice>(mem));
  }
  auto dev = std::make_unique<FaultyBlockDevice>(mem);
  faulty_ = dev.get();
  if (wrap_device_) return wrap_device_(std::move(dev));
  return std::unique_ptr<BlockDevice>(std::move(dev));
}

namespace {
class FakeNodeLock final : public QuorumdNodeLock {
 public:
  FakeNodeLock(std::set<std::string>& held, std::string path) : held_(held), path_(std::move(path)) {}
  ~FakeNodeLock() override { held_.erase(path_); }

 private:
  std::set<std::string>& held_;
  std::string path_;
};
}  // namespace

Result<std::unique_ptr<QuorumdNodeLock>> TestEnv::lock_node(const std::string& path) {
  record_.env_calls.push_back("lock_node");
  if (!record_.locks_held.insert(path).second) return Error(Code::busy, path + ": locked by another process");
  return std::unique_ptr<QuorumdNodeLock>(std::make_unique<FakeNodeLock>(record_.locks_held, path));
}

Result<std::unique_ptr<QuorumdWatchdog>> TestEnv::open_watchdog(const std::string&, Millis max_timeout) {
  return std::unique_ptr<QuorumdWatchdog>(std::make_unique<FakeWatchdog>(record_, max_timeout));
}

Result<std::unique_ptr<ControlServer>> TestEnv::listen(const std::string& path, ControlAccess access) {
  record_.env_calls.push_back("listen");
  return ControlServer::listen(path, std::move(access));
}

int TestEnv::signal_process_group(pid_t pgid, int signo) {
  if (!record_.alive.count(pgid)) return ESRCH;
  if (signo == SIGKILL) {
    record_.alive.erase(pgid);
    record_.killed.push_back({pgid, clock_.now()});
  }
  return 0;
}

Result<size_t> TestEnv::kill_cgroup_tree(const std::string&) {
  ++record_.cgroup_kills;
  return size_t(record_.cgroup_busy ? 1 : 0);
}

Client::Client(const std::string& path) {
  fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  REQUIRE(fd_.valid());
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  REQUIRE(::connect(fd_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::fcntl(fd_.get(), F_SETFL, O_NONBLOCK) == 0);
}

void Client::send(const std::string& line) {
  auto frame = encode_frame(line);
  REQUIRE(frame.ok());
  REQUIRE(::write(fd_.get(), frame->data(), frame->size()) == ssize_t(frame->size()));
}

std::optional<std::string> Client::poll() {
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd_.get(), buf, sizeof buf);
    if (n > 0) {
      in_.append(buf, size_t(n));
      continue;
    }
    break;
  }
  auto f = take_frame(in_, kMaxReplyPayload);
  REQUIRE(f.ok());
  return *f;
}

Cluster::Cluster(const ClusterOptions& o) {
  char tmpl[] = "/tmp/castor-quorumd-test-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  dir_ = tmpl;
  RecordSeal seal = RecordSeal::crc_only();
  if (o.authenticated || o.with_lan) REQUIRE(write_new_auth_key(authkey(), false).ok());
  if (o.authenticated) {
    auto key = load_auth_key(authkey());
    REQUIRE_MESSAGE(key.ok(), key.status().to_string());
    seal = *disk_record_seal(*key);
  }
  disk_ = std::make_shared<MemoryDisk>(512, 4 << 20);
  MemoryBlockDevice dev(disk_, "mem");
  Superblock sb = two_node_superblock("test", *Timing::from_io_timeout(kIoTimeout));
  timing_ = sb.timing;
  sb.records_authenticated = o.authenticated;
  cluster_uuid_ = sb.cluster_uuid;
  std::map<std::string, std::shared_ptr<MemoryDisk>> by_path;
  if (o.device_set) {
    sb.devices.count = kQuorumDevices;
    std::vector<std::unique_ptr<MemoryBlockDevice>> members;
    std::vector<BlockDevice*> raw;
    for (size_t i = 0; i < kQuorumDevices; ++i) {
      auto id = random_uuid();
      REQUIRE(id.ok());
      sb.devices.members[i] = *id;
      set_disks_.push_back(std::make_shared<MemoryDisk>(512, 4 << 20));
      by_path[set_path(i)] = set_disks_.back();
      members.push_back(std::make_unique<MemoryBlockDevice>(set_disks_.back(), set_path(i)));
      raw.push_back(members.back().get());
    }
    REQUIRE(initialize_quorum_device_set(raw, clock_, sb, seal, kIoTimeout).ok());
    for (size_t i = 0; i < o.spare_devices; ++i) {
      set_disks_.push_back(std::make_shared<MemoryDisk>(512, 4 << 20));
      by_path[set_path(kQuorumDevices + i)] = set_disks_.back();
    }
  } else {
    REQUIRE(initialize_quorum_disk(dev, clock_, sb, seal, kIoTimeout).ok());
  }
  for (const char* name : {"alpha", "beta"}) {
    auto n = std::make_unique<Node>();
    n->name = name;
    n->env = std::make_unique<TestEnv>(clock_, disk_, n->record, o.with_lan ? &lan_ : nullptr, o.wrap_device);
    if (o.device_set) n->env->use_device_set(by_path);
    n->socket = dir_ + "/" + name + ".sock";
    QuorumdConfig c;
    c.device = o.device_set ? "mem2 mem0 mem1" : "mem";
    c.node = name;
    c.cluster = "test";
    c.watchdog_device = "/dev/fake-watchdog";
    c.socket_path = n->socket;
    c.lock_memory = false;
    c.realtime = false;
    c.scrub_interval = o.scrub_interval;
    c.authenticate_disk = o.authenticated;
    c.authkey = authkey();
    if (o.with_lan) {
      const bool a = std::string(name) == "alpha";
      c.lan.links = {{a ? "10.9.1.1" : "10.9.1.2", a ? "10.9.1.2" : "10.9.1.1"}};
      if (o.max_storage_stall) c.lan.max_storage_stall = *o.max_storage_stall;
    }
    n->config = c;
    auto d = QuorumDaemon::start(c, *n->env);
    REQUIRE_MESSAGE(d.ok(), d.status().to_string());
    n->daemon = std::move(d).value();
    nodes_.push_back(std::move(n));
  }
  for (auto& n : nodes_) {
    Status joined = n->daemon->join();
    REQUIRE_MESSAGE(joined.ok(), joined.to_string());
  }
}

ClusterOptions device_set_options() {
  ClusterOptions o;
  o.device_set = true;
  o.scrub_interval = std::chrono::seconds(600);
  return o;
}

uint32_t life_now(const Node& n) { return life_of(n.daemon->core().config().incarnation); }

Status Cluster::restart(Node& n) {
  n.daemon.reset();
  auto d = QuorumDaemon::start(n.config, *n.env);
  if (!d.ok()) return d.status();
  n.daemon = std::move(d).value();
  n.running = true;
  return n.daemon->join();
}

Cluster::~Cluster() {
  for (auto& n : nodes_) n->daemon.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void Cluster::step() {
  clock_.advance(kStep);
  for (auto& n : nodes_) {
    if (!n->running || !n->daemon || n->daemon->done()) continue;
    n->daemon->turn();
    n->daemon->serve_control();
  }
}

std::string Cluster::ask_text(Client& c, const std::string& line) {
  c.send(line);
  std::optional<std::string> reply;
  REQUIRE(run_until([&] { return (reply = c.poll()).has_value(); }, 2s));
  return *reply;
}

nlohmann::json Cluster::ask(Client& c, const std::string& line) {
  auto j = nlohmann::json::parse(ask_text(c, line), nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

nlohmann::json Cluster::status(Node& n) {
  auto j = nlohmann::json::parse(n.daemon->status_json(clock_.now()), nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

bool sees(const Node& n, PeerView v) { return n.daemon->core().peer().view() == v; }
bool has_lease(Cluster& c, const Node& n) { return n.daemon->core().may_act(c.now()); }
bool fenced(const Node& n) { return n.daemon->core().phase() == CorePhase::fenced; }

void start_both(Cluster& c) {
  REQUIRE(c.run_until(
      [&] { return has_lease(c, c.alpha()) && has_lease(c, c.beta()) && sees(c.alpha(), PeerView::up) && sees(c.beta(), PeerView::up); },
      5s));
}

void stall_both(Cluster& c) {
  c.alpha().env->faulty()->hang_all();
  c.beta().env->faulty()->hang_all();
}

void unstall_both(Cluster& c) {
  for (Node* n : {&c.alpha(), &c.beta()}) {
    n->env->faulty()->pass_all();
    n->env->faulty()->release_hung(c.now());
  }
}

}  // namespace castor::testing
