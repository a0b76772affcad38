// The ownership protocol under random schedules, as svcmgr and quorumd run it: two nodes, several services
// whose entries are spread over several service-table blocks of each node's region. quorumd keeps one write
// per block in the kernel, each block write carrying all of the block's entries as svcmgr last set them
// (two services of one block share a write); before it submits a table write carrying epoch e, it writes
// its epoch record (block 1) with a floor >= e and waits for that write to complete ok; its floor also
// covers every epoch it saw in the peer's region, and a floor that does not decode at start is rebuilt from
// the valid entries of both nodes and the peer's floor. A read of the peer's region (epoch record + table,
// one contiguous read) takes every block at its own moment, so it may see some blocks new and others old,
// and a block with a write in flight may read torn. The disk has random latency, late, failed and lost
// writes. Faults: crashes (a write in flight may land torn; a restart may find one of its own table blocks
// lost), pauses, random concurrent claims and releases, clean leaves (svcmgr stops and releases everything,
// then quorumd writes DOWN: only once its table holds no claiming, owned or releasing entry), and blocks
// rotting on the disk (a table block or the epoch record turns undecodable). A damaged block is rewritten
// by its owner: at start, and by the scrub every few seconds.
// The fault model (see may_damage): damage never destroys the last durable record of an epoch — no
// protocol remembers what every copy of was lost; any number of blocks may be damaged at once otherwise.
// svcmgr's reading of a table read, per service (PeerEntryRead): the entry where it was found; unknown when
// its block is corrupt, or when it was not found while any table block or the epoch record failed to
// decode; own_floor = the durably written floor, peer_floor = the peer's (nullopt: it did not decode).
// The quorum layer is the abstraction quorumd provides (proven by its own simulation): a DEAD verdict comes
// only after the crashed node's services are gone, and is re-confirmed by heartbeat reads until the node's
// next incarnation writes; DOWN is read from the heartbeat the leaving node wrote.
// After every step: never two nodes running one service; every start of a service has an epoch above every
// epoch ever started for it (the simulation remembers them all, whatever the disk lost).
// Deliberately broken variants (the old readings, a quorumd that writes DOWN too early, epochs chosen
// without floors, a stale read taken as fresh) are kept as test cases that assert the simulation catches
// them: a test that can no longer tell broken from sound is worth nothing.
// CASTOR_SIM_TRACE=<seed> prints every event of that schedule on stderr.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "svcmgr/ownership.h"

using namespace castor;

// Compile-time switch: Ownership knows unknown peer entries and epoch floors (PeerEntryRead::unknown,
// own_floor, peer_floor). An Ownership that does not cannot pass the schedules with damaged and lost blocks
// (it sees a corrupt block as free): with 0 they are skipped and the undamaged schedules run instead.
#ifndef CASTOR_SIM_OWNERSHIP_KNOWS_UNKNOWN
#define CASTOR_SIM_OWNERSHIP_KNOWS_UNKNOWN 1
#endif
constexpr bool kOwnershipKnowsUnknown = CASTOR_SIM_OWNERSHIP_KNOWS_UNKNOWN != 0;

// Two holes this simulation found (issue 12); each has a test case below that shows it is still open.
// While a hole is open, the main run leaves out the fault that exposes it most (its seeds are fixed, so it
// passes); once it is closed, set its switch to 0: the main run then has that fault too and the case that
// shows the hole is skipped.
// HOLE_FLOOR_UNKNOWN: a new epoch taken from a read in which the peer's epoch record did not decode
// (peer_floor = nullopt) rests on the peer's entry and my own floor alone. The peer's entry may have been
// rewritten low after its block was lost, and "my floor" is the durably written one, 0 while quorumd still
// rewrites a floor it rebuilt — so an epoch already granted is granted again (one schedule: the last
// record of epoch 10 is the peer's floor, which the decider read torn, after rebuilding its own floor from a
// torn read of it). Closed when Ownership takes a new epoch only from a read whose peer epoch record decoded.
// Exposed most by torn reads of the epoch record.
#ifndef CASTOR_SIM_HOLE_FLOOR_UNKNOWN
#define CASTOR_SIM_HOLE_FLOOR_UNKNOWN 0
#endif
constexpr bool kHoleFloorUnknown = CASTOR_SIM_HOLE_FLOOR_UNKNOWN != 0;
// HOLE_STALE_VERDICT: a DOWN verdict that comes with a table read whose blocks were read before the peer's
// last changes voids the peer's entry as read, and the new epoch is computed from that stale read: it
// repeats the epoch the peer took (and ran, stopped and released) between the read and its DOWN. No damage
// needed, and no two owners at once: only the fencing token repeats. (A DEAD verdict cannot do it: it
// comes D after the last heartbeat, longer than any read.) Closed when a verdict voids the peer's entry
// only in a read issued after the verdict was first confirmed (or quorumd reports with a table read the
// verdict as it stood when the read was issued). Exposed by slow reads (the reply long after the blocks).
#ifndef CASTOR_SIM_HOLE_STALE_VERDICT
#define CASTOR_SIM_HOLE_STALE_VERDICT 0
#endif
constexpr bool kHoleStaleVerdict = CASTOR_SIM_HOLE_STALE_VERDICT != 0;
// A third hole, found only by a longer run (100,000 schedules, the two fixes above tried in Ownership outside
// this branch; seed 24956), so it has no case here: a node that lost its own table block at a restart
// rebuilds its ballots from the peer's and can write, as its new incarnation's first claim, an entry equal
// field for field to its previous life's last one. The peer, whose DEAD verdict still stands until it reads
// the new heartbeat, sees "the same value" and voids it: two owners. Closed when a read tells entries of
// different writes apart (quorumd reports the entry's changed_wall_ns, or the block's incarnation, and svcmgr
// compares it); tried in the simulation (an entry's changed_wall_ns set at each table-set): 100,000
// schedules with all three fixes pass. Closed: table-peer reports each entry's writer incarnation, and
// this simulation's blocks carry theirs into PeerEntryRead::writer_incarnation (see Content).

