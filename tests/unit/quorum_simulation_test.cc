// Two QuorumCores, one shared in-memory disk seen through two fault-injecting paths, a fake clock, and
// ten thousand random schedules of crashes, pauses, I/O errors, hangs, delayed/torn/late writes, corrupt
// records, clean leaves (LEAVING, services stopped, then DOWN), DOWN writes that hang and land after the
// node restarted (late DOWNs of old incarnations), restarts whose previous life's writes are still in
// flight, and heartbeat blocks corrupted while the peer holds a DEAD verdict. After every step the safety
// invariant is asserted:
//
//   whenever a node's view of its peer's incarnation i is DEAD (or DOWN), incarnation i can no longer run
//   services: it has crashed, its watchdog has fired, or its lease has ended and it is fenced/left;
//   and whenever a read CONFIRMS a DEAD or DOWN verdict (PeerMonitor::confirmed_read_issued(), what svcmgr
//   relies on to void the peer's entries), no incarnation of the peer that held a lease before that read
//   was issued can still run services.
//
// One exception, counted and printed, not hidden: a DOWN confirmed by the record of an incarnation the
// observer follows, while a newer incarnation of the peer exists whose records this observer never read
// (the previous life's late DOWN landed over the new life's first records before any read saw them). No
// reader can tell that DOWN from a real one; docs/design.md states the assumption that excludes it.
//
// The watchdog is simulated outside the node, as hardware: it fires W after the last pet, even while the
// node is paused. Each node's clock runs at its own rate (within ±0.5%) to exercise the margin in D.
#include <doctest/doctest.h>

#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <set>

#include "common/crc32c.h"
#include "disk/disk_layout.h"
#include "disk/testing/faulty_block_device.h"
#include "disk/testing/memory_block_device.h"
#include "quorumd/quorum_core.h"

using namespace castor;

namespace {

struct SimParams {
  Millis io_timeout{200};
  Duration horizon = std::chrono::seconds(6);
  bool faults = true;
  bool restart = true;  // crashed nodes come back (with a new incarnation)
  // The LAN channel: promises during shared storage stalls (quorumd/stall_promise.h), over a LAN that loses,
  // delays (up to 2T), duplicates and partitions; shared stalls of both paths for up to 20 T.
  bool lan = false;
};

struct Verdict {
  uint64_t incarnation;
  PeerView view;
  TimePoint at;  // real time
};

class Sim {
 public:
  Sim(uint64_t seed, SimParams p)
      : rng_(seed), p_(p), timing_(*Timing::from_io_timeout(p.io_timeout)), layout_(*DiskLayout::for_sector_size(512)) {
    disk_ = std::make_shared<MemoryDisk>(512, layout_.required_bytes());
    uuid_.bytes[0] = 1;
    for (int i = 0; i < 2; ++i) {
      Node& n = nodes_[i];
      n.id = uint32_t(i + 1);
      n.dev = std::make_shared<FaultyBlockDevice>(std::make_shared<MemoryBlockDevice>(disk_, "path" + std::to_string(i)));
      n.rate = 1.0 + std::uniform_real_distribution<double>(-0.005, 0.005)(rng_);
      n.own_buf.resize(layout_.block_size());
      n.peer_buf.resize(layout_.block_size());
      n.write_buf.resize(layout_.block_size());
      start(n);
    }
  }

  // Runs the schedule; returns false (with `failure`) on the first invariant violation.
  bool run() {
    while (now_ < start_time_ + p_.horizon) {
      now_ += Millis(std::uniform_int_distribution<int>(1, 15)(rng_));
      if (p_.faults) maybe_inject();
      for (auto& n : nodes_) step(n);
      ++steps_;
      if (!check()) return false;
    }
    return true;
  }

  std::string failure;
  std::vector<std::string> trace;  // the last events, printed with a failure
  uint64_t steps_ = 0;
  int dead_verdicts = 0, down_verdicts = 0, fences = 0, watchdog_fires = 0, crashes = 0, pauses = 0;
  int confirmations = 0, leaves = 0, hung_downs = 0, corrupt_while_dead = 0, unseen_down = 0;
  // Fault-free liveness measurements.
  std::vector<Duration> detection_after_crash;
  int shared_stalls = 0, lan_partitions = 0, grants = 0, extensions = 0, ridden_stalls = 0;

