// Review 17d: a randomized schedule explorer for the majority device (issue 17). One world per seed
// (std::mt19937_64, deterministic): three quorum devices holding one block (node 1's heartbeat block), each
// process (a writer life, the peer reader) opening them through its own MajorityBlockDevice over three paths
// whose every I/O -- when it reaches the disk, what it reads there, whether it fails, when its completion is
// handed back, whether it is lost -- the world draws from the seed. One device (the faulty one) may
// misbehave in episodes: stalled then resumed (or never), EIO (a failed write may have landed), read-only,
// zeroed once, garbage on reads, lagging writes (landing after the composite's deadline), slow I/O; on every
// path to it, or only on the readers' or only on the writers' paths. The two healthy devices land and
// answer every I/O within 400 ms (the composite deadline is 1 s), in any order relative to each other.
// The writer has lives: a crash with a restart (the new process starts once every write of the old one
// that reached the kernel has landed or been lost: exit_aio), a fence and rejoin (the same composite, a new
// incarnation once held_by_kernel() is 0: a straggler may stay on the faulty device), a crash without a
// restart, and -- only with Options::undead -- an undead old life that goes on writing beside the new one (or
// stops later). Up to five transitions, close together; the schedule ends 0.5-2.5 s after the last. The peer reader
// issues reads on its own timer, up to three open at once, restarts (a fresh composite), forgets the faulty
// slot (replace_device with a path to the same disk); writer composites may read their own block (R5).
// After every read that reports ok, the properties of tests/model/majority.pml are checked on its output:
//  (a')  a write issued while the reader followed its value u that completed ok before the read's issue: the
//        read does not return u (unless u itself landed again after that write was issued: an undead
//        life's write of u still in flight, which one disk could show too);
//  (a)   strict: for every life with a write completed before the read's issue (its highest seq w): the
//        read returns a valid record of w's life with seq >= w's, or one of another life that landed a
//        write somewhere after w was issued;
//  (b)   within one life the reader's outputs never go back (per reader process, in report order).
// What the world never does: fault a second device, replay an old copy on a device (a device that rolls
// back is two faults' worth: it breaks the intersection argument), let a healthy device's I/O take longer
// than 400 ms, tear a block on a healthy device, write a block other than the one, run several writer
// processes of one life.
// Test-only.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "disk/life_number.h"
#include "disk/majority_block_device.h"
#include "disk/record_header.h"
#include "disk/record_seal.h"
#include "disk/replica_choice.h"

namespace castor::review17d {

// The trace's text is built only when the world traces (a replay): most schedules never print it.
#define REVIEW17D_TR(text)       \
  do {                           \
    if (trace_on_) tr(text);     \
  } while (0)

inline constexpr int64_t kT = 1000;        // the composite deadline, ms
inline constexpr int64_t kHealthyStage = 200;  // a healthy device's exec and completion stages, each at most

enum class Role : uint8_t { writer, reader };

struct Val {
  bool valid = false;
  uint64_t life = 0, seq = 0;
  bool operator==(const Val&) const = default;
};

class World;
class Path;

// One I/O on one path, owned by the world (the kernel holds it even when the process that issued it is gone).
struct Op {
  uint64_t id = 0;
  Path* path = nullptr;  // nullptr once the path is gone (the process died)
  size_t dev = 0;
  Role role = Role::reader;
  int proc = 0;
  uint64_t tag = 0;
  IoKind kind = IoKind::read;
  uint64_t offset = 0;
  std::vector<std::byte> data;  // write: the payload; read: what was read at exec
  std::span<std::byte> out;     // read: the composite's buffer (written only when reported)
  int64_t issued = 0;
  int64_t done_delay = 0;  // from exec to its completion being ready
  bool executed = false, ready = false, dropped = false, held = false, failed = false;
};

enum class FaultMode : uint8_t { none, stall, eio, read_only, zeroed, garbage, lag, slow };
inline const char* fault_name(FaultMode m) {
  switch (m) {
    case FaultMode::none: return "none";
    case FaultMode::stall: return "stalled";
    case FaultMode::eio: return "EIO";
    case FaultMode::read_only: return "read-only";
    case FaultMode::zeroed: return "zeroed";
    case FaultMode::garbage: return "garbage";
    case FaultMode::lag: return "lagging";
    case FaultMode::slow: return "slow";
  }
  return "?";
}

// A path from one process to one device: a BlockDevice whose I/Os the world completes.
class Path final : public BlockDevice {
 public:
  Path(World& w, size_t dev, Role role, int proc, std::string name, Geometry g)
      : w_(w), dev_(dev), role_(role), proc_(proc), name_(std::move(name)), g_(g) {}
  ~Path() override {
    for (Op* op : ops_) {
      op->path = nullptr;
      if (op->kind == IoKind::read) op->dropped = true;  // nobody waits for it
    }
  }
  const Geometry& geometry() const override { return g_; }
  const std::string& name() const override { return name_; }
  Status submit_read(uint64_t tag, uint64_t offset, std::span<std::byte> out, TimePoint, TimePoint) override;
  Status submit_write(uint64_t tag, uint64_t offset, std::span<const std::byte> data, TimePoint, TimePoint) override;
  void reap(TimePoint, std::vector<IoCompletion>& out) override {
    for (auto it = ready_.begin(); it != ready_.end();) {
      Op* op = *it;
      IoCompletion c;
      c.tag = op->tag;
      c.kind = op->kind;
      c.offset = op->offset;
      c.length = op->kind == IoKind::read ? op->out.size() : op->data.size();
      c.issued = TimePoint(Millis(op->issued));
      if (op->failed) {
        c.status = Error(Code::io_error, name_ + ": EIO");
      } else {
        c.status = Status::Ok();
        if (op->kind == IoKind::read) std::memcpy(op->out.data(), op->data.data(), op->out.size());
      }
      out.push_back(std::move(c));
      ops_.erase(std::find(ops_.begin(), ops_.end(), op));
      it = ready_.erase(it);
    }
  }
  void wait(TimePoint) override {}
  size_t in_flight() const override { return ops_.size(); }