namespace {

const Millis T{200};
const Duration D = 6 * T;
const Duration R = T / 2;

enum class Variant {
  real,              // svcmgr and quorumd as specified
  corrupt_free,      // svcmgr's old reading: a corrupt peer table block holds no entries
  read_block0,       // quorumd's old table-peer: only block 0 of the peer's table is read
  no_floors,         // epochs chosen without floors (own 0, the peer's 0 and known)
  down_while_owned,  // quorumd writes DOWN when asked to leave, without looking at its own table
  stale_read,        // a claim confirmed with a read issued before the claim completed
};
const char* variant_name(Variant v) {
  switch (v) {
    case Variant::real: return "real";
    case Variant::corrupt_free: return "corrupt_free";
    case Variant::read_block0: return "read_block0";
    case Variant::no_floors: return "no_floors";
    case Variant::down_while_owned: return "down_while_owned";
    case Variant::stale_read: return "stale_read";
  }
  return "?";
}

struct SimOptions {
  Variant variant = Variant::real;
  bool damage = true;  // corrupt and torn blocks, lost blocks at restart, corrupt epoch records
  bool leaves = true;  // clean leaves
  bool torn_floor_reads = true;  // a read of the peer's epoch record may find it torn (a write in flight)
  bool slow_reads = true;        // a read's reply may come long after it read the blocks
  bool slow_read_hunt = false;   // slow reads and leaves at high rates
};

struct Stats {
  long steps = 0, starts = 0, handovers = 0, takeovers = 0, withdrawals = 0, crashes = 0, leaves = 0;
  long rotted = 0, torn_writes = 0, torn_reads = 0, lost_blocks = 0, floor_rebuilds = 0, scrub_heals = 0;
  long unknown_reads = 0, floorless_reads = 0, starts_over_unknown = 0, shared_writes = 0, services = 0;
  void add(const Stats& o) {
    steps += o.steps, starts += o.starts, handovers += o.handovers, takeovers += o.takeovers;
    withdrawals += o.withdrawals, crashes += o.crashes, leaves += o.leaves, rotted += o.rotted;
    torn_writes += o.torn_writes, torn_reads += o.torn_reads, lost_blocks += o.lost_blocks;
    floor_rebuilds += o.floor_rebuilds, scrub_heals += o.scrub_heals, unknown_reads += o.unknown_reads;
    floorless_reads += o.floorless_reads, starts_over_unknown += o.starts_over_unknown;
    shared_writes += o.shared_writes, services += o.services;
  }
};

// One table block's content: the slots, a free slot is an entry not in use; and, as the real table block
// record, the incarnation that wrote it (0: castor init), which quorumd's table-peer reports per entry.
struct Content : std::vector<ServiceEntry> {
  using std::vector<ServiceEntry>::vector;
  uint64_t incarnation = 0;
};
using ContentPtr = std::shared_ptr<const Content>;  // nullptr on the disk: the block does not decode

const std::array<std::string, 8> kNames = {"s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7"};

class OwnSim {
 public:
  OwnSim(uint64_t seed, SimOptions opt) : rng_(seed), opt_(opt) {
    nsvc_ = rnd(2, 5);
    per_block_ = rnd(1, 3);
    // Each schedule draws its own fault rates, so that rare corners (a harsh disk, frequent crashes, slow
    // scrubs) are each visited by some schedules.
    auto pick = [&](std::initializer_list<double> v) { return *(v.begin() + rnd(0, int(v.size()) - 1)); };
    rate_.crash = pick({0.0006, 0.0012, 0.003});
    rate_.rot = pick({0.001, 0.003, 0.01});
    rate_.torn_read = pick({0.1, 0.25, 0.6});
    rate_.late = pick({0.02, 0.05, 0.15});
    rate_.fail = pick({0.01, 0.03, 0.08});
    rate_.intent = pick({0.003, 0.006, 0.02});
    rate_.leave = pick({0.0002, 0.0004, 0.001});
    rate_.lose_block = pick({0.3, 0.7});
    rate_.torn_write = pick({0.3, 0.7});
    rate_.slow_read = opt_.slow_reads ? pick({0.0, 0.02, 0.1}) : 0.0;
    if (opt_.slow_read_hunt) {
      // Slow reads and clean leaves everywhere: the corner where a read's blocks predate a DOWN verdict
      // that came with its reply.
      rate_.slow_read = 0.9;
      rate_.leave = 0.003;
      rate_.intent = 0.02;
    }
    rate_.scrub_ms = int(pick({1500, 4000, 15000}));
    nblocks_ = (nsvc_ + per_block_ - 1) / per_block_ + 1;  // one spare: a service may move after a loss
    stats.services = nsvc_;
    started_.resize(nsvc_);
    last_runner_.assign(nsvc_, 0);
    for (int i = 0; i < 2; ++i) {
      Node& n = nodes_[i];
      n.id = uint32_t(i + 1);
      n.disk.assign(nblocks_, std::make_shared<const Content>(per_block_));  // castor init: valid, empty
      n.floor_disk = 0;
      n.junk.assign(nblocks_ + 1, 0);
      n.kernel.resize(nblocks_ + 1);
      n.svc.resize(nsvc_);
      restart(n, false);
    }
  }

  bool run(Duration horizon) {
    const TimePoint end = now_ + horizon;
    while (now_ < end) {
      now_ += Millis(rnd(1, 12));
      ++stats.steps;
      faults();
      for (auto& n : nodes_) disk_step(n);
      for (int i = 0; i < 2; ++i) node_step(nodes_[i], nodes_[1 - i]);
      if (!check()) return false;
    }
    return true;
  }

  std::string failure;
  Stats stats;
  bool trace = false;  // CASTOR_SIM_TRACE=<seed>: every event of that schedule on stderr