  // Crash node `i` now (used by directed tests).
  void crash(int i) { kill(nodes_[i], now_, "crash"); }
  void leave(int i) {
    Node& n = nodes_[i];
    if (!n.core || n.dead || n.leave_requested) return;
    ++leaves;
    note(n, "leave requested");
    n.leave_requested = true;
    n.core->request_leave(local(n, now_), n.actions);
  }
  void advance(Duration d) {
    TimePoint end = now_ + d;
    while (now_ < end) {
      now_ += Millis(5);
      for (auto& n : nodes_) step(n);
      ++steps_;
      if (!check()) return;
    }
  }
  PeerView view_of(int i) const { return nodes_[i].core ? nodes_[i].core->peer().view() : PeerView::unknown; }
  const std::vector<Verdict>& verdicts(int i) const { return nodes_[i].verdicts; }
  TimePoint now() const { return now_; }
  bool node_dead(int i) const { return nodes_[i].dead; }
  const Timing& timing() const { return timing_; }

 private:
  struct Pending {
    CoreActionKind kind;
    uint64_t seq;
    TimePoint issued;  // node-local
  };
  struct Node {
    uint32_t id;
    std::shared_ptr<FaultyBlockDevice> dev;
    std::unique_ptr<QuorumCore> core;
    double rate = 1.0;
    uint64_t next_incarnation = 1;
    bool dead = false;            // process gone (crash or watchdog) — restarts later
    TimePoint restart_at;
    bool paused = false;
    TimePoint resume_at;
    std::optional<TimePoint> last_pet;  // real time
    std::map<uint64_t, Pending> pending;
    uint64_t next_tag = 1;
    std::vector<std::byte> own_buf, peer_buf, write_buf;
    std::vector<CoreAction> actions;
    std::vector<Verdict> verdicts;     // this node's verdicts about its peer
    bool stopping_services = false;
    FaultPolicy policy;                // the path's current policy (restored after a one-off hang)
    bool leave_requested = false;      // survives a fence: the daemon's next life leaves at once
    bool born_leaving = false;         // this life started leaving: it never runs a service
    std::optional<TimePoint> services_stop_at;  // real time svcmgr reports every service stopped
    std::optional<TimePoint> crash_at;          // a host reset scheduled during a leave
    TimePoint checked_confirm{};       // the current core's latest confirmation already checked
    std::set<uint64_t> seen;           // incarnations of the peer whose valid records this life read
    // Per incarnation: when did it stop being able to run services (real time)?
    std::map<uint64_t, TimePoint> harmless_since;
    std::map<uint64_t, TimePoint> harmful_since;  // first time the incarnation held a lease (could run services)
    // LAN: requests sent by this life (seq -> local send time), the next periodic send (local).
    std::map<uint64_t, TimePoint> requests;
    uint64_t lan_seq = 0;
    TimePoint next_lan_send{};
  };
  // A datagram in flight: a request (grant_term 0) or a grant answering request `seq` of `to_inc`.
  struct Message {
    TimePoint deliver_at;  // real time
    uint32_t to;
    uint64_t from_inc, to_inc, seq;
    Duration grant_term{0};
  };
  std::vector<Message> lan_;
  TimePoint lan_cut_until_{};
  std::optional<TimePoint> stall_end_;

  TimePoint local(const Node& n, TimePoint real) const {
    auto d = real - start_time_;
    return start_time_ + Duration(int64_t(double(d.count()) * n.rate));
  }
  TimePoint real(const Node& n, TimePoint local) const {
    auto d = local - start_time_;
    return start_time_ + Duration(int64_t(double(d.count()) / n.rate));
  }
  void apply(Node& n, FaultPolicy p) {
    n.policy = std::move(p);
    n.dev->set_policy(n.policy);
  }

  void start(Node& n) {
    n.dead = false;
    n.paused = false;
    n.pending.clear();
    n.actions.clear();
    n.stopping_services = false;
    n.services_stop_at.reset();
    n.crash_at.reset();
    n.checked_confirm = {};
    n.seen.clear();
    CoreConfig c;
    c.cluster_uuid = uuid_;
    c.node_id = n.id;
    c.incarnation = n.id * 1000000 + n.next_incarnation++;
    c.timing = timing_;
    if (p_.lan) c.promises = PromiseTerms::from(timing_, std::chrono::seconds(120));
    n.requests.clear();
    n.lan_seq = 0;
    n.core = std::make_unique<QuorumCore>(c, local(n, now_));
    // As the daemon does: a life that starts while a leave is requested leaves at once (svcmgr has stopped
    // everything already; it starts nothing).
    n.born_leaving = n.leave_requested;
    if (n.leave_requested) n.core->request_leave(local(n, now_), n.actions);
  }

