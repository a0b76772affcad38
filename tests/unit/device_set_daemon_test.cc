// Two whole quorumds on a set of three quorum devices (issue 17), in process on a fake clock: each device in
// turn stalled, failing with EIO, read-only, zeroed, overwritten with garbage, slow -- on both nodes' paths,
// as a fault of the device itself -- and nothing happens to the cluster: no fence, no lease lapse, no
// verdict; the status names the device. Two of three lost: both nodes fence, as on one lost disk.
#include <doctest/doctest.h>

#include <algorithm>

#include <random>
#include <string>

#include "common/auth_key.h"
#include "disk/device_replacement.h"
#include "disk/disk_layout.h"
#include "disk/epoch_record.h"
#include "disk/heartbeat_record.h"
#include "disk/life_number.h"
#include "disk/quorum_device_set.h"
#include "disk/superblock.h"
#include "quorumd/life_file.h"
#include "tests/support/inprocess_quorumd.h"

using namespace castor;
using namespace castor::testing;
using namespace std::chrono_literals;

namespace {

enum class Fault { stall, eio, read_only, zeroed, garbage, slow };

const char* fault_name(Fault f) {
  switch (f) {
    case Fault::stall: return "stalled";
    case Fault::eio: return "EIO";
    case Fault::read_only: return "read-only";
    case Fault::zeroed: return "zeroed";
    case Fault::garbage: return "garbage";
    case Fault::slow: return "slow";
  }
  return "?";
}

// The fault on device i: on both nodes' paths (the array itself stalls, fails or turns read-only), or on
// the device's bytes (zeroed, garbage).
void apply(Cluster& c, size_t i, Fault f) {
  const std::string path = Cluster::set_path(i);
  for (Node* n : {&c.alpha(), &c.beta()}) {
    FaultyBlockDevice* dev = n->env->faulty(path);
    REQUIRE(dev != nullptr);
    switch (f) {
      case Fault::stall: dev->hang_all(); break;
      case Fault::eio: dev->fail_all(); break;
      case Fault::read_only: n->env->memory(path)->set_read_only(true); break;
      case Fault::slow: dev->delay_all(c.timing().io_timeout * 6 / 10); break;
      case Fault::zeroed:
      case Fault::garbage: break;
    }
  }
  auto& bytes = c.set_disk(i)->bytes;
  if (f == Fault::zeroed) std::fill(bytes.begin(), bytes.end(), std::byte{0});
  if (f == Fault::garbage) {
    std::mt19937 rng(uint32_t(i) * 7 + 1);
    for (auto& b : bytes) b = std::byte(rng() & 0xff);
  }
}

void heal(Cluster& c, size_t i) {
  const std::string path = Cluster::set_path(i);
  for (Node* n : {&c.alpha(), &c.beta()}) {
    n->env->faulty(path)->release_hung(c.now());
    n->env->faulty(path)->pass_all();
    n->env->memory(path)->set_read_only(false);
  }
}

// Steps for `d`, failing at the first step where either node fenced, lost its lease or stopped seeing its
// peer UP.
void hold_steady(Cluster& c, Duration d, const std::string& what) {
  const TimePoint end = c.now() + d;
  while (c.now() < end) {
    c.step();
    for (Node* n : {&c.alpha(), &c.beta()}) {
      REQUIRE_MESSAGE(!fenced(*n), n->name << " fenced with " << what << ": " << n->daemon->core().fence_reason());
      REQUIRE_MESSAGE(has_lease(c, *n), n->name << " lost its lease with " << what);
      REQUIRE_MESSAGE(sees(*n, PeerView::up), n->name << " no longer sees its peer UP with " << what);
    }
  }
}

}  // namespace