  World& w_;
  size_t dev_;
  Role role_;
  int proc_;
  std::string name_;
  Geometry g_;
  std::vector<Op*> ops_;    // submitted, not yet reported
  std::vector<Op*> ready_;  // completions ready, in the order they became ready
};

struct Params {
  size_t faulty = 0;
  int64_t horizon = 0;
  int64_t write_period = 0, read_period = 0, own_read_period = 0;  // own_read_period 0: no own reads
  int max_open_writes = 1, max_open_reads = 1;
  std::array<int, 3> profile{};  // per device: 0 fast, 1 normal, 2 jittery
};

// What the world may do (all of it by default; the environment narrows it for a hunt).
struct Options {
  // An old life that goes on writing beside the new one. Off by default: the current rules do not keep (a')
  // and (a) against an undead writer (the model checks them only without one; review 17d's report), so a run
  // with it is a hunt by hand (CASTOR_REVIEW17D_UNDEAD=1).
  bool undead = false;
  bool undead_stops = true;   // ...and stops at some later moment
  bool strict_all = false;    // (a) against every life's latest completed write, not only the latest one
};

class World {
 public:
  explicit World(uint64_t seed, bool tracing = false, Options opt = {})
      : seed_(seed), rng_(seed), trace_on_(tracing), opt_(opt), layout_(*DiskLayout::for_sector_size(512)),
        seal_(RecordSeal::crc_only()) {
    for (size_t i = 0; i < cluster_.bytes.size(); ++i) cluster_.bytes[i] = uint8_t(40 + i);
    blk_ = layout_.heartbeat_offset(1);
    geometry_.logical_sector_size = 512;
    geometry_.size_bytes = layout_.required_bytes();
  }
  World(const World&) = delete;
  World& operator=(const World&) = delete;
  ~World() {
    procs_.clear();  // composites (and their paths) before the ops
  }

  // Runs the schedule; false on a violation (failure() says which).
  bool run();
  const std::string& failure() const { return failure_; }
  uint64_t seed() const { return seed_; }
  // What happened in the schedule up to its end or its violation (for sorting the findings).
  std::string features() const {
    std::string s;
    for (const auto& f : feats_) s += (s.empty() ? "" : ",") + f;
    return s;
  }
  const std::vector<std::string>& trace() const { return trace_; }

  // Counters for the summary.
  struct Stats {
    uint64_t events = 0, writes_ok = 0, writes_failed = 0, reads_ok = 0, reads_failed = 0, checks = 0;
    uint64_t life_switches = 0;  // outputs whose life differs from the reader's previous output's
    uint64_t undead = 0, restarts = 0, rejoins = 0, crashes = 0, reader_restarts = 0, forgets = 0;
    uint64_t own_reads_ok = 0, invalid_outputs = 0;
    uint64_t a_all = 0;  // reads that keep (a) (the latest completed write) but not (a) against every life's
  };
  const Stats& stats() const { return st_; }

  // Path callbacks.
  Status submit(Path& p, IoKind kind, uint64_t tag, uint64_t offset, std::span<const std::byte> data,
                std::span<std::byte> out);

 private:
  enum class Ev : uint8_t { exec, done, reap, write_tick, read_tick, own_read_tick, fault, life, life_now, start,
                            reader_restart, forget, undead_stop };
  struct Event {
    int64_t t;
    uint64_t key;
    uint64_t seq;
    Ev type;
    Op* op;
    int arg;
    uint64_t gen;  // a tick chain's generation (a rejoin starts a new chain; the old one must end)
    bool operator>(const Event& o) const {
      if (t != o.t) return t > o.t;
      if (key != o.key) return key > o.key;
      return seq > o.seq;
    }
  };
  struct Pending {
    IoKind kind;
    size_t rec;  // index into wrecs_ / rrecs_
    std::vector<std::byte> buf;
  };
  struct Proc {
    int id = 0;
    std::string name;
    std::unique_ptr<MajorityBlockDevice> dev;
    bool alive = true;
    bool writer = false;
    uint64_t life = 0, next_seq = 1;
    bool issuing = false;
    int open_writes = 0, open_reads = 0;
    int reader = -1;          // index into readers_
    uint64_t reads_issued = 0;  // for the trace
    int kernel_writes = 0;    // writes of this process the kernel holds that have not landed or been lost
    bool waiting_exit = false;  // a new life waits for this dead process's writes (exit_aio)
    int rejoin = -1;          // pending rejoin: the life plan entry
    int transition_after_write = -1;  // a life event to run right after this process's next write report
    uint64_t gen = 0;                 // the current tick chains' generation
    std::map<uint64_t, Pending> pending;  // by tag
  };
  struct Reader {
    std::string name;
    std::optional<Val> pout;
    uint64_t version = 0;
    uint64_t stale_version = UINT64_MAX;
    uint64_t stale_w_issue = 0;  // the latest issue index of a write that made the value stale
    std::map<uint64_t, uint64_t> lastout;  // life -> highest seq output
  };
  struct WRec {
    int proc;
    uint64_t life, seq, issue_idx;
    std::vector<uint64_t> versions;  // per reader at issue
  };
  struct WDone {
    uint64_t life, seq, issue_idx;
  };
  struct RRec {
    int reader;
    uint64_t issue_idx;
    bool rstale = false;
    std::optional<Val> rsv;
    uint64_t stale_w_issue = 0;
    std::map<uint64_t, std::pair<uint64_t, uint64_t>> done;  // life -> (highest seq completed, its issue idx)
    std::optional<WDone> latest;  // the write completed last before the issue (the model's wdone)
    uint64_t read_no = 0;  // for the trace
  };
  enum class Transition : uint8_t { restart, rejoin, undead, crash };
  struct LifeEvent {
    int64_t t;
    Transition kind;
    bool after_write;
    uint64_t start_seq_mode;
  };
  struct FaultEpisode {
    int64_t t;
    FaultMode mode;
    int scope;  // bit 1: writers' paths, bit 2: readers' paths
    bool eio_lands;
  };