 private:
  struct Write {
    uint64_t incarnation = 0;
    ContentPtr content;  // a table block
    uint64_t floor = 0;  // the epoch record
    TimePoint lands;     // max(): never
    TimePoint reported;
    bool ok = false, torn = false, landed = false, reported_done = false;
    std::vector<std::pair<int, uint64_t>> waiters;  // (service, Ownership write token)
  };
  struct Read {
    TimePoint issued, done;
    std::vector<TimePoint> at;  // per block (0: the epoch record, 1..: table blocks), when it is read
    std::vector<char> taken;
    std::vector<ContentPtr> blocks;
    std::optional<uint64_t> floor;
    std::vector<uint64_t> junk;  // per block as `at`: what an undecodable block held (0: it decoded)
    bool fails = false;
  };
  struct Svc {
    std::unique_ptr<Ownership> own;
    Intent intent = Intent::release;
    bool running = false, stopping = false;
    TimePoint stop_done;
    bool last_read_unknown = false;
  };
  enum class Silence { none, crash, leave };
  struct Node {
    uint32_t id;
    uint64_t incarnation = 0;
    // On the disk (survives everything): table blocks and the epoch record.
    std::vector<ContentPtr> disk;
    std::optional<uint64_t> floor_disk;
    std::vector<uint64_t> junk;  // per block (0: epoch record, 1 + b): what an undecodable block holds, else 0
    // The kernel: at most one write per block (0: epoch record, 1 + b: table block b); survives a crash.
    std::vector<std::optional<Write>> kernel;
    // quorumd's table store and floor.
    std::vector<Content> store;
    std::vector<char> dirty;
    std::vector<std::vector<std::pair<int, uint64_t>>> next_waiters;
    std::vector<int> slot_block, slot_index;  // per service, -1: no slot yet
    uint64_t durable_floor = 0, wanted_floor = 0;
    bool floor_rewrite = false;
    bool blocked = false;  // a write timed out: nothing new until nothing of ours is in the kernel
    TimePoint next_scrub;
    Duration scrub_interval{};
    // svcmgr.
    std::vector<Svc> svc;
    std::optional<Read> read;
    TimePoint next_read;
    bool reread = false;
    PeerLiveness liveness;  // the verdict on the peer that came with the last table read
    // The node.
    bool alive = false, paused = false;
    TimePoint resume_at, restart_at;
    TimePoint hb_landed;   // this incarnation's first heartbeat landed (table writes only after)
    Duration seen_lag{};   // how long after that the peer's quorumd notices
    bool leaving = false, down_submitted = false;
    TimePoint down_lands;
    // The last silence (crash, or DOWN landed) and when the peer's verdict on it formed.
    Silence silence = Silence::none;
    bool silent = false;  // silent now (this incarnation crashed or wrote DOWN)
    TimePoint silent_since, verdict_at;
  };

  template <class F>
  void note(F&& what) {
    if (trace) std::fprintf(stderr, "%8lld %s\n", (long long)to_ms(now_.time_since_epoch()) - 100000, what().c_str());
  }
  static std::string str(const ServiceEntry& e) {
    if (!e.in_use) return "none";
    return std::string(ownership_state_name(e.state)) + "(n" + std::to_string(e.node) + " e" + std::to_string(e.epoch) +
           " b" + std::to_string(e.ballot) + ")";
  }

  // What a damaged block holds, as far as a reader can tell it apart (quorumd reports the decode error, CRCs
  // included): mostly different each time; 1 stands for a zeroed block, which always reads the same.
  uint64_t junk() { return chance(0.1) ? 1 : (rng_() | 2); }