TEST_CASE("device set: each device in turn stalled, EIO, read-only, zeroed, garbage, slow: no fence, no lease "
          "lapse, no verdict, and the status names it") {
  for (Fault f : {Fault::stall, Fault::eio, Fault::read_only, Fault::zeroed, Fault::garbage, Fault::slow}) {
    for (size_t i = 0; i < kQuorumDevices; ++i) {
      const std::string what = std::string("device ") + std::to_string(i) + " " + fault_name(f);
      CAPTURE(what);
      Cluster c(device_set_options());
      start_both(c);
      hold_steady(c, 1s, "no fault");
      apply(c, i, f);
      if (f == Fault::zeroed || f == Fault::garbage) {
        // As svcmgr does every tick: each node reads its peer's table (the peer region), where the damage is
        // seen; a node never reads its own table blocks after its start. The reader asks the peer (in its
        // heartbeat) to rewrite its region.
        Client ca(c.alpha().socket), cb(c.beta().socket);
        for (int k = 0; k < 8; ++k) {
          (void)c.ask_text(ca, "table-peer");
          (void)c.ask_text(cb, "table-peer");
          hold_steady(c, 5 * c.timing().io_timeout, what);
        }
      } else {
        hold_steady(c, 40 * c.timing().io_timeout, what);
      }
      auto st = c.status(c.alpha());
      REQUIRE(st["devices"].is_array());
      REQUIRE(st["devices"].size() == kQuorumDevices);
      const auto& d = st["devices"][i];
      CHECK(d["path"] == Cluster::set_path(i));
      if (f == Fault::stall || f == Fault::eio || f == Fault::read_only) {
        CHECK_MESSAGE(d["failing"] == true, d.dump());
        CHECK(st["redundant"] == false);
      }
      if (f == Fault::zeroed || f == Fault::garbage) {
        CHECK_MESSAGE(d["invalid_blocks"].get<uint64_t>() > 0, d.dump());
        // The nodes rewrite their regions when a member returns damaged copies: by now it holds valid ones
        // again (the epoch records, which nothing else would rewrite), and the status says so.
        auto layout = *DiskLayout::for_sector_size(512);
        MemoryBlockDevice dev(c.set_disk(i), "check");
        std::vector<std::byte> block(layout.block_size());
        for (uint32_t id : {1u, 2u}) {
          REQUIRE(read_blocking(dev, c.clock(), layout.epoch_record_offset(id), block, kIoTimeout).ok());
          CHECK_MESSAGE(decode_epoch_record(block, layout, id, RecordSeal::crc_only()).ok(), what << ": epoch of node " << id);
        }
      }
      for (size_t k = 0; k < kQuorumDevices; ++k)
        if (k != i) CHECK_MESSAGE(st["devices"][k]["failing"] == false, st["devices"][k].dump());
      heal(c, i);
      hold_steady(c, 40 * c.timing().io_timeout, what + ", healed");
      auto after = c.status(c.alpha());
      CHECK_MESSAGE(after["devices"][i]["failing"] == false, after["devices"][i].dump());
    }
  }
}

TEST_CASE("device set: two of three devices lost: both nodes fence as on one lost disk, and neither declares "
          "the other dead") {
  Cluster c(device_set_options());
  start_both(c);
  hold_steady(c, 1s, "no fault");
  apply(c, 0, Fault::stall);
  apply(c, 2, Fault::eio);
  const TimePoint lost = c.now();
  bool alpha_fenced = false, beta_fenced = false, dead_seen = false;
  REQUIRE(c.run_until(
      [&] {
        alpha_fenced = alpha_fenced || fenced(c.alpha());
        beta_fenced = beta_fenced || fenced(c.beta());
        dead_seen = dead_seen || sees(c.alpha(), PeerView::dead) || sees(c.beta(), PeerView::dead);
        return alpha_fenced && beta_fenced;
      },
      2 * c.timing().lease));
  // Both went at their lease end (F after the last write a majority took), not later.
  CHECK(c.now() - lost <= c.timing().lease + 2 * c.timing().io_timeout);
  CHECK_FALSE(dead_seen);
}