  // randomness
  uint64_t u(uint64_t lo, uint64_t hi) { return std::uniform_int_distribution<uint64_t>(lo, hi)(rng_); }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  int64_t log_uniform(double lo, double hi) {
    return int64_t(lo * std::pow(hi / lo, std::uniform_real_distribution<double>(0, 1)(rng_)));
  }
  int64_t healthy_stage(size_t dev);

  void at(int64_t t, Ev type, Op* op = nullptr, int arg = 0, uint64_t gen = 0) {
    q_.push(Event{t, rng_(), next_ev_++, type, op, arg, gen});
  }
  void tr(const std::string& s) { trace_.push_back("t=" + std::to_string(now_) + " #" + std::to_string(idx_) + " " + s); }
  std::string lname(uint64_t life) const;
  std::string vname(const Val& v) const { return v.valid ? lname(v.life) + "." + std::to_string(v.seq) : "invalid"; }
  std::string oname(const Op& op) const;
  // The chooser's memory of the block in process p (for the trace).
  std::string memory(const Proc& p) const {
    std::string s;
    const ReplicaChoice& c = p.dev->chooser();
    for (size_t d = 0; d < 3; ++d) {
      auto h = c.remembered(d, blk_);
      s += "dev" + std::to_string(d) + ":" + (h ? lname(h->incarnation) + "." + std::to_string(h->seq) : "-") + " ";
    }
    if (auto h = c.handed_out(blk_)) s += "handed out " + lname(h->incarnation) + "." + std::to_string(h->seq);
    return s;
  }
  Val decode(std::span<const std::byte> b) const;
  // The (life, seq) of a record the world wrote itself (every write is one), without the CRC: the world's
  // own bookkeeping of landings, checked against decode() once per world.
  static Val written(std::span<const std::byte> b) {
    ByteReader r(b);
    r.seek(40);  // magic, version, type, block size, CRC, cluster uuid, writer, block index
    const uint64_t life = r.u64();
    const uint64_t seq = r.u64();
    return Val{true, life, seq};
  }
  std::vector<std::byte> record(uint64_t life, uint64_t seq, uint32_t writer = 1, bool other_cluster = false) const;
  std::vector<std::byte> garbage();
  bool applies(const Op& op, FaultMode m) const {
    return fault_.mode == m && op.dev == p_.faulty && (fault_.scope & (op.role == Role::writer ? 1 : 2));
  }

  void setup();
  int new_proc(const std::string& name, bool writer);
  void new_life(Proc& w, const LifeEvent* ev);
  void handle(const Event& e);
  void exec(Op& op);
  void done(Op& op);
  void reap(Proc& p);
  void issue_write(Proc& w);
  void issue_read(Proc& p);
  void on_write_reported(Proc& p, const Pending& pd, const Status& st);
  void on_read_reported(Proc& p, const Pending& pd, const Status& st);
  void apply_fault(const FaultEpisode& f);
  void apply_life(int i);
  void crash(Proc& w, bool restart_after);
  void check_waits();
  void fail(const std::string& why) {
    if (failure_.empty()) failure_ = why;
    REVIEW17D_TR("VIOLATION: " + why);
  }

  uint64_t seed_;
  std::mt19937_64 rng_;
  bool trace_on_;
  Options opt_;
  std::set<std::string> feats_;
  std::vector<std::string> trace_;
  DiskLayout layout_;
  RecordSeal seal_;
  Uuid cluster_;
  uint64_t blk_ = 0;
  Geometry geometry_;
  Params p_;
  Stats st_;
  std::string failure_;

