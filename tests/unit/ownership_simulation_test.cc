// The ownership protocol under random schedules: two nodes, one service, each node's entry a single-writer
// register on the shared disk reached through a path with random latency, timeouts, failed and late writes;
// random concurrent claims and releases, crashes, pauses and restarts. The quorum layer is the abstraction
// quorumd provides (proven by its own simulation): a DEAD verdict comes only after the crashed node's
// services are gone, and is re-confirmed by heartbeat reads until the node's next incarnation writes.
// After every step: never both nodes running the service; every start has a new, larger epoch.
#include <doctest/doctest.h>

#include <cstdio>
#include <memory>
#include <random>
#include <set>

#include "svcmgr/ownership.h"

using namespace castor;

namespace {

const Millis T{200};
const Duration D = 6 * T;
const Duration R = T / 2;

struct Write {
  uint64_t token;
  ServiceEntry entry;
  TimePoint lands;      // when it reaches the disk (max() = never)
  TimePoint reported;   // when the node hears: ok if lands <= issue + T, else timeout at issue + T
  bool ok;
  bool reported_done = false;
  bool landed = false;
};
struct Read {
  TimePoint issued, serviced, done;
  ServiceEntry value;
  bool has_value = false;
};

class OwnSim {
 public:
  OwnSim(uint64_t seed) : rng_(seed) {
    for (int i = 0; i < 2; ++i) {
      nodes_[i].id = uint32_t(i + 1);
      restart(nodes_[i]);
    }
  }

  bool run(Duration horizon) {
    const TimePoint end = now_ + horizon;
    while (now_ < end) {
      now_ += Millis(std::uniform_int_distribution<int>(1, 12)(rng_));
      faults();
      for (auto& n : nodes_) disk_step(n);
      for (int i = 0; i < 2; ++i) node_step(nodes_[i], nodes_[1 - i]);
      if (!check()) return false;
    }
    return true;
  }

  std::string failure;
  int starts = 0, handovers = 0, takeovers = 0, crashes = 0, withdrawals = 0;
  uint32_t last_runner = 0;

 private:
  struct Node {
    uint32_t id;
    std::unique_ptr<Ownership> own;
    ServiceEntry disk;                 // my register on the disk
    std::optional<Write> write;        // at most one write of mine in the kernel
    std::optional<Read> read;          // at most one read of the peer in flight
    TimePoint next_read;
    bool alive = true;                 // processes exist (not crashed)
    TimePoint restart_at;
    bool paused = false;
    TimePoint resume_at;
    bool service_alive = false;
    TimePoint stop_done;               // service stop finishes at
    bool stopping = false;
    TimePoint hb_landed;               // this incarnation's first heartbeat landed (table writes only after)
    Duration seen_lag{};               // how long after that the peer's quorumd notices
    TimePoint crashed_at{};
    Intent intent = Intent::release;
    // The peer's view of me, as quorumd would give it.
    PeerView view_of_me = PeerView::unknown;
  };

  void restart(Node& n) {
    n.alive = true;
    n.paused = false;
    n.read.reset();
    n.service_alive = false;
    n.stopping = false;
    n.hb_landed = now_ + Millis(std::uniform_int_distribution<int>(1, 50)(rng_));
    n.seen_lag = Millis(std::uniform_int_distribution<int>(1, int(to_ms(R)) + 30)(rng_));
    n.own = std::make_unique<Ownership>("svc", n.id, n.disk);
    n.own->on_stopped();  // the start-up probe: nothing of a crashed life runs any more
    n.next_read = now_;
  }

  void crash(Node& n) {
    if (!n.alive) return;
    n.alive = false;
    n.service_alive = false;  // processes die with the node (or are killed at the lease end by quorumd)
    n.own.reset();
    n.crashed_at = now_;
    n.restart_at = now_ + Millis(std::uniform_int_distribution<int>(100, 5000)(rng_));
    ++crashes;
  }

  void faults() {
    std::uniform_real_distribution<double> u(0, 1);
    for (auto& n : nodes_) {
      if (n.alive && u(rng_) < 0.0015) crash(n);
      if (!n.alive && now_ >= n.restart_at) restart(n);
      if (n.alive && u(rng_) < 0.01) n.intent = u(rng_) < 0.6 ? Intent::hold : Intent::release;
      if (n.alive && !n.paused && u(rng_) < 0.001) {
        // A pause shorter than the lease: the node stands still, its service too; no verdict can follow.
        n.paused = true;
        n.resume_at = now_ + Millis(std::uniform_int_distribution<int>(10, int(2 * T.count()))(rng_));
      }
    }
  }

  // The disk: writes land, then report; a timed-out write lands late or never.
  void disk_step(Node& n) {
    if (!n.write) return;
    Write& w = *n.write;
    if (!w.landed && now_ >= w.lands) {
      w.landed = true;
      n.disk = w.entry;
    }
    if (!w.reported_done && now_ >= w.reported) {
      w.reported_done = true;
      if (n.alive && n.own) n.own->on_write_done(w.token, w.ok, w.reported);
    }
    // The kernel lets go of the block once the write landed or failed for good.
    if (w.reported_done && (w.landed || w.lands == TimePoint::max())) n.write.reset();
  }