// A fenced node rejoins with a new life only when NO device holds a write of its old life: such a write landing
// on one device after the new life's first write would be, to a peer reading that device and one other, the
// newest word of this node (the majority device's review, finding 1). One device that keeps them holds the
// rejoin back; when it lets them land, the node rejoins.
TEST_CASE("device set: a fenced node does not rejoin while one device still holds a write of its old life") {
  Cluster c(device_set_options());
  start_both(c);
  Node& a = c.alpha();
  for (size_t i = 0; i < kQuorumDevices; ++i) a.env->faulty(Cluster::set_path(i))->hang_all();
  REQUIRE(c.run_until([&] { return fenced(a); }, 2 * c.timing().lease));
  const uint64_t old_life = a.daemon->core().config().incarnation;
  // Devices 0 and 1 answer again (their held writes land); device 2 keeps alpha's writes.
  for (size_t i : {0, 1}) {
    a.env->faulty(Cluster::set_path(i))->release_hung(c.now());
    a.env->faulty(Cluster::set_path(i))->pass_all();
  }
  c.run_for(3s);
  CHECK_MESSAGE(a.daemon->core().config().incarnation == old_life,
                "alpha rejoined while device 2 still held a write of its old life");
  a.env->faulty(Cluster::set_path(2))->release_hung(c.now());
  a.env->faulty(Cluster::set_path(2))->pass_all();
  REQUIRE(c.run_until([&] { return a.daemon->core().config().incarnation != old_life && has_lease(c, a); }, 5s));
}

// Ordered lives (lib/disk/life_number.h, quorumd/life_file.h): on a set every life of a node -- its first, a
// rejoin after a fence, a new process -- takes a number above every earlier one, stored before its first write.
namespace {

std::string life_path(Cluster& c, Node& n) {
  return life_file_path(n.config.state_dir, c.cluster_uuid(), n.name == "alpha" ? 1 : 2);
}

}  // namespace

TEST_CASE("device set: every life of a node takes a higher life number, stored before its first write") {
  Cluster c(device_set_options());
  start_both(c);
  Node& a = c.alpha();
  const std::string path = life_path(c, a);
  REQUIRE(life_now(a) == 1);
  CHECK(a.record.life_files.at(path) == 1);
  CHECK(life_now(c.beta()) == 1);  // each node counts its own lives
  // A fence and a rejoin inside the process.
  for (size_t i = 0; i < kQuorumDevices; ++i) a.env->faulty(Cluster::set_path(i))->hang_all();
  REQUIRE(c.run_until([&] { return fenced(a); }, 2 * c.timing().lease));
  for (size_t i = 0; i < kQuorumDevices; ++i) {
    a.env->faulty(Cluster::set_path(i))->release_hung(c.now());
    a.env->faulty(Cluster::set_path(i))->pass_all();
  }
  REQUIRE(c.run_until([&] { return life_now(a) == 2 && has_lease(c, a); }, 10s));
  CHECK(a.record.life_files.at(path) == 2);
  // A new process.
  REQUIRE(c.restart(a).ok());
  CHECK(life_now(a) == 3);
  CHECK(a.record.life_files.at(path) == 3);
  REQUIRE(c.run_until([&] { return has_lease(c, a) && sees(c.beta(), PeerView::up); }, 10s));
}

TEST_CASE("device set: a node whose life file was lost follows the highest life the devices show of it") {
  Cluster c(device_set_options());
  start_both(c);
  Node& a = c.alpha();
  REQUIRE(c.restart(a).ok());
  REQUIRE(c.restart(a).ok());
  REQUIRE(life_now(a) == 3);
  REQUIRE(c.run_until([&] { return has_lease(c, a); }, 10s));
  a.record.life_files.clear();  // the node reinstalled, its state directory lost
  REQUIRE(c.restart(a).ok());
  CHECK(life_now(a) == 4);  // not 1: the devices show life 3's records
  CHECK(a.record.life_files.at(life_path(c, a)) == 4);
  REQUIRE(c.run_until([&] { return has_lease(c, a) && sees(c.beta(), PeerView::up); }, 10s));
}

TEST_CASE("device set: a lost life file while a member does not answer: the start is refused, naming it; a number "
          "written by hand starts it") {
  Cluster c(device_set_options());
  start_both(c);
  Node& a = c.alpha();
  REQUIRE(c.restart(a).ok());
  REQUIRE(life_now(a) == 2);
  a.record.life_files.clear();
  // Member 1 is gone when alpha's new process opens the set (it runs on the two others).
  a.env->use_device_set({{Cluster::set_path(0), c.set_disk(0)}, {Cluster::set_path(2), c.set_disk(2)}});
  Status st = c.restart(a);
  REQUIRE_FALSE(st.ok());
  CHECK(st.code() == Code::refused);
  CHECK_MESSAGE(st.to_string().find("member 1 (mem1)") != std::string::npos, st.to_string());
  CHECK(a.record.life_files.empty());
  a.record.life_files[life_path(c, a)] = 70000;  // the admin's number, above every life alpha had
  REQUIRE(c.restart(a).ok());
  CHECK(life_now(a) == 70001);
  REQUIRE(c.run_until([&] { return has_lease(c, a) && sees(c.beta(), PeerView::up); }, 10s));
}