  void kill(Node& n, TimePoint when, const char* why) {
    if (n.dead) return;
    note(n, why);
    if (n.core && !n.core->config().incarnation) return;
    if (n.core) mark_harmless(n, n.core->config().incarnation, when);
    n.dead = true;
    n.leave_requested = false;  // a new process (or host) does not remember the leave
    n.core.reset();
    n.last_pet.reset();  // a reset host starts with the watchdog disarmed
    n.restart_at = now_ + Millis(std::uniform_int_distribution<int>(0, 4000)(rng_));
    ++crashes;
  }

  void note(const Node& n, const std::string& what) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "t=%lldms node %u inc %llu: ", static_cast<long long>(to_ms(now_ - start_time_)), n.id,
                  static_cast<unsigned long long>(n.core ? n.core->config().incarnation : 0));
    trace.push_back(buf + what);
    if (trace.size() > 80) trace.erase(trace.begin());
  }

  void mark_harmless(Node& n, uint64_t inc, TimePoint when) {
    auto it = n.harmless_since.find(inc);
    if (it == n.harmless_since.end() || it->second > when) n.harmless_since[inc] = when;
  }

  void maybe_inject() {
    std::uniform_real_distribution<double> u(0, 1);
    if (p_.lan) {
      if (!stall_end_ && u(rng_) < 0.002) {
        ++shared_stalls;
        stall_end_ = now_ + Millis(std::uniform_int_distribution<int>(int(timing_.io_timeout.count()) / 2,
                                                                      20 * int(timing_.io_timeout.count()))(rng_));
        for (auto& n : nodes_) {
          note(n, "shared stall begins");
          apply(n, [](IoKind, uint64_t, size_t, TimePoint) { return FaultDecision{FaultDecision::Kind::hang}; });
        }
      } else if (stall_end_ && now_ >= *stall_end_) {
        stall_end_.reset();
        for (auto& n : nodes_) {
          note(n, "shared stall ends");
          n.dev->release_hung(local(n, now_));
          apply(n, nullptr);
        }
      }
      if (now_ >= lan_cut_until_ && u(rng_) < 0.001) {
        ++lan_partitions;
        lan_cut_until_ = now_ + Millis(std::uniform_int_distribution<int>(10, 4 * int(timing_.lease.count()))(rng_));
        note(nodes_[0], "LAN partitioned");
      }
    }
    for (int i = 0; i < 2; ++i) {
      Node& n = nodes_[i];
      Node& observer = nodes_[1 - i];
      // The peer holds a DEAD verdict while this node runs a life it has not read yet: a torn write or a bad
      // sector turns this node's heartbeat block to garbage before the peer's next read.
      if (observer.core && observer.core->peer().view() == PeerView::dead && n.core && !n.dead &&
          !observer.seen.count(n.core->config().incarnation) && n.core->may_act(local(n, now_)) && u(rng_) < 0.05) {
        ++corrupt_while_dead;
        note(n, "heartbeat block corrupted while the peer holds a DEAD verdict");
        uint64_t off = layout_.heartbeat_offset(n.id) + std::uniform_int_distribution<int>(0, 63)(rng_);
        disk_->bytes[off] ^= std::byte{0xA5};
      }
      if (u(rng_) < 0.0008) kill(n, now_, "crash");
      if (!n.dead && !n.paused && u(rng_) < 0.0008) {
        n.paused = true;
        ++pauses;
        note(n, "paused");
        // Short pauses (below the lease) and long ones (beyond the dead time).
        int ms = u(rng_) < 0.5 ? std::uniform_int_distribution<int>(10, int(timing_.lease.count()))(rng_)
                               : std::uniform_int_distribution<int>(int(timing_.lease.count()), int(3 * timing_.dead.count()))(rng_);
        n.resume_at = now_ + Millis(ms);
      }
      if (u(rng_) < 0.002) set_random_policy(n);
      if (u(rng_) < 0.0005) {
        n.dev->release_hung(local(n, now_));
        apply(n, nullptr);
      }
      if (!n.dead && n.core && u(rng_) < 0.0004) leave(i);
      if (n.crash_at && now_ >= *n.crash_at) kill(n, now_, "host reset during the leave");
      if (u(rng_) < 0.0003) {
        // Corrupt this node's heartbeat block on the disk (a torn write from elsewhere, a bad sector).
        uint64_t off = layout_.heartbeat_offset(n.id) + std::uniform_int_distribution<int>(0, 4095)(rng_);
        disk_->bytes[off] ^= std::byte{0x5A};
      }
    }
  }

  void set_random_policy(Node& n) {
    std::uniform_int_distribution<int> pick(0, 5);
    int k = pick(rng_);
    note(n, "disk policy " + std::to_string(k));
    using K = FaultDecision::Kind;
    switch (k) {
      case 0: apply(n, nullptr); break;
      case 1: apply(n, [](IoKind, uint64_t, size_t, TimePoint) { return FaultDecision{K::fail}; }); break;
      case 2: apply(n, [](IoKind, uint64_t, size_t, TimePoint) { return FaultDecision{K::hang}; }); break;
      case 3: {
        Millis d(std::uniform_int_distribution<int>(1, int(2 * p_.io_timeout.count()))(rng_));
        apply(n, [d](IoKind, uint64_t, size_t, TimePoint) { return FaultDecision{K::pass, d}; });
        break;
      }
      default: {
        auto seed = rng_();
        auto rng = std::make_shared<std::mt19937_64>(seed);
        Millis t = p_.io_timeout;
        apply(n, [rng, t](IoKind kind, uint64_t, size_t len, TimePoint) {
          std::uniform_real_distribution<double> u(0, 1);
          double r = u(*rng);
          if (r < 0.1) return FaultDecision{K::fail};
          if (r < 0.15 && kind == IoKind::write) return FaultDecision{K::tear, Duration(0), size_t(u(*rng) * double(len))};
          if (r < 0.25) return FaultDecision{K::pass, Millis(int64_t(u(*rng) * 2.0 * double(t.count())))};
          if (r < 0.28) return FaultDecision{K::drop};
          return FaultDecision{K::pass, Millis(int64_t(u(*rng) * 5))};
        });
      }
    }
  }

  void step(Node& n) {
    const TimePoint lnow = local(n, now_);
    // The disk keeps working for a paused or dead process: its in-flight writes still land.
    std::vector<IoCompletion> done;
    n.dev->reap(lnow, done);
    if (n.dead) {
      if (p_.restart && now_ >= n.restart_at) start(n);
      return;
    }
    // The watchdog lives outside the node: it fires W after the last pet, paused or not.
    if (n.last_pet && now_ >= *n.last_pet + timing_.watchdog) {
      ++watchdog_fires;
      TimePoint fired = *n.last_pet + timing_.watchdog;
      kill(n, fired, "watchdog");
      return;
    }
    if (n.paused) {
      if (now_ < n.resume_at) {
        for (auto& c : done) paused_done_.push_back({n.id, c});
        return;
      }
      n.paused = false;
      note(n, "resumed");
    }
    for (auto it = paused_done_.begin(); it != paused_done_.end();) {
      if (it->first == n.id) {
        done.push_back(it->second);
        it = paused_done_.erase(it);
      } else {
        ++it;
      }
    }
    QuorumCore& core = *n.core;
    if (n.services_stop_at && now_ >= *n.services_stop_at) {
      n.services_stop_at.reset();
      if (core.phase() == CorePhase::leaving_stopping) {
        mark_harmless(n, core.config().incarnation, now_);  // every service is stopped
        core.services_stopped(lnow, n.actions);
      }
    }
    for (auto& c : done) {
      auto p = n.pending.find(c.tag);
      if (p == n.pending.end()) continue;  // an I/O of a previous incarnation
      Pending pend = p->second;
      n.pending.erase(p);
      switch (pend.kind) {
        case CoreActionKind::write_heartbeat: core.on_write_done(pend.seq, pend.issued, c.status, lnow, n.actions); break;
        case CoreActionKind::read_own:
          core.on_own_read(pend.issued, decode_heartbeat(n.own_buf, layout_, n.id, RecordSeal::crc_only()), c.status, lnow, n.actions);
          break;
        case CoreActionKind::read_peer: {
          uint32_t peer = n.id == 1 ? 2 : 1;
          auto rec = decode_heartbeat(n.peer_buf, layout_, peer, RecordSeal::crc_only());
          if (c.status.ok() && rec.ok()) n.seen.insert(rec->incarnation);
          // The raw hash identifies a block that did not decode; the core ignores it otherwise (4 KiB CRCs
          // are most of the simulation's time: compute it only when it is used).
          const bool ours = rec.ok() && rec->cluster_uuid == uuid_;
          core.on_peer_read(pend.issued, rec, ours ? 0 : crc32c(n.peer_buf), c.status, lnow, n.actions);
          break;
        }
        default: break;
      }
    }
    if (p_.lan) lan_step(n, lnow);
    if (!n.core) return;
    n.core->tick(lnow, n.actions);
    execute(n, lnow);
    if (!n.core) return;
    if (n.core->may_act(lnow)) {
      // The pet guard, as QuorumDaemon::pet_watchdog: only with at least W of lease left.
      if (auto exp = n.core->lease_expiry(); exp && *exp - lnow >= timing_.pet_guard()) n.last_pet = now_;
      if (!n.born_leaving && n.harmful_since.try_emplace(n.core->config().incarnation, now_).second)
        note(n, "lease acquired");
    }
  }

  // The LAN as LanChannel drives it: deliver what is due (a request may draw a grant, sent back at once; a
  // grant for this life's request extends its lease from that request's SEND time), then a periodic request.
  void send_lan(Message m) {
    std::uniform_real_distribution<double> u(0, 1);
    if (now_ < lan_cut_until_ || u(rng_) < 0.05) return;  // partitioned, or lost
    m.deliver_at = now_ + Millis(std::uniform_int_distribution<int>(0, u(rng_) < 0.9 ? 5 : 2 * int(timing_.io_timeout.count()))(rng_));
    lan_.push_back(m);
    if (u(rng_) < 0.02) {  // duplicated, later
      m.deliver_at += Millis(std::uniform_int_distribution<int>(0, int(timing_.io_timeout.count()))(rng_));
      lan_.push_back(m);
    }
  }
  void lan_step(Node& n, TimePoint lnow) {
    const uint64_t mine = n.core->config().incarnation;
    for (size_t k = 0; k < lan_.size();) {
      if (lan_[k].to != n.id || lan_[k].deliver_at > now_) {
        ++k;
        continue;
      }
      Message m = lan_[k];
      lan_.erase(lan_.begin() + long(k));
      if (m.grant_term == Duration(0)) {
        if (auto term = n.core->grant_promise(m.from_inc, lnow)) {
          ++grants;
          note(n, "grants a promise to inc " + std::to_string(m.from_inc) + " (request " + std::to_string(m.seq) + ")");
          send_lan({{}, m.from_inc / 1000000 == 1 ? 1u : 2u, mine, m.from_inc, m.seq, *term});
        }
      } else if (m.to_inc == mine) {
        auto sent = n.requests.find(m.seq);
        if (sent != n.requests.end() && n.core->on_promise(sent->second, m.grant_term, lnow, n.actions)) {
          ++extensions;
          if (stall_end_) ++ridden_stalls;
        }
      }
      if (!n.core) return;
    }
    if (lnow >= n.next_lan_send) {
      n.next_lan_send = lnow + timing_.renew_interval;
      if (n.core->wants_promise(lnow)) {
        const uint64_t seq = ++n.lan_seq;
        n.requests[seq] = lnow;
        if (n.requests.size() > 64) n.requests.erase(n.requests.begin());
        send_lan({{}, n.id == 1 ? 2u : 1u, mine, 0, seq, Duration(0)});
      }
    }
  }

  void execute(Node& n, TimePoint lnow) {
    std::vector<CoreAction> actions;
    actions.swap(n.actions);
    const uint32_t peer = n.id == 1 ? 2 : 1;
    for (auto& a : actions) {
      switch (a.kind) {
        case CoreActionKind::write_heartbeat: {
          encode_heartbeat(a.record, layout_, RecordSeal::crc_only(), n.write_buf);
          uint64_t tag = n.next_tag++;
          // A DOWN write that hangs (lands when the path comes back, maybe after the node restarted); and
          // sometimes the host is reset soon after, before any DOWN completed.
          const bool hang = p_.faults && a.record.state == NodeState::down && std::uniform_real_distribution<double>(0, 1)(rng_) < 0.3;
          if (hang) {
            ++hung_downs;
            note(n, "DOWN seq " + std::to_string(a.record.seq) + " hangs");
            n.dev->hang_all();
            if (std::uniform_real_distribution<double>(0, 1)(rng_) < 0.5)
              n.crash_at = now_ + Millis(std::uniform_int_distribution<int>(0, int(3 * timing_.renew_interval.count()))(rng_));
          }
          if (n.dev->submit_write(tag, layout_.heartbeat_offset(n.id), n.write_buf, lnow, lnow + p_.io_timeout).ok())
            n.pending[tag] = {a.kind, a.record.seq, lnow};
          if (hang) n.dev->set_policy(n.policy);
          break;
        }
        case CoreActionKind::read_own: {
          uint64_t tag = n.next_tag++;
          if (n.dev->submit_read(tag, layout_.heartbeat_offset(n.id), n.own_buf, lnow, lnow + p_.io_timeout).ok())
            n.pending[tag] = {a.kind, 0, lnow};
          break;
        }
        case CoreActionKind::read_peer: {
          uint64_t tag = n.next_tag++;
          if (n.dev->submit_read(tag, layout_.heartbeat_offset(peer), n.peer_buf, lnow, lnow + p_.io_timeout).ok())
            n.pending[tag] = {a.kind, 0, lnow};
          break;
        }
        case CoreActionKind::stop_services:
          // svcmgr stops everything; in a leave it then reports back (after a random stop time; at once for a
          // life that started leaving and so started nothing, and in the fault-free directed tests).
          if (n.core->phase() == CorePhase::leaving_stopping && !n.services_stop_at) {
            const int ms = n.born_leaving || !p_.faults ? 0 : std::uniform_int_distribution<int>(0, int(2 * timing_.renew_interval.count()))(rng_);
            n.services_stop_at = now_ + Millis(ms);
          }
          break;
        case CoreActionKind::fence:
          ++fences;
          note(n, "FENCE: " + a.reason);
          // Services are killed at once; the incarnation is harmless from now on. Then rejoin with a new one.
          mark_harmless(n, n.core->config().incarnation, now_);
          {
            uint64_t keep = n.next_incarnation;
            (void)keep;
            auto old = std::move(n.core);
            start(n);
          }
          return;
        case CoreActionKind::peer_changed:
          note(n, std::string("peer ") + peer_view_name(a.peer->from) + "->" + peer_view_name(a.peer->to) + " inc " +
                      std::to_string(n.core->peer().incarnation()) + ": " + a.reason);
          if (a.peer->to == PeerView::dead || a.peer->to == PeerView::down) {
            n.verdicts.push_back({n.core->peer().incarnation(), a.peer->to, now_});
            if (a.peer->to == PeerView::dead) ++dead_verdicts;
            else ++down_verdicts;
          }
          break;
        case CoreActionKind::left:
          mark_harmless(n, n.core->config().incarnation, now_);
          n.core.reset();
          n.dead = true;
          n.leave_requested = false;
          n.crash_at.reset();
          n.last_pet.reset();  // magic close: a clean leave disarms the watchdog
          n.restart_at = now_ + Millis(std::uniform_int_distribution<int>(0, 3000)(rng_));
          return;
      }
      if (!n.core) return;
    }
    if (!n.actions.empty()) execute(n, lnow);
  }

  // The invariant. A verdict about incarnation i is safe if i became harmless no later than the verdict; a
  // confirmation by a read issued at c is safe if every incarnation that held a lease before c is harmless
  // once that read completed (svcmgr may then void any peer entry it first read before c).
  bool check() {
    for (int i = 0; i < 2; ++i) {
      Node& observer = nodes_[i];
      const Node& subject = nodes_[1 - i];
      if (observer.core) {
        const PeerMonitor& pm = observer.core->peer();
        const TimePoint c = pm.confirmed_read_issued();
        if ((pm.view() == PeerView::dead || pm.view() == PeerView::down) && c > observer.checked_confirm) {
          observer.checked_confirm = c;
          ++confirmations;
          const TimePoint c_real = real(observer, c);
          for (const auto& [inc, held] : subject.harmful_since) {
            if (held >= c_real) continue;
            auto it = subject.harmless_since.find(inc);
            // Harmless by now, when the read that confirmed has completed (a read issued at c returns the disk
            // as of some moment after c: a DOWN written after c counts, its writer stopped before writing it).
            if (it != subject.harmless_since.end() && it->second <= now_) continue;
            if (pm.view() == PeerView::down && !observer.seen.count(inc) && inc != pm.incarnation()) {
              ++unseen_down;  // the exception in the header: no reader can tell
              note(observer, "DOWN confirmed while an unseen newer incarnation " + std::to_string(inc) + " holds a lease");
              continue;
            }
            char buf[320];
            std::snprintf(buf, sizeof buf,
                          "node %u confirmed its %s verdict on node %u with a read issued at t=%lldms (incarnation %llu "
                          "in view), but incarnation %llu held a lease since t=%lldms and could still run services "
                          "at t=%lldms (harmless since %lldms)",
                          observer.id, peer_view_name(pm.view()), subject.id,
                          static_cast<long long>(to_ms(c_real - start_time_)),
                          static_cast<unsigned long long>(pm.incarnation()), static_cast<unsigned long long>(inc),
                          static_cast<long long>(to_ms(held - start_time_)), static_cast<long long>(to_ms(now_ - start_time_)),
                          it == subject.harmless_since.end() ? -1LL : static_cast<long long>(to_ms(it->second - start_time_)));
            failure = buf;
            return false;
          }
        }
      }
      for (const Verdict& v : observer.verdicts) {
        if (v.incarnation == 0) continue;  // never saw a valid record: nothing to take over from
        auto it = subject.harmless_since.find(v.incarnation);
        // An incarnation that had not yet held a lease at the verdict never ran a service before it: whatever it
        // gets later goes through the ownership protocol, which sees the verdict.
        auto held = subject.harmful_since.find(v.incarnation);
        const bool no_lease_before = held == subject.harmful_since.end() || held->second > v.at;
        const bool harmless = no_lease_before || (it != subject.harmless_since.end() && it->second <= v.at);
        if (!harmless) {
          char buf[256];
          std::snprintf(buf, sizeof buf,
                        "node %u declared node %u incarnation %llu %s at t=%lldms, but that incarnation could still run "
                        "services then (harmless since %lldms)",
                        observer.id, subject.id, static_cast<unsigned long long>(v.incarnation), peer_view_name(v.view),
                        static_cast<long long>(to_ms(v.at - start_time_)),
                        it == subject.harmless_since.end() ? -1LL : static_cast<long long>(to_ms(it->second - start_time_)));
          failure = buf;
          return false;
        }
      }
    }
    return true;
  }

  std::mt19937_64 rng_;
  SimParams p_;
  Timing timing_;
  DiskLayout layout_;
  std::shared_ptr<MemoryDisk> disk_;
  Uuid uuid_;
  TimePoint start_time_{std::chrono::seconds(1000)};
  TimePoint now_{std::chrono::seconds(1000)};
  Node nodes_[2];
  std::vector<std::pair<uint32_t, IoCompletion>> paused_done_;
};

}  // namespace