  PeerLiveness liveness_for(const Node& observer, const Node& peer) {
    // quorumd's verdict on `peer`: DEAD once it has been down for D; re-confirmed by each heartbeat read
    // until its next incarnation's heartbeat lands. A node that is merely paused is never declared dead here
    // (pauses are shorter than the lease; longer ones are crashes in this model).
    (void)observer;
    PeerLiveness l;
    if (!peer.alive && now_ >= peer.crashed_at + D) {
      l.view = PeerView::dead;
      l.confirmed_at = now_ - R / 2;  // the last heartbeat read, issued a little earlier, saw no change
    } else if (peer.alive && now_ < peer.hb_landed + peer.seen_lag && peer.crashed_at + D <= peer.hb_landed &&
               peer.crashed_at != TimePoint{}) {
      // Restarted, but the observer's quorumd has not yet read its new heartbeat (up to a renew interval
      // and a read after it landed): the verdict still stands, confirmed only by reads issued before that
      // heartbeat landed. Meanwhile the restarted node may already write its table.
      l.view = PeerView::dead;
      l.confirmed_at = std::min(now_, peer.hb_landed) - Millis(1);
    } else {
      l.view = PeerView::up;
    }
    return l;
  }

  void node_step(Node& n, Node& peer) {
    if (!n.alive) return;
    if (n.paused) {
      if (now_ < n.resume_at) return;
      n.paused = false;
    }
    Ownership& o = *n.own;
    o.on_liveness(liveness_for(n, peer));
    // Reads of the peer's register.
    if (n.read && now_ >= n.read->serviced && !n.read->has_value) {
      n.read->value = peer.disk;
      n.read->has_value = true;
    }
    if (n.read && now_ >= n.read->done) {
      o.on_peer_entry({n.read->value, n.read->issued, n.read->done});
      n.read.reset();
    }
    if (!n.read && now_ >= n.next_read) {
      Read r;
      r.issued = now_;
      r.serviced = now_ + Millis(std::uniform_int_distribution<int>(0, 30)(rng_));
      r.done = r.serviced + Millis(std::uniform_int_distribution<int>(0, 10)(rng_));
      n.read = r;
      n.next_read = now_ + R;
    }
    if (n.stopping && now_ >= n.stop_done) {
      n.stopping = false;
      n.service_alive = false;
      o.on_stopped();
    }
    o.set_intent(n.intent, n.intent == Intent::release ? peer.id : 0);
    for (int guard = 0; guard < 4; ++guard) {
      // Table writes wait for this incarnation's first heartbeat, and for the previous write to the block.
      if (now_ < n.hb_landed || n.write) break;
      OwnershipStep s = o.step(now_);
      if (s.write) {
        if (s.write->state == OwnershipState::released && s.why.find("withdrawn") != std::string::npos) ++withdrawals;
        submit(n, *s.write, o.write_token());
      }
      if (s.start) {
        n.service_alive = true;
        ++starts;
        if (!epochs_.insert(s.epoch).second || (max_epoch_ && s.epoch <= max_epoch_)) {
          failure = "epoch " + std::to_string(s.epoch) + " reused or not increasing (max " + std::to_string(max_epoch_) + ")";
        }
        max_epoch_ = std::max(max_epoch_, s.epoch);
        if (last_runner && last_runner != n.id) ++handovers;
        last_runner = n.id;
      }
      if (s.stop) {
        n.stopping = true;
        n.stop_done = now_ + Millis(std::uniform_int_distribution<int>(0, 300)(rng_));
      }
      if (!s.write && !s.start && !s.stop) break;
    }
  }

  void submit(Node& n, const ServiceEntry& e, uint64_t token) {
    std::uniform_real_distribution<double> u(0, 1);
    Write w;
    w.token = token;
    w.entry = e;
    double r = u(rng_);
    Duration lat = Millis(std::uniform_int_distribution<int>(1, 20)(rng_));
    if (r < 0.05) lat = Millis(std::uniform_int_distribution<int>(int(T.count()), int(3 * T.count()))(rng_));  // late
    w.lands = r > 0.97 ? TimePoint::max() : now_ + lat;                                                          // never
    bool failed = r > 0.97;
    w.ok = !failed && lat < T;
    w.reported = failed ? now_ + Millis(1) : (w.ok ? now_ + lat : now_ + T);
    n.write = w;
  }

  bool check() {
    if (!failure.empty()) return false;
    if (nodes_[0].service_alive && nodes_[1].service_alive) {
      failure = "both nodes run the service at t=" + std::to_string(to_ms(now_.time_since_epoch()));
      return false;
    }
    return true;
  }

  std::mt19937_64 rng_;
  TimePoint now_{std::chrono::seconds(100)};
  Node nodes_[2];
  std::set<uint64_t> epochs_;
  uint64_t max_epoch_ = 0;
};

}  // namespace

TEST_CASE("ownership: random concurrent claims, releases, crashes, pauses and late writes never give two owners") {
  const int schedules = 2000;
  int starts = 0, handovers = 0, crashes = 0, withdrawals = 0;
  for (int s = 0; s < schedules; ++s) {
    OwnSim sim(1000 + uint64_t(s));
    if (!sim.run(std::chrono::seconds(40))) FAIL("seed " << (1000 + s) << ": " << sim.failure);
    starts += sim.starts;
    handovers += sim.handovers;
    crashes += sim.crashes;
    withdrawals += sim.withdrawals;
  }
  CHECK(starts > 5000);
  CHECK(handovers > 1000);
  CHECK(withdrawals > 100);  // concurrent claims really happened
  std::printf("[castor] ownership simulation: %d schedules; %d starts, %d handovers between nodes, %d claim "
              "withdrawals, %d crashes; 0 double owners, epochs always increasing\n",
              schedules, starts, handovers, withdrawals, crashes);
}