TEST_CASE("device set: a fenced node rejoins only when a majority of the slots it uses can be read -- a slot lost "
          "at its start does not count, even when its path reads again") {
  Cluster c(device_set_options());
  start_both(c);
  Node& a = c.alpha();
  Node& b = c.beta();
  // Alpha's new process opens the set without member 1 (its path gone at the start): slot 1 is lost.
  a.env->use_device_set({{Cluster::set_path(0), c.set_disk(0)}, {Cluster::set_path(2), c.set_disk(2)}});
  REQUIRE(c.restart(a).ok());
  REQUIRE(c.run_until([&] { return has_lease(c, a) && sees(b, PeerView::up); }, 10s));
  // Member 1's path comes back (readable again, but the running set does not reopen it), and alpha's path to
  // member 2 fails: its writes complete on member 0 alone; its lease lapses and it is fenced.
  a.env->use_device_set({{Cluster::set_path(0), c.set_disk(0)}, {Cluster::set_path(1), c.set_disk(1)},
                         {Cluster::set_path(2), c.set_disk(2)}});
  a.env->faulty(Cluster::set_path(2))->fail_all();
  REQUIRE(c.run_until([&] { return fenced(a); }, 5s));
  const uint32_t fenced_life = life_now(a);
  // Members 0 and 1 read, but slot 1 is not in use: one of the two slots in use answers, so no new life starts
  // (it could only land on member 0: beta would see alpha alive at each one).
  int up_again = 0;
  PeerView last = b.daemon->core().peer().view();
  c.run_until(
      [&] {
        const PeerView v = b.daemon->core().peer().view();
        if (last == PeerView::dead && v == PeerView::up) ++up_again;
        last = v;
        return false;
      },
      10s);
  CHECK(life_now(a) == fenced_life);
  CHECK(sees(b, PeerView::dead));
  CHECK(up_again == 0);
}

TEST_CASE("device set: a life file that cannot be read or written refuses the start; one device keeps no life file") {
  Cluster c(device_set_options());
  start_both(c);
  Node& a = c.alpha();
  a.record.life_file_error = "Input/output error";
  Status st = c.restart(a);
  REQUIRE_FALSE(st.ok());
  CHECK(st.to_string().find("life number") != std::string::npos);
  Cluster one;
  start_both(one);
  CHECK(one.alpha().record.life_files.empty());
}

TEST_CASE("device set: a second quorumd of a node is refused while the first holds the node lock, taken before "
          "its socket and life number; once the first has exited, a new one starts") {
  Cluster c(device_set_options());
  start_both(c);
  Node& a = c.alpha();
  const std::string lock = node_lock_path(kNodeLockDir, c.cluster_uuid(), 1);
  CHECK(a.record.locks_held.count(lock) == 1);
  CHECK(c.beta().record.locks_held.count(node_lock_path(kNodeLockDir, c.cluster_uuid(), 2)) == 1);
  const uint32_t life_before = a.record.life_files.at(life_path(c, a));
  // The lock comes before the control socket and the life number (a refused start binds and takes nothing).
  const auto& calls = a.record.env_calls;
  auto first_of = [&](const std::string& what) { return std::find(calls.begin(), calls.end(), what) - calls.begin(); };
  CHECK(first_of("lock_node") < first_of("listen"));
  CHECK(first_of("lock_node") < first_of("store_life"));
  // The first process keeps running -- or is stopped: the Cluster simply does not turn it -- and a second
  // process of alpha starts beside it, on the same configuration and state directory.
  a.running = false;
  auto second = QuorumDaemon::start(a.config, *a.env);
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().code() == Code::refused);
  CHECK_MESSAGE(second.status().to_string().find("another quorumd of node alpha holds " + lock) != std::string::npos,
                second.status().to_string());
  a.record.env_calls.clear();
  CHECK(a.record.locks_held.count(lock) == 1);  // still the first's
  // The first exits (its daemon destroyed: the lock goes with its last descriptor); the next start takes it.
  REQUIRE(c.restart(a).ok());
  CHECK(a.record.locks_held.count(lock) == 1);
  CHECK(first_of("lock_node") < first_of("listen"));
  CHECK(life_now(a) == life_before + 1);
  REQUIRE(c.run_until([&] { return has_lease(c, a) && sees(c.beta(), PeerView::up); }, 10s));
  // One device takes no node lock (the one block is overwritten; the own read catches a second writer).
  Cluster one;
  start_both(one);
  CHECK(one.alpha().record.locks_held.empty());
}