TEST_CASE("simulation: ten thousand random fault schedules never let a verdict or a confirmation precede the peer's fencing") {
  const int schedules = 10000;
  uint64_t steps = 0;
  int dead = 0, down = 0, fences = 0, fires = 0, crashes = 0, pauses = 0;
  int confirmations = 0, leaves = 0, hung_downs = 0, corrupt = 0, unseen = 0;
  for (int s = 0; s < schedules; ++s) {
    Sim sim(0xC0FFEE + uint64_t(s), SimParams{});
    bool ok = sim.run();
    if (!ok) {
      for (auto& t : sim.trace) std::printf("  %s\n", t.c_str());
      FAIL("schedule seed " << (0xC0FFEE + s) << ": " << sim.failure);
    }
    steps += sim.steps_;
    dead += sim.dead_verdicts;
    down += sim.down_verdicts;
    fences += sim.fences;
    fires += sim.watchdog_fires;
    crashes += sim.crashes;
    pauses += sim.pauses;
    confirmations += sim.confirmations;
    leaves += sim.leaves;
    hung_downs += sim.hung_downs;
    corrupt += sim.corrupt_while_dead;
    unseen += sim.unseen_down;
  }
  // The schedules must actually exercise the protocol, or the invariant proves nothing.
  CHECK(dead > 1000);
  CHECK(down > 1000);
  // A lapsed lease ends in the watchdog's reset (the pet guard keeps W of lease in hand) or, when the node
  // runs on until the lease end, in a self-fence: together they must be common.
  CHECK(fences + fires > 1000);
  CHECK(pauses > 1000);
  CHECK(leaves > 1000);
  CHECK(hung_downs > 300);
  CHECK(corrupt > 300);
  std::printf("[castor] quorum simulation: %d schedules, %llu steps; %d dead verdicts, %d DOWN verdicts, %d confirmations "
              "checked, %d self-fences, %d watchdog resets, %d crashes, %d pauses, %d leaves, %d hung DOWN writes, "
              "%d heartbeats corrupted under a DEAD verdict; %d DOWNs over an unseen newer life; 0 unsafe verdicts\n",
              schedules, static_cast<unsigned long long>(steps), dead, down, confirmations, fences, fires, crashes, pauses,
              leaves, hung_downs, corrupt, unseen);
}