  int rnd(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

  // The fault model: damage never destroys the last durable record of an epoch. Block k of node n (0: its
  // epoch record, 1 + b: table block b) may be damaged only if, for every service, the highest epoch ever
  // granted (started, or decided and about to start) stays recorded in another decodable block: a floor
  // at least as high, or an entry of that service with that epoch. No protocol can remember what every
  // copy of was lost; one damaged block at a time is the usual case, several at once are allowed while
  // each epoch keeps a record somewhere.
  bool may_damage(const Node& n, int k) const {
    auto doomed = [](const Node& x, int kk) { return x.kernel[kk] && x.kernel[kk]->torn && !x.kernel[kk]->landed; };
    if ((k == 0 ? !n.floor_disk : !n.disk[k - 1]) || doomed(n, k)) return false;  // already damaged
    for (int s = 0; s < nsvc_; ++s) {
      uint64_t m = started_[s].empty() ? 0 : *started_[s].rbegin();
      for (const Node& x : nodes_)
        if (x.alive && x.slot_block[s] >= 0) m = std::max(m, x.store[x.slot_block[s]][x.slot_index[s]].epoch);
      if (m == 0) continue;
      bool kept = false;
      for (const Node& x : nodes_) {
        const bool self = &x == &n;
        if (x.floor_disk && !doomed(x, 0) && !(self && k == 0) && *x.floor_disk >= m) kept = true;
        for (int b = 0; b < nblocks_ && !kept; ++b) {
          if (!x.disk[b] || doomed(x, b + 1) || (self && k == b + 1)) continue;
          for (const auto& e : *x.disk[b])
            if (e.in_use && e.name == kNames[s] && e.epoch >= m) kept = true;
        }
      }
      if (!kept) return false;
    }
    return true;
  }

  // --- the node's life --------------------------------------------------------------------------------

  void restart(Node& n, bool may_lose_block) {
    ++n.incarnation;
    n.alive = true;
    n.paused = false;
    n.leaving = n.down_submitted = false;
    n.read.reset();
    n.reread = false;
    n.liveness = {};
    n.silent = false;
    n.hb_landed = now_ + Millis(rnd(1, 50));
    n.seen_lag = Millis(rnd(1, int(to_ms(R)) + 30));
    n.scrub_interval = Millis(rnd(rate_.scrub_ms / 3, rate_.scrub_ms));
    n.next_scrub = now_ + n.scrub_interval;
    n.next_read = now_;
    n.blocked = true;  // the previous life's writes may still be in the kernel: wait until they are gone
    if (const int b = rnd(0, nblocks_ - 1);
        may_lose_block && opt_.damage && chance(rate_.lose_block) && !n.kernel[b + 1] && may_damage(n, b + 1)) {
      n.disk[b] = nullptr;  // a block lost with the crash
      n.junk[b + 1] = junk();
      ++stats.lost_blocks;
      note([&] { return "node " + std::to_string(n.id) + " lost table block " + std::to_string(b); });
    }
    // quorumd loads its region: a block that does not decode starts empty and is rewritten at once.
    n.store.assign(nblocks_, Content(per_block_));
    n.dirty.assign(nblocks_, 0);
    n.next_waiters.assign(nblocks_, {});
    n.slot_block.assign(nsvc_, -1);
    n.slot_index.assign(nsvc_, -1);
    uint64_t max_entry = 0;
    for (int b = 0; b < nblocks_; ++b) {
      if (!n.disk[b]) {
        n.dirty[b] = 1;
        continue;
      }
      n.store[b] = *n.disk[b];
      for (int i = 0; i < per_block_; ++i) {
        const ServiceEntry& e = n.store[b][i];
        if (!e.in_use) continue;
        const int s = svc_index(e.name);
        n.slot_block[s] = b;
        n.slot_index[s] = i;
        max_entry = std::max(max_entry, e.epoch);
      }
    }
    if (n.floor_disk) {
      n.durable_floor = *n.floor_disk;
      n.wanted_floor = std::max(*n.floor_disk, max_entry);
      n.floor_rewrite = false;
    } else {
      // The epoch record does not decode: rebuilt from every epoch still known (the valid entries of both
      // nodes, the peer's floor, from one read of its region — which may find blocks torn too) and
      // rewritten before any table block that needs it.
      const Node& peer = nodes_[n.id == 1 ? 1 : 0];
      auto torn = [&](int k) {
        return (k > 0 || opt_.torn_floor_reads) && peer.kernel[k] && !peer.kernel[k]->landed && chance(rate_.torn_read);
      };
      uint64_t rebuilt = max_entry;
      if (peer.floor_disk && !torn(0)) rebuilt = std::max(rebuilt, *peer.floor_disk);
      for (int b = 0; b < nblocks_; ++b)
        if (peer.disk[b] && !torn(b + 1))
          for (const auto& e : *peer.disk[b]) rebuilt = std::max(rebuilt, e.epoch);
      n.durable_floor = 0;
      n.wanted_floor = rebuilt;
      n.floor_rewrite = true;
      ++stats.floor_rebuilds;
    }
    note([&] {
      std::string t = "node " + std::to_string(n.id) + " restarts, incarnation " + std::to_string(n.incarnation) +
                      ", floor " + std::to_string(n.durable_floor) + "/" + std::to_string(n.wanted_floor) + ", table";
      for (int b = 0; b < nblocks_; ++b) {
        t += " [";
        if (!n.disk[b]) t += "corrupt";
        else for (const auto& e : n.store[b]) t += " " + (e.in_use ? e.name + "=" : "") + str(e);
        t += "]";
      }
      return t;
    });
    for (int s = 0; s < nsvc_; ++s) {
      Svc& v = n.svc[s];
      v.running = v.stopping = false;
      v.last_read_unknown = false;
      const ServiceEntry own = n.slot_block[s] >= 0 ? n.store[n.slot_block[s]][n.slot_index[s]] : ServiceEntry{};
      v.own = std::make_unique<Ownership>(kNames[s], n.id, own);
      v.own->on_stopped();  // the start-up probe: nothing of a crashed life runs any more
    }
  }

  void go_silent(Node& n, Silence kind) {
    n.alive = false;
    n.paused = false;
    for (auto& v : n.svc) {
      v.running = v.stopping = false;  // processes die with the node (or are killed at the lease end)
      v.own.reset();
    }
    n.read.reset();
    if (!n.silent) {  // a crash after DOWN landed (a leave's tail) keeps the DOWN
      n.silent = true;
      n.silence = kind;
      n.silent_since = now_;
      n.verdict_at = kind == Silence::crash ? now_ + D : now_ + Millis(rnd(1, int(to_ms(R)) + 30));
    }
    n.restart_at = now_ + Millis(rnd(100, 5000));
  }

  void crash(Node& n) {
    ++stats.crashes;
    note([&] { return "node " + std::to_string(n.id) + " crashes"; });
    // A write in flight may land torn.
    if (opt_.damage && chance(rate_.torn_write)) {
      for (size_t k = 0; k < n.kernel.size(); ++k)
        if (auto& w = n.kernel[k]; w && !w->landed && w->lands != TimePoint::max() && may_damage(n, int(k))) {
          w->torn = true;
          ++stats.torn_writes;
          break;
        }
    }
    go_silent(n, Silence::crash);
  }

  void faults() {
    for (auto& n : nodes_) {
      if (n.alive && chance(rate_.crash)) crash(n);
      if (!n.alive && now_ >= n.restart_at) restart(n, true);
      if (!n.alive) continue;
      if (!n.leaving) {
        for (auto& v : n.svc)
          if (chance(rate_.intent)) v.intent = chance(0.6) ? Intent::hold : Intent::release;
        if (opt_.leaves && chance(rate_.leave)) {
          note([&] { return "node " + std::to_string(n.id) + " leaves"; });
          n.leaving = true;
          ++stats.leaves;
          for (auto& v : n.svc) v.intent = Intent::release;
        }
      }
      if (!n.paused && chance(0.001)) {
        // A pause shorter than the lease: the node stands still, its services too; no verdict can follow.
        n.paused = true;
        n.resume_at = now_ + Millis(rnd(10, int(2 * T.count())));
      }
    }
    // A block of a region rots: a table block in use or the epoch record turns undecodable.
    if (opt_.damage && chance(rate_.rot)) {
      Node& n = nodes_[rnd(0, 1)];
      if (const int k = rnd(0, nblocks_); may_damage(n, k)) {
        if (k == 0) n.floor_disk.reset();
        else n.disk[k - 1] = nullptr;
        n.junk[k] = junk();
        ++stats.rotted;
        note([&] { return "node " + std::to_string(n.id) + " block " + (k ? std::to_string(k - 1) : "floor") + " rots"; });
      }
    }
  }

  // --- the disk and quorumd ---------------------------------------------------------------------------

  void disk_step(Node& n) {
    for (size_t k = 0; k < n.kernel.size(); ++k) {
      if (!n.kernel[k]) continue;
      Write& w = *n.kernel[k];
      if (!w.landed && now_ >= w.lands) {
        w.landed = true;
        const bool healed = k == 0 ? !n.floor_disk : !n.disk[k - 1];
        if (k == 0) {
          if (w.torn) n.floor_disk.reset();
          else n.floor_disk = w.floor;
        } else {
          n.disk[k - 1] = w.torn ? nullptr : w.content;
        }
        n.junk[k] = w.torn ? junk() : 0;
        if (healed && !w.torn) ++stats.scrub_heals;
        note([&] {
          std::string t = "node " + std::to_string(n.id) + (w.torn ? " TORN" : "") + " landed " +
                          (k ? "block " + std::to_string(k - 1) + ":" : "floor " + std::to_string(w.floor));
          if (k)
            for (const auto& e : *w.content) t += " " + (e.in_use ? e.name + "=" : "") + str(e);
          return t;
        });
      }
      if (!w.reported_done && now_ >= w.reported) {
        if (n.alive && w.incarnation == n.incarnation) {
          if (n.paused) continue;  // quorumd handles the completion when it runs again
          completed(n, int(k), w);
        }
        w.reported_done = true;
      }
      // The kernel lets go of the block once the write landed or failed for good.
      if (w.reported_done && (w.landed || w.lands == TimePoint::max())) n.kernel[k].reset();
    }
  }

  void completed(Node& n, int k, Write& w) {
    note([&] {
      return "node " + std::to_string(n.id) + " write of " + (k ? "block " + std::to_string(k - 1) : "floor") +
             (w.ok ? " ok" : " FAILED");
    });
    const bool timed_out = !w.ok && w.lands != TimePoint::max();
    if (timed_out) n.blocked = true;
    if (k == 0) {
      if (w.ok) n.durable_floor = std::max(n.durable_floor, w.floor);
      else n.floor_rewrite = true;
      return;
    }
    if (!w.ok) n.dirty[k - 1] = 1;
    for (auto [s, token] : w.waiters) {
      Ownership& o = *n.svc[s].own;
      o.on_write_done(token, w.ok, w.reported);
      // A claim on the disk is confirmed by a read issued after it landed: svcmgr asks for one now.
      if (w.ok && o.phase() == OwnershipPhase::claiming) n.reread = true;
    }
  }

  void submit(Node& n, int k, Write w) {
    w.incarnation = n.incarnation;
    const double r = std::uniform_real_distribution<double>(0, 1)(rng_);
    Duration lat = Millis(rnd(1, 20));
    if (r < rate_.late) lat = Millis(rnd(int(T.count()), int(3 * T.count())));  // late: reported as timed out
    const bool failed = r > 1 - rate_.fail;                                        // never lands
    w.lands = failed ? TimePoint::max() : now_ + lat;
    w.ok = !failed && lat < T;
    w.reported = failed ? now_ + Millis(1) : (w.ok ? now_ + lat : now_ + T);
    n.kernel[k] = std::move(w);
  }

  // quorumd's writer: the epoch record first when the floor must rise; a table block only when the
  // durable floor covers every epoch it carries.
  void pump(Node& n) {
    if (now_ < n.hb_landed) return;
    if (n.blocked) {
      for (const auto& w : n.kernel)
        if (w) return;
      n.blocked = false;
    }
    if (!n.kernel[0] && (n.wanted_floor > n.durable_floor || n.floor_rewrite)) {
      Write w;
      w.floor = std::max(n.durable_floor, n.wanted_floor);
      n.floor_rewrite = false;
      submit(n, 0, std::move(w));
    }
    for (int b = 0; b < nblocks_; ++b) {
      if (!n.dirty[b] || n.kernel[b + 1]) continue;
      uint64_t max_epoch = 0;
      for (const auto& e : n.store[b]) max_epoch = std::max(max_epoch, e.epoch);
      if (max_epoch > n.durable_floor) {
        n.wanted_floor = std::max(n.wanted_floor, max_epoch);
        continue;
      }
      Write w;
      auto content = std::make_shared<Content>(n.store[b]);
      content->incarnation = n.incarnation;
      w.content = std::move(content);
      w.waiters = std::move(n.next_waiters[b]);
      n.next_waiters[b].clear();
      if (w.waiters.size() > 1) ++stats.shared_writes;
      note([&] { return "node " + std::to_string(n.id) + " submits block " + std::to_string(b); });
      n.dirty[b] = 0;
      submit(n, b + 1, std::move(w));
    }
  }

  // svcmgr's table-set: the entry goes to its slot (the first free one for a new service).
  void set_entry(Node& n, int s, const ServiceEntry& e, uint64_t token) {
    if (n.slot_block[s] < 0) {
      for (int b = 0; b < nblocks_ && n.slot_block[s] < 0; ++b)
        for (int i = 0; i < per_block_; ++i)
          if (!n.store[b][i].in_use) {
            n.slot_block[s] = b;
            n.slot_index[s] = i;
            break;
          }
    }
    const int b = n.slot_block[s];
    n.store[b][n.slot_index[s]] = e;
    n.dirty[b] = 1;
    n.next_waiters[b].push_back({s, token});
  }

  bool table_holds_up_entry(const Node& n) const {
    for (const auto& blk : n.store)
      for (const auto& e : blk)
        if (e.in_use && (e.state == OwnershipState::claiming || e.state == OwnershipState::owned ||
                         e.state == OwnershipState::releasing))
          return true;
    return false;
  }

  // --- reads of the peer's region ---------------------------------------------------------------------

  void read_step(Node& n, const Node& peer) {
    if (n.read) {
      Read& r = *n.read;
      for (size_t k = 0; k < r.at.size(); ++k) {
        if (r.taken[k] || now_ < r.at[k]) continue;
        r.taken[k] = 1;
        const auto& w = peer.kernel[k];
        // A read overlapping a write of the block may return it half written.
        const bool torn = opt_.damage && (k > 0 || opt_.torn_floor_reads) && w && !w->landed && chance(rate_.torn_read);
        if (torn) ++stats.torn_reads;
        if (k == 0) r.floor = torn ? std::nullopt : peer.floor_disk;
        else r.blocks[k - 1] = torn ? nullptr : peer.disk[k - 1];
        r.junk[k] = torn ? junk() : peer.junk[k];
      }
      if (now_ >= r.done) {
        if (!r.fails) deliver(n, peer, r);
        n.read.reset();
      }
    }
    if (!n.read && (now_ >= n.next_read || n.reread)) {
      Read r;
      r.issued = now_;
      r.at.resize(nblocks_ + 1);
      r.taken.assign(nblocks_ + 1, 0);
      r.blocks.resize(nblocks_);
      r.junk.assign(nblocks_ + 1, 0);
      TimePoint last = now_;
      for (auto& t : r.at) last = std::max(last, t = now_ + Millis(rnd(0, 30)));
      // A slow read: the blocks were read early, the reply comes much later (up to the I/O timeout).
      r.done = last + Millis(chance(rate_.slow_read) ? rnd(40, int(T.count()) - 40) : rnd(0, 10));
      r.fails = chance(0.02);
      n.read = std::move(r);
      n.next_read = now_ + R;
      n.reread = false;
    }
  }

  // svcmgr's on_peer_table: each service gets its entry, then the verdict that came with the same reply.
  void deliver(Node& n, const Node& peer, const Read& r) {
    n.liveness = liveness_of(peer);
    const int readable = opt_.variant == Variant::read_block0 ? 1 : nblocks_;
    int corrupt_block = -1;
    uint64_t seen = r.floor.value_or(0);
    for (int b = 0; b < readable; ++b) {
      if (!r.blocks[b]) {
        if (corrupt_block < 0) corrupt_block = b;
        continue;
      }
      for (const auto& e : *r.blocks[b]) seen = std::max(seen, e.epoch);
    }
    n.wanted_floor = std::max(n.wanted_floor, seen);  // quorumd: my floor covers every epoch I saw
    // svcmgr tells unknown reads apart by what quorumd reported of every undecodable block.
    uint64_t unknown_value = r.junk[0] * 0x9e3779b97f4a7c15ull;
    for (int b = 0; b < readable; ++b)
      if (!r.blocks[b] && opt_.variant != Variant::corrupt_free)
        unknown_value = (unknown_value ^ r.junk[b + 1]) * 0x100000001b3ull + uint64_t(b);
    if (unknown_value == 0) unknown_value = 1;
    if (!r.floor) ++stats.floorless_reads;
    for (int s = 0; s < nsvc_; ++s) {
      PeerEntryRead p;
      p.read_issued = r.issued;
      p.read_completed = now_;
      p.own_floor = n.durable_floor;
      p.peer_floor = r.floor;
      bool found = false;
      for (int b = 0; b < readable && !found; ++b) {
        if (!r.blocks[b]) continue;
        for (const auto& e : *r.blocks[b])
          if (e.in_use && e.name == kNames[s]) {
            p.entry = e;
            p.writer_incarnation = r.blocks[b]->incarnation;
            found = true;
            break;
          }
      }
      const bool corrupt_counts = opt_.variant != Variant::corrupt_free && corrupt_block >= 0;
      if (!found && (corrupt_counts || !r.floor)) {
        p.unknown = true;
        p.unknown_reason = corrupt_counts ? "corrupt record at block " + std::to_string(corrupt_block)
                                          : "corrupt epoch record";
      }
      if (opt_.variant == Variant::no_floors) {
        p.own_floor = 0;
        p.peer_floor = 0;
      }
      if (p.unknown) {
        ++stats.unknown_reads;
        p.unknown_value = unknown_value;
      }
      note([&] {
        return "node " + std::to_string(n.id) + " reads " + kNames[s] + " (issued " +
               std::to_string(to_ms(r.issued.time_since_epoch()) - 100000) + "): " +
               (p.unknown ? "UNKNOWN " + p.unknown_reason : str(p.entry)) + " own floor " +
               std::to_string(p.own_floor) + " peer floor " + (p.peer_floor ? std::to_string(*p.peer_floor) : "?");
      });
      n.svc[s].last_read_unknown = p.unknown;
      n.svc[s].own->on_peer_entry(p);
      n.svc[s].own->on_liveness(n.liveness);
    }
  }

  // --- quorumd's verdict ------------------------------------------------------------------------------

  PeerLiveness liveness_of(const Node& peer) const {
    // DEAD once a crashed node has been silent for D; DOWN once the peer's quorumd read the DOWN heartbeat;
    // re-confirmed by each heartbeat read until the next incarnation's heartbeat lands. A node that is
    // merely paused is never declared dead (pauses are shorter than the lease).
    PeerLiveness l;
    l.view = PeerView::up;
    if (peer.silent) {
      if (now_ >= peer.verdict_at) {
        l.view = peer.silence == Silence::crash ? PeerView::dead : PeerView::down;
        l.confirmed_at = peer.silence == Silence::crash ? now_ - R / 2 : std::max(peer.silent_since, now_ - R / 2);
      }
    } else if (peer.silence != Silence::none && peer.verdict_at <= peer.hb_landed &&
               now_ < peer.hb_landed + peer.seen_lag) {
      // Back, but the observer's quorumd has not yet read its new heartbeat: the verdict still stands,
      // confirmed only by reads issued before that heartbeat landed. Meanwhile the new incarnation may
      // already write its table.
      l.view = peer.silence == Silence::crash ? PeerView::dead : PeerView::down;
      l.confirmed_at = std::min(now_, peer.hb_landed) - Millis(1);
    }
    return l;
  }

  // --- svcmgr -----------------------------------------------------------------------------------------

  void node_step(Node& n, Node& peer) {
    if (!n.alive) return;
    if (n.paused) {
      if (now_ < n.resume_at) return;
      n.paused = false;
    }
    read_step(n, peer);
    const PeerLiveness& l = n.liveness;
    for (int s = 0; s < nsvc_; ++s) {
      Svc& v = n.svc[s];
      Ownership& o = *v.own;
      if (v.stopping && now_ >= v.stop_done) {
        note([&] { return "node " + std::to_string(n.id) + " " + kNames[s] + " stopped"; });
        v.stopping = false;
        v.running = false;
        o.on_stopped();
      }
      if (opt_.variant == Variant::stale_read && o.phase() == OwnershipPhase::claiming && o.peer() &&
          o.peer()->read_issued <= now_ - Millis(1)) {
        // The bug: the read in hand passed off as issued just now.
        PeerEntryRead p = *o.peer();
        p.read_issued = now_;
        o.on_peer_entry(p);
      }
      o.set_intent(v.intent, v.intent == Intent::release ? peer.id : 0);
      for (int guard = 0; guard < 4; ++guard) {
        OwnershipStep st = o.step(now_);
        if (st.write || st.start || st.stop)
          note([&] {
            return "node " + std::to_string(n.id) + " " + kNames[s] + ": " + st.why + (st.write ? " " + str(*st.write) : "") +
                   " [view " + peer_view_name(l.view) + " confirmed " +
                   std::to_string(to_ms(l.confirmed_at.time_since_epoch()) - 100000) + "]";
          });
        if (st.write) {
          if (st.write->state == OwnershipState::released && st.why.find("withdrawn") != std::string::npos)
            ++stats.withdrawals;
          set_entry(n, s, *st.write, o.write_token());
        }
        if (st.start) start(n, s, st.epoch);
        if (st.stop) {
          v.stopping = true;
          v.stop_done = now_ + Millis(rnd(0, 300));
        }
        if (!st.write && !st.start && !st.stop) break;
      }
    }
    if (n.leaving) leave_step(n);
    if (!n.alive) return;
    if (now_ >= n.next_scrub) {
      // The scrub: every block of my region rewritten from what quorumd holds.
      n.next_scrub = now_ + n.scrub_interval;
      n.floor_rewrite = true;
      std::fill(n.dirty.begin(), n.dirty.end(), 1);
    }
    pump(n);
  }

  void start(Node& n, int s, uint64_t epoch) {
    Svc& v = n.svc[s];
    v.running = true;
    ++stats.starts;
    if (v.last_read_unknown) ++stats.starts_over_unknown;
    std::set<uint64_t>& seen = started_[s];
    if (!seen.empty() && epoch <= *seen.rbegin())
      failure = kNames[s] + " started on node " + std::to_string(n.id) + " with epoch " + std::to_string(epoch) +
                (seen.count(epoch) ? " (already granted)" : "") + ", not above " + std::to_string(*seen.rbegin());
    seen.insert(epoch);
    if (last_runner_[s] && last_runner_[s] != n.id) {
      ++stats.handovers;
      const Node& other = nodes_[n.id == 1 ? 1 : 0];
      if (other.silent) ++stats.takeovers;
    }
    last_runner_[s] = n.id;
  }

  // A clean leave: svcmgr released everything (intents above); quorumd writes DOWN once its table holds
  // no claiming, owned or releasing entry; the node is gone once DOWN landed and nothing runs.
  void leave_step(Node& n) {
    if (!n.down_submitted && (opt_.variant == Variant::down_while_owned || !table_holds_up_entry(n))) {
      n.down_submitted = true;
      n.down_lands = now_ + Millis(rnd(1, 20));
    }
    if (!n.down_submitted || now_ < n.down_lands) return;
    if (!n.silent) {
      note([&] { return "node " + std::to_string(n.id) + " DOWN landed"; });
      n.silent = true;
      n.silence = Silence::leave;
      n.silent_since = n.down_lands;
      n.verdict_at = n.down_lands + Millis(rnd(1, int(to_ms(R)) + 30));
    }
    for (const auto& v : n.svc)
      if (v.running || v.stopping) return;
    go_silent(n, Silence::leave);
  }

  bool check() {
    if (!failure.empty()) return false;
    for (int s = 0; s < nsvc_; ++s)
      if (nodes_[0].svc[s].running && nodes_[1].svc[s].running) {
        failure = "both nodes run " + kNames[s] + " at t=" + std::to_string(to_ms(now_.time_since_epoch())) + " ms";
        return false;
      }
    return true;
  }

  static int svc_index(const std::string& name) { return name[1] - '0'; }

  struct Rates {
    double crash, rot, torn_read, late, fail, intent, leave, lose_block, torn_write, slow_read;
    int scrub_ms;
  };
  std::mt19937_64 rng_;
  SimOptions opt_;
  Rates rate_{};
  int nsvc_ = 0, per_block_ = 0, nblocks_ = 0;
  TimePoint now_{std::chrono::seconds(100)};
  Node nodes_[2];
  std::vector<std::set<uint64_t>> started_;  // every epoch ever started, per service
  std::vector<uint32_t> last_runner_;
};

const Duration kScheduleLength = std::chrono::seconds(20);

struct Outcome {
  Stats stats;
  int schedules = 0;
  int failed_seed = -1;
  std::string failure;
};

// Runs `schedules` schedules from `first_seed`; stops at the first failure.
Outcome run_schedules(SimOptions opt, int schedules, uint64_t first_seed) {
  Outcome out;
  for (int s = 0; s < schedules; ++s) {
    OwnSim sim(first_seed + uint64_t(s), opt);
    if (const char* t = std::getenv("CASTOR_SIM_TRACE"); t && std::to_string(first_seed + uint64_t(s)) == t) sim.trace = true;
    const bool ok = sim.run(kScheduleLength);
    out.stats.add(sim.stats);
    ++out.schedules;
    if (!ok) {
      out.failed_seed = int(first_seed) + s;
      out.failure = sim.failure;
      break;
    }
  }
  return out;
}

void print(const char* what, const Outcome& o) {
  const Stats& s = o.stats;
  std::printf("[castor] ownership simulation (%s): %d schedules of %llds, %ld services; %ld starts, %ld handovers "
              "(%ld take-overs from a silent node), %ld claim withdrawals, %ld crashes, %ld clean leaves, %ld shared "
              "block writes; %ld blocks rotted, %ld torn writes, %ld torn reads, %ld blocks lost at restart, %ld "
              "floors rebuilt, %ld damaged blocks rewritten; %ld unknown entries read, %ld reads without the peer's "
              "floor, %ld starts over an unknown entry; 0 double owners, epochs always increasing\n",
              what, o.schedules, (long long)std::chrono::duration_cast<std::chrono::seconds>(kScheduleLength).count(),
              s.services, s.starts, s.handovers, s.takeovers, s.withdrawals, s.crashes, s.leaves, s.shared_writes,
              s.rotted, s.torn_writes, s.torn_reads, s.lost_blocks, s.floor_rebuilds, s.scrub_heals, s.unknown_reads,
              s.floorless_reads, s.starts_over_unknown);
}

// A broken variant must be caught, and soon.
void expect_caught(Variant v, SimOptions opt, int within) {
  opt.variant = v;
  Outcome o = run_schedules(opt, within, 500000);
  REQUIRE_MESSAGE(o.failed_seed >= 0, "the broken variant " << variant_name(v) << " survived " << within << " schedules");
  std::printf("[castor] ownership simulation catches %s after %d schedule(s) (seed %d): %s\n", variant_name(v),
              o.schedules, o.failed_seed, o.failure.c_str());
}

}  // namespace

TEST_CASE("ownership simulation: ten thousand random schedules over several table blocks with corrupt, torn and lost "
          "blocks, epoch floors, clean leaves, crashes and pauses never give two owners or reuse an epoch" *
          doctest::skip(!kOwnershipKnowsUnknown)) {
  const int schedules = 10000;
  SimOptions opt;
  opt.torn_floor_reads = !kHoleFloorUnknown;
  opt.slow_reads = !kHoleStaleVerdict;
  Outcome o = run_schedules(opt, schedules, 1000);
  if (o.failed_seed >= 0) FAIL("seed " << o.failed_seed << ": " << o.failure);
  const Stats& s = o.stats;
  CHECK(s.starts > 100000);
  CHECK(s.handovers > 30000);
  CHECK(s.withdrawals > 1000);  // concurrent claims really happened
  CHECK(s.leaves > 1000);
  CHECK(s.shared_writes > 1000);  // two services' changes in one block write
  CHECK(s.rotted > 1000);
  CHECK(s.torn_writes > 100);
  CHECK(s.torn_reads > 1000);
  CHECK(s.lost_blocks > 1000);
  CHECK(s.floor_rebuilds > 10);
  CHECK(s.unknown_reads > 10000);
  CHECK(s.starts_over_unknown > 100);  // take-overs whose last read of the peer's entry was unknown
  print("every fault", o);
}

TEST_CASE("ownership simulation: ten thousand random schedules over several table blocks with clean leaves, crashes and "
          "pauses (no damaged blocks) never give two owners or reuse an epoch" *
          doctest::skip(kOwnershipKnowsUnknown)) {
  // Runs while Ownership does not know unknown entries and floors yet; the test above replaces it then.
  const int schedules = 10000;
  SimOptions opt;
  opt.damage = false;
  opt.slow_reads = !kHoleStaleVerdict;
  Outcome o = run_schedules(opt, schedules, 1000);
  if (o.failed_seed >= 0) FAIL("seed " << o.failed_seed << ": " << o.failure);
  CHECK(o.stats.starts > 100000);
  CHECK(o.stats.handovers > 30000);
  CHECK(o.stats.leaves > 1000);
  print("no damaged blocks", o);
}

// Each shows its hole still open: it must find a schedule that breaks the promise.
void expect_hole(const char* name, SimOptions opt, int within, const char* switch_name) {
  Outcome o = run_schedules(opt, within, 1000);
  REQUIRE_MESSAGE(o.failed_seed >= 0, "the hole " << name << " was not found in " << within << " schedules: closed (then set "
                                      << switch_name << " to 0), or the model changed and it now takes longer");
  std::printf("[castor] ownership simulation: KNOWN HOLE %s still open, found after %d schedule(s) (seed %d): %s\n",
              name, o.schedules, o.failed_seed, o.failure.c_str());
}

TEST_CASE("ownership simulation: KNOWN HOLE — a new epoch taken from a read whose peer epoch record did not decode "
          "can repeat an epoch already granted" * doctest::skip(!kOwnershipKnowsUnknown || !kHoleFloorUnknown)) {
  SimOptions opt;
  opt.slow_reads = false;  // not the other hole
  expect_hole("HOLE_FLOOR_UNKNOWN", opt, 20000, "CASTOR_SIM_HOLE_FLOOR_UNKNOWN");
}

TEST_CASE("ownership simulation: KNOWN HOLE — a DOWN verdict that comes with a stale read lets the new epoch repeat "
          "the one the peer took before it left" * doctest::skip(!kHoleStaleVerdict)) {
  SimOptions opt;
  opt.damage = false;  // not the other hole
  opt.slow_read_hunt = true;
  expect_hole("HOLE_STALE_VERDICT", opt, 20000, "CASTOR_SIM_HOLE_STALE_VERDICT");
}

// The variants that need damaged blocks to go wrong are only worth running once the real one survives them.
TEST_CASE("ownership simulation catches a corrupt peer block read as no entries (svcmgr's old reading)" *
          doctest::skip(!kOwnershipKnowsUnknown)) {
  expect_caught(Variant::corrupt_free, SimOptions{}, 300);
}

TEST_CASE("ownership simulation catches epochs chosen without the epoch floors" * doctest::skip(!kOwnershipKnowsUnknown)) {
  expect_caught(Variant::no_floors, SimOptions{}, 300);
}


// These go wrong without any damage: run on undamaged schedules, so that they are caught for their own sake.
TEST_CASE("ownership simulation catches a table-peer that reads only block 0 (quorumd's old read)") {
  SimOptions opt;
  opt.damage = false;
  expect_caught(Variant::read_block0, opt, 300);
}

TEST_CASE("ownership simulation catches DOWN written while the leaving node's table still holds up entries") {
  SimOptions opt;
  opt.damage = false;
  expect_caught(Variant::down_while_owned, opt, 300);
}

TEST_CASE("ownership simulation catches a claim confirmed with a read issued before the claim completed") {
  SimOptions opt;
  opt.damage = false;
  expect_caught(Variant::stale_read, opt, 300);
}

// Figures for the notes, not part of `make check` (run with --no-skip): how many schedules each broken
// variant survives, from 20 different first seeds.
TEST_CASE("ownership simulation figures: schedules until each broken variant is caught" * doctest::skip()) {
  const std::pair<Variant, bool> variants[] = {{Variant::corrupt_free, true},  {Variant::no_floors, true},
                                               {Variant::read_block0, false},  {Variant::down_while_owned, false},
                                               {Variant::stale_read, false}};
  for (auto [v, damage] : variants) {
    std::vector<int> n;
    for (int k = 0; k < 20; ++k) {
      SimOptions opt;
      opt.variant = v;
      opt.damage = damage;
      Outcome o = run_schedules(opt, 5000, 700000 + uint64_t(k) * 10000);
      n.push_back(o.failed_seed >= 0 ? o.schedules : -1);
    }
    std::sort(n.begin(), n.end());
    std::printf("[castor] %s: caught after min %d, median %d, max %d schedules (20 runs; -1 = not within 5000)\n",
                variant_name(v), n.front(), n[n.size() / 2], n.back());
  }
  // The holes, with the real Ownership and the options of their cases.
  for (int h = 0; h < 2; ++h) {
    std::vector<int> n;
    for (int k = 0; k < 5; ++k) {
      SimOptions opt;
      if (h == 0) opt.slow_reads = false;
      else opt.damage = false, opt.slow_read_hunt = true;
      Outcome o = run_schedules(opt, 20000, 700000 + uint64_t(k) * 30000);
      n.push_back(o.failed_seed >= 0 ? o.schedules : -1);
    }
    std::sort(n.begin(), n.end());
    std::printf("[castor] %s: found after min %d, median %d, max %d schedules (5 runs; -1 = not within 20000)\n",
                h == 0 ? "HOLE_FLOOR_UNKNOWN" : "HOLE_STALE_VERDICT", n.front(), n[n.size() / 2], n.back());
  }
}