  int64_t now_ = 0;
  uint64_t idx_ = 0;  // the order of actions (issue, landing, report)
  uint64_t next_ev_ = 0, next_op_ = 1, next_tag_ = 1;
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> q_;
  std::vector<std::unique_ptr<Op>> ops_;
  std::vector<Op*> held_;
  std::array<std::vector<std::byte>, 3> disk_;
  FaultEpisode fault_{0, FaultMode::none, 3, false};
  std::vector<FaultEpisode> faults_;
  std::vector<LifeEvent> lives_plan_;
  std::vector<std::unique_ptr<Proc>> procs_;
  int writer_ = -1;        // the current (newest) writer process
  int peer_ = -1;          // the peer reader process
  std::vector<Reader> readers_;
  std::vector<WRec> wrecs_;
  std::vector<RRec> rrecs_;
  std::map<uint64_t, std::pair<uint64_t, uint64_t>> completed_;  // life -> (highest seq completed ok, issue idx)
  std::map<uint64_t, uint64_t> life_land_;                       // life -> latest landing index
  std::map<std::pair<uint64_t, uint64_t>, uint64_t> value_land_;  // (life, seq) -> latest landing index
  std::vector<uint64_t> lives_;                                   // in order of creation
  std::set<uint64_t> used_incs_;
  uint64_t last_next_seq_ = 1;  // the newest writer's next seq (a new life may start near it)
  bool start_pending_ = false;
  std::optional<WDone> latest_done_;  // the write completed last (the model's wdone)  // a new writer process is about to start (no other life event until then)
};

// ---------------------------------------------------------------------------------------------------------

inline Status Path::submit_read(uint64_t tag, uint64_t offset, std::span<std::byte> out, TimePoint, TimePoint) {
  return w_.submit(*this, IoKind::read, tag, offset, {}, out);
}
inline Status Path::submit_write(uint64_t tag, uint64_t offset, std::span<const std::byte> data, TimePoint,
                                 TimePoint) {
  return w_.submit(*this, IoKind::write, tag, offset, data, {});
}

inline std::string World::lname(uint64_t life) const {
  for (size_t i = 0; i < lives_.size(); ++i)
    if (lives_[i] == life) return i == 0 ? std::string("L0") : std::string(1, char('A' + i - 1));
  return "?" + std::to_string(life);
}

inline std::string World::oname(const Op& op) const {
  std::string s = "dev" + std::to_string(op.dev) + " " + (op.kind == IoKind::read ? "read" : "write");
  if (op.kind == IoKind::write) s += " " + vname(decode(op.data));
  s += " of P" + std::to_string(op.proc) + " (op " + std::to_string(op.id) + ")";
  return s;
}

inline Val World::decode(std::span<const std::byte> b) const {
  auto h = verify_block(b, {RecordType::heartbeat, layout_.block_size(), 1}, seal_);
  if (!h.ok() || !(h->cluster_uuid == cluster_) || h->block_index != 0) return Val{};
  return Val{true, h->incarnation, h->seq};
}

inline std::vector<std::byte> World::record(uint64_t life, uint64_t seq, uint32_t writer, bool other_cluster) const {
  std::vector<std::byte> b(layout_.block_size());
  RecordHeader h;
  h.type = RecordType::heartbeat;
  h.block_size = layout_.block_size();
  h.cluster_uuid = cluster_;
  if (other_cluster) h.cluster_uuid.bytes[0] ^= 0xFF;
  h.writer_node = writer;
  h.block_index = 0;
  h.incarnation = life;
  h.seq = seq;
  encode_header(h, b);
  seal_block(b, seal_);
  return b;
}

inline std::vector<std::byte> World::garbage() {
  switch (u(0, 3)) {
    case 0: {
      std::vector<std::byte> b(layout_.block_size());
      for (auto& x : b) x = std::byte(u(0, 255));
      return b;
    }
    case 1: return record(lives_.back(), u(1, 100), 1, true);  // another cluster's
    case 2: return record(lives_.back(), u(1, 100), 2);        // the wrong writer
    default: return std::vector<std::byte>(layout_.block_size());
  }
}

inline int64_t World::healthy_stage(size_t dev) {
  const int prof = p_.profile[dev];
  const double r = std::uniform_real_distribution<double>(0, 1)(rng_);
  // fast: mostly at once; normal: a few ms; jittery: anything up to the stage bound
  const double w0 = prof == 0 ? 0.6 : prof == 1 ? 0.3 : 0.2;
  const double w1 = prof == 0 ? 0.3 : prof == 1 ? 0.4 : 0.3;
  const double w2 = prof == 0 ? 0.08 : prof == 1 ? 0.25 : 0.3;
  if (r < w0) return 0;
  if (r < w0 + w1) return int64_t(u(1, 4));
  if (r < w0 + w1 + w2) return int64_t(u(5, 40));
  return int64_t(u(41, kHealthyStage));
}

inline Status World::submit(Path& p, IoKind kind, uint64_t tag, uint64_t offset, std::span<const std::byte> data,
                            std::span<std::byte> out) {
  if (offset != blk_) return Error(Code::invalid_argument, p.name() + ": the world has one block");
  auto op = std::make_unique<Op>();
  op->id = next_op_++;
  op->path = &p;
  op->dev = p.dev_;
  op->role = p.role_;
  op->proc = p.proc_;
  op->tag = tag;
  op->kind = kind;
  op->offset = offset;
  op->issued = now_;
  if (kind == IoKind::write) op->data.assign(data.begin(), data.end());
  op->out = out;
  int64_t exec_delay = healthy_stage(op->dev), done_delay = healthy_stage(op->dev);
  if (applies(*op, FaultMode::lag) && kind == IoKind::write) {
    exec_delay = kT + int64_t(u(0, 4 * kT));
    done_delay = int64_t(u(0, 20));
  }
  if (applies(*op, FaultMode::slow)) {
    exec_delay = int64_t(u(0, 2 * kT));
    done_delay = int64_t(u(0, kT));
  }
  op->done_delay = done_delay;
  Op* raw = op.get();
  ops_.push_back(std::move(op));
  p.ops_.push_back(raw);
  if (kind == IoKind::write) ++procs_[size_t(raw->proc)]->kernel_writes;
  at(now_ + exec_delay, Ev::exec, raw);
  REVIEW17D_TR("submit " + oname(*raw) + ", reaches the disk in " + std::to_string(exec_delay) + " ms");
  return Status::Ok();
}

inline int World::new_proc(const std::string& name, bool writer) {
  auto p = std::make_unique<Proc>();
  p->id = int(procs_.size());
  p->name = name;
  p->writer = writer;
  std::vector<std::unique_ptr<BlockDevice>> devs;
  for (size_t i = 0; i < 3; ++i)
    devs.push_back(std::make_unique<Path>(*this, i, writer ? Role::writer : Role::reader, p->id,
                                          name + "-dev" + std::to_string(i), geometry_));
  auto d = MajorityBlockDevice::create(std::move(devs), seal_, cluster_, name);
  if (!d.ok()) {
    fail("create: " + d.status().to_string());
    return -1;
  }
  p->dev = std::move(*d);
  p->reader = int(readers_.size());
  readers_.push_back(Reader{name, std::nullopt, 0, UINT64_MAX, 0, {}});
  procs_.push_back(std::move(p));
  return int(procs_.size()) - 1;
}

inline void World::setup() {
  p_.faulty = size_t(u(0, 2));
  p_.horizon = int64_t(u(1500, 5000));
  p_.write_period = log_uniform(10, 700);
  p_.read_period = log_uniform(10, 500);
  p_.own_read_period = chance(0.35) ? int64_t(u(30, 800)) : 0;
  p_.max_open_writes = chance(0.3) ? 2 : 1;
  p_.max_open_reads = int(u(1, 3));
  for (auto& x : p_.profile) x = int(u(0, 2));
  // The block before the schedule: a past life's record on every device (a block nobody ever wrote would
  // make a zeroed device plus a healthy one still waiting for the first write an invalid majority).
  // Lives are ordered (lib/disk/life_number.h): life k's incarnation carries k above a random half.
  const uint64_t l0 = make_incarnation(1, uint32_t(rng_()));
  lives_.push_back(l0);
  used_incs_.insert(l0);
  const uint64_t s0 = u(1, 20);
  for (auto& d : disk_) d = record(l0, s0);
  if (!(written(disk_[0]) == decode(disk_[0]))) fail("the world reads its own records wrong");
  completed_[l0] = {s0, 0};
  latest_done_ = WDone{l0, s0, 0};
  life_land_[l0] = 0;
  value_land_[{l0, s0}] = 0;
  // Faults: episodes on the faulty device, back to back with healthy spells between.
  for (int64_t t = int64_t(u(0, 1500)); t < p_.horizon;) {
    FaultEpisode f;
    f.t = t;
    f.mode = FaultMode(u(1, 7));
    const uint64_t sc = u(0, 5);
    f.scope = sc < 3 ? 3 : sc == 3 ? 1 : 2;
    f.eio_lands = chance(0.3);
    faults_.push_back(f);
    const int64_t len = f.mode == FaultMode::zeroed ? 0 : int64_t(u(50, 3000));
    t += len;
    if (chance(0.15) && f.mode == FaultMode::stall) break;  // a stall that never ends
    faults_.push_back(FaultEpisode{t, FaultMode::none, 3, false});
    t += int64_t(u(0, 1500));
  }
  for (size_t i = 0; i < faults_.size(); ++i) at(faults_[i].t, Ev::fault, nullptr, int(i));
  // Lives.
  const uint64_t r = u(0, 99);
  const int n = r < 2 ? 0 : r < 22 ? 1 : r < 47 ? 2 : r < 72 ? 3 : r < 90 ? 4 : 5;
  // The transitions close together (what happens around them is what the properties are about), and the
  // schedule ends a while after the last one.
  int64_t tl = int64_t(u(100, 1500));
  for (int i = 0; i < n; ++i) {
    LifeEvent e;
    e.t = tl;
    tl += log_uniform(10, 2000);
    const uint64_t k = u(0, 99);
    e.kind = k < 40 ? Transition::restart : k < 60 ? Transition::rejoin : k < 88 ? Transition::undead : Transition::crash;
    if (e.kind == Transition::undead && !opt_.undead) e.kind = Transition::restart;
    e.after_write = chance(0.5);
    e.start_seq_mode = u(0, 9);
    lives_plan_.push_back(e);
  }
  if (n > 0) p_.horizon = std::min(p_.horizon, lives_plan_.back().t + int64_t(u(500, 2500)));
  for (size_t i = 0; i < lives_plan_.size(); ++i) at(lives_plan_[i].t, Ev::life, nullptr, int(i));
  // The writer's first life, the peer reader.
  writer_ = new_proc("P0-writer", true);
  new_life(*procs_[size_t(writer_)], nullptr);
  peer_ = new_proc("P1-reader", false);
  at(int64_t(u(0, 50)), Ev::read_tick, nullptr, peer_);
  for (int i = int(u(0, 9)) < 6 ? 0 : int(u(1, 2)); i > 0; --i) at(int64_t(u(200, uint64_t(p_.horizon))), Ev::reader_restart);
  for (int i = int(u(0, 9)) < 6 ? 0 : int(u(1, 2)); i > 0; --i) at(int64_t(u(200, uint64_t(p_.horizon))), Ev::forget);
}

// A new life on writer process w (a new incarnation; seqs by the plan's mode).
inline void World::new_life(Proc& w, const LifeEvent* ev) {
  const uint64_t inc = make_incarnation(uint32_t(lives_.size() + 1), uint32_t(rng_()));
  used_incs_.insert(inc);
  const uint64_t prev_next = std::max<uint64_t>(w.next_seq, last_next_seq_);
  lives_.push_back(inc);
  w.life = inc;
  const uint64_t m = ev ? ev->start_seq_mode : 0;
  w.next_seq = m < 5 ? 1 : m < 7 ? std::max<uint64_t>(1, prev_next - 1) : m < 8 ? prev_next : u(1, 50);
  w.issuing = true;
  ++w.gen;
  REVIEW17D_TR("P" + std::to_string(w.id) + " starts life " + lname(inc) + " (incarnation " + std::to_string(inc) +
     ") at seq " + std::to_string(w.next_seq));
  at(now_ + int64_t(u(0, 5)), Ev::write_tick, nullptr, w.id, w.gen);
  if (p_.own_read_period)
    at(now_ + int64_t(u(0, uint64_t(p_.own_read_period))), Ev::own_read_tick, nullptr, w.id, w.gen);
}

inline void World::issue_write(Proc& w) {
  if (w.open_writes >= p_.max_open_writes) return;
  const uint64_t tag = next_tag_++;
  const uint64_t seq = w.next_seq++;
  last_next_seq_ = w.next_seq;
  Pending pd{IoKind::write, wrecs_.size(), record(w.life, seq)};
  WRec rec{w.id, w.life, seq, ++idx_, {}};
  for (const auto& r : readers_) rec.versions.push_back(r.version);
  wrecs_.push_back(std::move(rec));
  REVIEW17D_TR("P" + std::to_string(w.id) + " issues write " + lname(w.life) + "." + std::to_string(seq) + " (tag " +
     std::to_string(tag) + ")");
  auto it = w.pending.emplace(tag, std::move(pd)).first;
  Status s = w.dev->submit_write(tag, blk_, it->second.buf, TimePoint(Millis(now_)), TimePoint(Millis(now_ + kT)));
  if (!s.ok()) {
    REVIEW17D_TR("  refused: " + s.to_string());
    w.pending.erase(it);
    return;
  }
  ++w.open_writes;
  at(now_ + kT, Ev::reap, nullptr, w.id);
  at(now_ + kT + 1, Ev::reap, nullptr, w.id);
}

inline void World::issue_read(Proc& p) {
  if (p.open_reads >= p_.max_open_reads) return;
  const uint64_t tag = next_tag_++;
  Reader& r = readers_[size_t(p.reader)];
  RRec rec;
  rec.reader = p.reader;
  rec.issue_idx = ++idx_;
  rec.rstale = r.pout && r.stale_version == r.version;
  rec.rsv = r.pout;
  rec.stale_w_issue = r.stale_w_issue;
  rec.done = completed_;
  rec.latest = latest_done_;
  rec.read_no = ++p.reads_issued;
  Pending pd{IoKind::read, rrecs_.size(), std::vector<std::byte>(layout_.block_size())};
  rrecs_.push_back(std::move(rec));
  REVIEW17D_TR("P" + std::to_string(p.id) + " issues read " + std::to_string(rrecs_.back().read_no) + " (tag " +
     std::to_string(tag) + (rrecs_.back().rstale ? ", its value is stale" : "") + ")");
  auto it = p.pending.emplace(tag, std::move(pd)).first;
  Status s = p.dev->submit_read(tag, blk_, it->second.buf, TimePoint(Millis(now_)), TimePoint(Millis(now_ + kT)));
  if (!s.ok()) {
    REVIEW17D_TR("  refused: " + s.to_string());
    p.pending.erase(it);
    return;
  }
  ++p.open_reads;
  if (p.open_reads >= 2) feats_.insert("overlap");
  if (p.writer) feats_.insert("own-read");
  at(now_ + kT, Ev::reap, nullptr, p.id);
  at(now_ + kT + 1, Ev::reap, nullptr, p.id);
}

inline void World::exec(Op& op) {
  if (op.dropped) return;
  if (applies(op, FaultMode::stall)) {
    op.held = true;
    held_.push_back(&op);
    REVIEW17D_TR("held (stall): " + oname(op));
    return;
  }
  const bool eio = applies(op, FaultMode::eio);
  if (op.kind == IoKind::write) {
    const bool fails = eio || applies(op, FaultMode::read_only);
    const bool lands = !fails || (eio && fault_.eio_lands);
    op.failed = fails;
    if (lands) {
      disk_[op.dev] = op.data;
      const Val v = written(op.data);
      ++idx_;
      life_land_[v.life] = idx_;
      value_land_[{v.life, v.seq}] = idx_;
      REVIEW17D_TR("LANDS " + oname(op) + (fails ? " (and fails: EIO)" : ""));
    } else {
      REVIEW17D_TR("fails " + oname(op) + " (nothing lands)");
    }
    Proc& pr = *procs_[size_t(op.proc)];
    --pr.kernel_writes;
  } else {
    op.failed = eio;
    if (!eio) op.data = applies(op, FaultMode::garbage) ? garbage() : disk_[op.dev];
    REVIEW17D_TR(std::string(eio ? "fails " : "reads ") + oname(op) + (eio ? "" : ": " + vname(decode(op.data))));
  }
  op.executed = true;
  if (op.path) at(now_ + op.done_delay, Ev::done, &op);
}

inline void World::done(Op& op) {
  if (op.dropped || !op.path) return;
  if (applies(op, FaultMode::stall)) {
    op.held = true;
    held_.push_back(&op);
    REVIEW17D_TR("completion held (stall): " + oname(op));
    return;
  }
  op.ready = true;
  op.path->ready_.push_back(&op);
  REVIEW17D_TR("completion ready: " + oname(op) + (op.failed ? " (error)" : ""));
  const uint64_t r = u(0, 9);
  at(now_ + (r < 6 ? 0 : r < 9 ? int64_t(u(1, 3)) : int64_t(u(4, 30))), Ev::reap, nullptr, op.proc);
}

inline void World::reap(Proc& p) {
  if (!p.alive || !p.dev) return;
  std::vector<IoCompletion> out;
  p.dev->reap(TimePoint(Millis(now_)), out);
  for (const auto& c : out) {
    auto it = p.pending.find(c.tag);
    if (it == p.pending.end()) continue;
    Pending pd = std::move(it->second);
    p.pending.erase(it);
    if (pd.kind == IoKind::write) {
      --p.open_writes;
      on_write_reported(p, pd, c.status);
    } else {
      --p.open_reads;
      on_read_reported(p, pd, c.status);
    }
    if (!failure_.empty()) return;
  }
}

inline void World::on_write_reported(Proc& p, const Pending& pd, const Status& s) {
  const WRec& w = wrecs_[pd.rec];
  ++idx_;
  REVIEW17D_TR("P" + std::to_string(p.id) + " write " + lname(w.life) + "." + std::to_string(w.seq) + " reported " +
     (s.ok() ? "ok" : s.to_string()));
  if (s.ok()) {
    ++st_.writes_ok;
    auto& c = completed_[w.life];
    if (w.seq >= c.first) c = {w.seq, w.issue_idx};
    latest_done_ = WDone{w.life, w.seq, w.issue_idx};
    for (size_t r = 0; r < w.versions.size() && r < readers_.size(); ++r) {
      Reader& rd = readers_[r];
      // (Ordered lives: a write of an EARLIER life than the value the reader follows -- an undead life's --
      // is never handed out over it, as PeerMonitor never follows a retired incarnation on one disk; the undead
      // process is stopped by its own read instead: the model's (e).)
      if (rd.pout && rd.version == w.versions[r] && !(rd.pout->valid && life_of(w.life) < life_of(rd.pout->life))) {
        rd.stale_version = rd.version;
        rd.stale_w_issue = std::max(rd.stale_w_issue, w.issue_idx);
      }
    }
  } else {
    ++st_.writes_failed;
  }
  if (p.transition_after_write >= 0) {
    const int i = p.transition_after_write;
    p.transition_after_write = -1;
    at(now_ + int64_t(u(0, 3)), Ev::life_now, nullptr, i);
  }
}

inline void World::on_read_reported(Proc& p, const Pending& pd, const Status& s) {
  RRec& rr = rrecs_[pd.rec];
  Reader& r = readers_[size_t(rr.reader)];
  ++idx_;
  if (!s.ok()) {
    ++st_.reads_failed;
    REVIEW17D_TR("P" + std::to_string(p.id) + " read " + std::to_string(rr.read_no) + " reported " + s.to_string());
    return;
  }
  ++st_.reads_ok;
  if (p.writer) ++st_.own_reads_ok;
  const Val out = decode(pd.buf);
  REVIEW17D_TR("P" + std::to_string(p.id) + " read " + std::to_string(rr.read_no) + " reported ok: " + vname(out) +
               "  [" + memory(p) + "]");
  if (!out.valid) ++st_.invalid_outputs;
  ++st_.checks;
  const std::string who = "P" + std::to_string(p.id) + " (" + p.name + ") read " + std::to_string(rr.read_no);
  // (a')
  if (rr.rstale && rr.rsv && out == *rr.rsv) {
    auto vl = value_land_.find({out.life, out.seq});
    const bool relanded = out.valid && vl != value_land_.end() && vl->second > rr.stale_w_issue;
    if (!relanded)
      fail("(a') " + who + " returned " + vname(out) +
           ", the value it followed before a write that completed ok before the read was issued");
  }
  // (a) strict: against the write completed last before the read's issue (the model's wdone); against every
  // life's latest completed write it is counted (a_all), and fails only with strict_all.
  auto keeps = [&](uint64_t life, uint64_t seq, uint64_t widx) {
    if (!out.valid) return false;
    if (out.life == life) return out.seq >= seq;
    if (life_of(out.life) > life_of(life)) return true;  // a later life (ordered lives): an undead one's is lower
    auto ll = life_land_.find(out.life);
    return ll != life_land_.end() && ll->second > widx;
  };
  auto breach = [&](uint64_t life, uint64_t seq) {
    return who + " returned " + vname(out) + ", issued after " + lname(life) + "." + std::to_string(seq) +
           " completed ok" +
           (out.valid && out.life != life ? " and " + lname(out.life) + " landed nothing since that write was issued" : "");
  };
  if (rr.latest && !keeps(rr.latest->life, rr.latest->seq, rr.latest->issue_idx)) {
    // The shape of review 17d's finding 5 (fixed by ordered lives): an older seq of the life of the write completed
    // last, a seq this reader never saw (another life's write overwrote it where it landed, or the member
    // holding it fails), handed out as a late write of a replaced life.
    const WDone& w = *rr.latest;
    std::string shape;
    if (out.valid && out.life == w.life && out.seq < w.seq) {
      shape = " [an older seq of the life completed last]";
    }
    fail("(a) strict: " + breach(w.life, w.seq) + shape);
  }
  for (const auto& [life, d] : rr.done) {
    if (keeps(life, d.first, d.second)) continue;
    ++st_.a_all;
    if (opt_.strict_all) fail("(a) strict, every life: " + breach(life, d.first));
    else REVIEW17D_TR("note: (a) against every life's latest write: " + breach(life, d.first));
    break;
  }
  // (b)
  if (out.valid) {
    auto& lo = r.lastout[out.life];
    if (out.seq < lo)
      fail("(b) " + who + " returned " + vname(out) + " after " + lname(out.life) + "." + std::to_string(lo));
    lo = std::max(lo, out.seq);
  }
  // PeerMonitor: a change resets what the reader follows.
  if (!r.pout || !(*r.pout == out)) {
    if (r.pout && r.pout->life != out.life) ++st_.life_switches;
    r.pout = out;
    ++r.version;
    r.stale_w_issue = 0;
  }
}

inline void World::crash(Proc& w, bool restart_after) {
  // The process dies: what it had queued never reaches the kernel; of what the kernel holds, each write that
  // has not landed lands later (at its time) or is lost.
  for (auto& op : ops_)
    if (op->proc == w.id && op->kind == IoKind::write && !op->executed && !op->dropped && chance(0.35)) {
      op->dropped = true;
      --w.kernel_writes;
      REVIEW17D_TR("lost with the process: " + oname(*op));
    }
  w.issuing = false;
  w.alive = false;
  w.dev.reset();  // orphans its ops
  w.pending.clear();
  w.waiting_exit = restart_after;
  ++st_.crashes;
  REVIEW17D_TR("P" + std::to_string(w.id) + " crashes" + (restart_after ? " (a new process once its writes left the kernel)" : ""));
}

inline void World::apply_life(int i) {
  const LifeEvent& e = lives_plan_[size_t(i)];
  Proc& w = *procs_[size_t(writer_)];
  if (w.waiting_exit || w.rejoin >= 0 || start_pending_) return;  // the previous transition is not over
  if (!w.alive) {  // crashed without a restart: this event starts the new process (once the old one's writes left)
    w.waiting_exit = true;
    w.rejoin = i;
    return;
  }
  switch (e.kind) {
    case Transition::restart: {
      ++st_.restarts;
      feats_.insert("restart");
      crash(w, true);
      w.rejoin = i;  // the plan entry for the new life (started by check_waits)
      break;
    }
    case Transition::crash:
      feats_.insert("crash");
      crash(w, false);
      break;
    case Transition::rejoin: {
      ++st_.rejoins;
      feats_.insert("rejoin");
      w.issuing = false;
      w.rejoin = i;
      REVIEW17D_TR("P" + std::to_string(w.id) + " is fenced: it rejoins once held_by_kernel() is 0");
      break;
    }
    case Transition::undead: {
      ++st_.undead;
      const int old = writer_;
      const int n = new_proc("P" + std::to_string(procs_.size()) + "-writer", true);
      if (n < 0) return;
      writer_ = n;
      REVIEW17D_TR("P" + std::to_string(old) + " goes on writing (undead) beside a new process P" + std::to_string(n));
      new_life(*procs_[size_t(n)], &e);
      feats_.insert("undead");
      if (chance(0.5) && opt_.undead_stops) at(now_ + int64_t(u(0, 3000)), Ev::undead_stop, nullptr, old);
      break;
    }
  }
}

inline void World::check_waits() {
  Proc& w = *procs_[size_t(writer_)];
  if (w.rejoin < 0) return;
  const LifeEvent& e = lives_plan_[size_t(w.rejoin)];
  if (w.waiting_exit) {
    if (w.kernel_writes > 0) return;
    w.waiting_exit = false;
    const int i = w.rejoin;
    w.rejoin = -1;
    at(now_ + int64_t(u(0, 9) < 5 ? u(0, 2) : u(3, 200)), Ev::start, nullptr, i);
    start_pending_ = true;
    REVIEW17D_TR("P" + std::to_string(w.id) + "'s writes have all left the kernel");
    return;
  }
  if (w.alive && w.dev && w.dev->held_by_kernel() == 0) {
    w.rejoin = -1;
    REVIEW17D_TR("P" + std::to_string(w.id) + " rejoins (held_by_kernel() is 0)");
    new_life(w, &e);
  }
}

inline void World::apply_fault(const FaultEpisode& f) {
  const FaultMode was = fault_.mode;
  fault_ = f;
  if (f.mode != FaultMode::none)
    feats_.insert(std::string(fault_name(f.mode)) + (f.scope == 3 ? "" : f.scope == 1 ? "(w)" : "(r)"));
  REVIEW17D_TR("FAULT dev" + std::to_string(p_.faulty) + ": " + fault_name(f.mode) +
     (f.scope == 3 ? "" : f.scope == 1 ? " (writers' paths)" : " (readers' paths)") +
     (f.mode == FaultMode::eio && f.eio_lands ? " (failed writes may land)" : ""));
  if (f.mode == FaultMode::zeroed) {
    disk_[p_.faulty].assign(layout_.block_size(), std::byte{0});
    fault_.mode = FaultMode::none;
  }
  if (was == FaultMode::stall && fault_.mode != FaultMode::stall) {
    std::vector<Op*> held;
    held.swap(held_);
    for (Op* op : held) {
      op->held = false;
      at(now_ + int64_t(u(0, 50)), op->executed ? Ev::done : Ev::exec, op);
    }
  }
}

inline void World::handle(const Event& e) {
  switch (e.type) {
    case Ev::exec: exec(*e.op); break;
    case Ev::done: done(*e.op); break;
    case Ev::reap: reap(*procs_[size_t(e.arg)]); break;
    case Ev::write_tick: {
      Proc& w = *procs_[size_t(e.arg)];
      if (!w.alive || !w.issuing || e.gen != w.gen) break;
      issue_write(w);
      const int64_t j = p_.write_period / 2;
      at(now_ + std::max<int64_t>(1, p_.write_period - j + int64_t(u(0, uint64_t(2 * j)))), Ev::write_tick, nullptr,
         w.id, w.gen);
      break;
    }
    case Ev::read_tick:
    case Ev::own_read_tick: {
      Proc& p = *procs_[size_t(e.arg)];
      if (!p.alive) break;
      if (e.type == Ev::own_read_tick && (!p.issuing || e.gen != p.gen)) break;
      issue_read(p);
      const int64_t per = e.type == Ev::read_tick ? p_.read_period : p_.own_read_period;
      const int64_t j = per / 2;
      at(now_ + std::max<int64_t>(1, per - j + int64_t(u(0, uint64_t(2 * j)))), e.type, nullptr, p.id, e.gen);
      break;
    }
    case Ev::fault: apply_fault(faults_[size_t(e.arg)]); break;
    case Ev::life: {
      const LifeEvent& le = lives_plan_[size_t(e.arg)];
      Proc& w = *procs_[size_t(writer_)];
      if (le.after_write && w.alive && w.issuing) {
        w.transition_after_write = e.arg;
        REVIEW17D_TR("life event " + std::to_string(e.arg) + " after P" + std::to_string(w.id) + "'s next write report");
      } else {
        apply_life(e.arg);
      }
      break;
    }
    case Ev::life_now: apply_life(e.arg); break;
    case Ev::start: {
      start_pending_ = false;
      const int n = new_proc("P" + std::to_string(procs_.size()) + "-writer", true);
      if (n < 0) break;
      writer_ = n;
      new_life(*procs_[size_t(n)], &lives_plan_[size_t(e.arg)]);
      break;
    }
    case Ev::reader_restart: {
      Proc& old = *procs_[size_t(peer_)];
      old.alive = false;
      old.dev.reset();
      old.pending.clear();
      ++st_.reader_restarts;
      feats_.insert("reader-restart");
      peer_ = new_proc("P" + std::to_string(procs_.size()) + "-reader", false);
      REVIEW17D_TR("the reader restarts: P" + std::to_string(peer_));
      if (peer_ >= 0) at(now_ + int64_t(u(0, 20)), Ev::read_tick, nullptr, peer_);
      break;
    }
    case Ev::forget: {
      Proc& r = *procs_[size_t(peer_)];
      if (!r.alive) break;
      ++st_.forgets;
      feats_.insert("forget");
      auto path = std::make_unique<Path>(*this, p_.faulty, Role::reader, r.id,
                                         r.name + "-dev" + std::to_string(p_.faulty) + "-again", geometry_);
      Status s = r.dev->replace_device(p_.faulty, std::move(path));
      REVIEW17D_TR("the reader replaces its slot " + std::to_string(p_.faulty) + " by a path to the same device: " +
         s.to_string());
      break;
    }
    case Ev::undead_stop: {
      Proc& w = *procs_[size_t(e.arg)];
      if (w.issuing) REVIEW17D_TR("P" + std::to_string(w.id) + " (undead) stops writing");
      feats_.insert("undead-stop");
      w.issuing = false;
      break;
    }
  }
}

inline bool World::run() {
  setup();
  while (!q_.empty() && failure_.empty()) {
    const Event e = q_.top();
    q_.pop();
    if (e.t > p_.horizon) break;
    now_ = e.t;
    ++st_.events;
    handle(e);
    if (writer_ >= 0) check_waits();
  }
  return failure_.empty();
}

}  // namespace castor::review17d