TEST_CASE("simulation: two thousand random schedules with the LAN's promises, shared stalls and LAN partitions never let a verdict precede the peer's fencing") {
  const int schedules = 2000;
  int dead = 0, stalls = 0, partitions = 0, grants = 0, extensions = 0, ridden = 0, fences = 0, confirmations = 0;
  for (int s = 0; s < schedules; ++s) {
    SimParams p;
    p.lan = true;
    Sim sim(0x1A11 + uint64_t(s), p);
    if (!sim.run()) {
      for (auto& t : sim.trace) std::printf("  %s\n", t.c_str());
      FAIL("schedule seed " << (0x1A11 + s) << ": " << sim.failure);
    }
    dead += sim.dead_verdicts;
    stalls += sim.shared_stalls;
    partitions += sim.lan_partitions;
    grants += sim.grants;
    extensions += sim.extensions;
    ridden += sim.ridden_stalls;
    fences += sim.fences + sim.watchdog_fires;
    confirmations += sim.confirmations;
  }
  CHECK(stalls > 1000);
  CHECK(partitions > 500);
  CHECK(grants > 5000);
  CHECK(extensions > 5000);
  CHECK(dead > 200);
  std::printf("[castor] quorum simulation with the LAN: %d schedules; %d shared stalls, %d LAN partitions, %d grants, "
              "%d lease extensions (%d during a stall), %d dead verdicts, %d confirmations checked, %d fences/resets; "
              "0 unsafe verdicts\n",
              schedules, stalls, partitions, grants, extensions, ridden, dead, confirmations, fences);
}