namespace {

// What castor disk replace writes before it hands NEW to a quorumd (tools/cmd_disk.cc, through
// disk/device_replacement.h): NEW's superblock at generation 1 for `slot` (its quorum area zeroed), and the
// other members' superblocks raised to 1, each sealed with `seal`.
void prepare_replacement(Cluster& c, size_t slot, size_t new_disk, const RecordSeal& seal = RecordSeal::crc_only()) {
  FakeClock& clock = c.clock();
  MemoryBlockDevice any(c.set_disk(slot == 0 ? 1 : 0), "any");
  auto sb = read_device_superblock(any, clock, kIoTimeout, seal);
  REQUIRE(sb.ok());
  Uuid id = sb->devices.members[slot];
  id.bytes[0] ^= 0xff;  // a new id
  const Superblock next = next_device_set_generation(*sb, uint32_t(slot), id);
  for (size_t i = 0; i < kQuorumDevices; ++i) {
    if (i == slot) continue;  // the old member is left as it is
    MemoryBlockDevice dev(c.set_disk(i), "member");
    REQUIRE(raise_member(dev, clock, next, uint32_t(i), seal, kIoTimeout).ok());
  }
  MemoryBlockDevice dev(c.set_disk(new_disk), "new");
  REQUIRE(prepare_new_member(dev, clock, next, uint32_t(slot), seal, kIoTimeout).ok());
}

}  // namespace

TEST_CASE("device set: castor disk replace while both nodes run: OLD retired on both, NEW counted once the peer "
          "retired OLD, no fence, no verdict, and NEW carries both regions") {
  ClusterOptions o = device_set_options();
  o.spare_devices = 1;
  Cluster c(o);
  start_both(c);
  const size_t slot = 1, new_disk = 3;
  prepare_replacement(c, slot, new_disk);
  Client ca(c.alpha().socket), cb(c.beta().socket);
  auto r = c.ask(ca, "device-replace 1 1 mem3");
  REQUIRE_MESSAGE(r["ok"] == true, r.dump());
  // alpha retired slot 1 at once; beta retires it on alpha's heartbeat; alpha then counts mem3.
  hold_steady(c, 20 * c.timing().io_timeout, "a replacement under way");
  auto sa = c.status(c.alpha());
  CHECK_MESSAGE(sa["device_set"]["generation"] == 1, sa["device_set"].dump());
  CHECK_MESSAGE(sa["device_set"]["retiring"] == false, sa["device_set"].dump());
  auto sbeta = c.status(c.beta());
  CHECK_MESSAGE(sbeta["device_set"]["retiring"] == true, sbeta["device_set"].dump());  // no NEW given to beta yet
  // A second replacement is refused while this one is under way on beta.
  auto busy = c.ask(cb, "device-replace 2 2 mem3");
  CHECK(busy["ok"] != true);
  r = c.ask(cb, "device-replace 1 1 mem3");
  REQUIRE_MESSAGE(r["ok"] == true, r.dump());
  hold_steady(c, 20 * c.timing().io_timeout, "the replacement ending on beta");
  sbeta = c.status(c.beta());
  CHECK_MESSAGE(sbeta["device_set"]["retiring"] == false, sbeta["device_set"].dump());
  CHECK(sbeta["devices"][slot]["path"] == "mem3");
  // NEW now holds both nodes' heartbeats and alpha's rewritten region.
  auto layout = *DiskLayout::for_sector_size(512);
  MemoryBlockDevice dev(c.set_disk(new_disk), "new");
  std::vector<std::byte> block(layout.block_size());
  for (uint32_t id : {1u, 2u}) {
    REQUIRE(read_blocking(dev, c.clock(), layout.heartbeat_offset(id), block, kIoTimeout).ok());
    CHECK_MESSAGE(decode_heartbeat(block, layout, id, RecordSeal::crc_only()).ok(), "node " << id);
    REQUIRE(read_blocking(dev, c.clock(), layout.epoch_record_offset(id), block, kIoTimeout).ok());
    CHECK_MESSAGE(decode_epoch_record(block, layout, id, RecordSeal::crc_only()).ok(), "epoch of node " << id);
  }
  // The set counts NEW: with another member stalled, NEW and the third still make a majority.
  apply(c, 0, Fault::stall);
  hold_steady(c, 20 * c.timing().io_timeout, "member 0 stalled after the replacement");
}