TEST_CASE("simulation: with no faults, a crash is detected after D and within D + R + one read") {
  for (int s = 0; s < 50; ++s) {
    SimParams p;
    p.faults = false;
    p.restart = false;
    Sim sim(7 + uint64_t(s), p);
    sim.advance(std::chrono::seconds(3));
    REQUIRE(sim.view_of(0) == PeerView::up);
    REQUIRE(sim.view_of(1) == PeerView::up);
    REQUIRE(sim.verdicts(0).empty());
    TimePoint killed = sim.now();
    sim.crash(1);
    sim.advance(sim.timing().dead + std::chrono::seconds(1));
    REQUIRE(sim.failure.empty());
    REQUIRE(sim.verdicts(0).size() == 1);
    Duration detect = sim.verdicts(0)[0].at - killed;
    // D is counted from the first read of the peer's last heartbeat, which was written up to R before the kill.
    CHECK(detect >= sim.timing().dead - sim.timing().renew_interval - Millis(20));
    CHECK(detect <= sim.timing().dead + sim.timing().renew_interval + Millis(20));
  }
}

TEST_CASE("simulation: a clean leave is seen as DOWN within two renew intervals") {
  SimParams p;
  p.faults = false;
  Sim sim(99, p);
  sim.advance(std::chrono::seconds(3));
  REQUIRE(sim.view_of(0) == PeerView::up);
  TimePoint asked = sim.now();
  sim.leave(1);
  sim.advance(sim.timing().renew_interval * 3);
  REQUIRE(sim.verdicts(0).size() == 1);
  CHECK(sim.verdicts(0)[0].view == PeerView::down);
  CHECK(sim.verdicts(0)[0].at - asked <= 2 * sim.timing().renew_interval + Millis(20));
  CHECK(sim.failure.empty());
}