TEST_CASE("device set: a node never counts NEW before its peer retired OLD (the peer paused meanwhile)") {
  ClusterOptions o = device_set_options();
  o.spare_devices = 1;
  Cluster c(o);
  start_both(c);
  prepare_replacement(c, 1, 3);
  // beta's reads of alpha's heartbeat hang: it cannot learn of generation 1, so it still counts OLD.
  Client ca(c.alpha().socket);
  auto r = c.ask(ca, "device-replace 1 1 mem3");
  REQUIRE_MESSAGE(r["ok"] == true, r.dump());
  c.beta().running = false;  // paused: it reads nothing, retires nothing
  c.run_for(5 * c.timing().io_timeout);
  auto sa = c.status(c.alpha());
  CHECK_MESSAGE(sa["device_set"]["retiring"] == true, sa["device_set"].dump());
  CHECK(sa["devices"][1]["path"] != "mem3");
}

TEST_CASE("device set: an authenticated set is replaced with superblocks sealed by the cluster key; a NEW whose "
          "superblock carries no valid tag is refused") {
  ClusterOptions o = device_set_options();
  o.spare_devices = 2;
  o.authenticated = true;
  Cluster c(o);
  start_both(c);
  auto key = load_auth_key(c.authkey());
  REQUIRE(key.ok());
  auto seal = disk_record_seal(*key);
  REQUIRE(seal.ok());
  // Without the key (a CRC-only superblock on NEW, as a tool that ignored authentication would write): refused.
  {
    MemoryBlockDevice any(c.set_disk(0), "any");
    auto sb = read_device_superblock(any, c.clock(), kIoTimeout, *seal);
    REQUIRE(sb.ok());
    Uuid id = sb->devices.members[1];
    id.bytes[0] ^= 0x5a;
    MemoryBlockDevice dev(c.set_disk(4), "unkeyed");
    REQUIRE(prepare_new_member(dev, c.clock(), next_device_set_generation(*sb, 1, id), 1, RecordSeal::crc_only(),
                               kIoTimeout).ok());
  }
  Client ca(c.alpha().socket), cb(c.beta().socket);
  auto refused = c.ask(ca, "device-replace 1 1 mem4");
  CHECK_MESSAGE(refused["ok"] != true, refused.dump());
  // With the key: both nodes take NEW.
  prepare_replacement(c, 1, 3, *seal);
  auto r = c.ask(ca, "device-replace 1 1 mem3");
  REQUIRE_MESSAGE(r["ok"] == true, r.dump());
  r = c.ask(cb, "device-replace 1 1 mem3");
  REQUIRE_MESSAGE(r["ok"] == true, r.dump());
  hold_steady(c, 20 * c.timing().io_timeout, "an authenticated set's replacement");
  for (Node* n : {&c.alpha(), &c.beta()}) {
    auto s = c.status(*n);
    CHECK_MESSAGE(s["device_set"]["retiring"] == false, s["device_set"].dump());
    CHECK(s["devices"][1]["path"] == "mem3");
  }
  // NEW's heartbeats verify with the key.
  auto layout = *DiskLayout::for_sector_size(512);
  MemoryBlockDevice dev(c.set_disk(3), "new");
  std::vector<std::byte> block(layout.block_size());
  for (uint32_t id : {1u, 2u}) {
    REQUIRE(read_blocking(dev, c.clock(), layout.heartbeat_offset(id), block, kIoTimeout).ok());
    CHECK_MESSAGE(decode_heartbeat(block, layout, id, *seal).ok(), "node " << id);
  }
}
