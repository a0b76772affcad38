// QuorumCore: the heartbeat / lease / self-fencing state machine of one node — quorumd without the I/O.
//
// Fed with `now` from an injected clock and with the completions of the I/Os it asked for, it returns
// actions: write this heartbeat record, read my block, read the peer's block, tell svcmgr to stop
// services, fence (kill what is left, stop petting the watchdog), report the peer's state, left cleanly.
// The daemon (quorumd_main/quorum_daemon) executes them; the simulation (tests) executes them against
// in-memory and fault-injecting disks with a fake clock. Deterministic: no I/O, no clock reads, no randomness
// (the incarnation is given).
//
// Safety rules it enforces (docs/design.md has the argument):
//  - the lease runs from the issue time of the last ok write, for F; renewals stop the moment it lapses;
//  - at F - G without renewal svcmgr is told to stop services; at F the node is fenced;
//  - a node reading its own block and finding a record it did not write (another incarnation, or a seq it
//    never issued) fences at once; so does a node whose peer's heartbeat says it declared us DEAD;
//  - once fenced, an incarnation never writes or renews again; the daemon rejoins with a new incarnation;
//  - a clean leave writes LEAVING, waits for services_stopped(), then writes DOWN;
//  - with the LAN channel, a lease may be extended by the peer's promise during a shared storage stall
//    (stall_promise.h); a promise given holds back this node's DEAD verdicts; a new core holds them back P;
//  - the peer's verdicts come from PeerMonitor: late writes of replaced lives are never life nor DOWN, and
//    a verdict is confirmed (peer().confirmed_read_issued()) only by a read of its unchanged value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/latency_histogram.h"
#include "common/uuid.h"
#include "disk/heartbeat_record.h"
#include "quorumd/node_lease.h"
#include "quorumd/peer_monitor.h"
#include "quorumd/stall_promise.h"
#include "disk/timing.h"

namespace castor {

// What a node's heartbeat says of its set of quorum devices (HeartbeatRecord::set_*; all zero on one device).
struct SetPosture {
  uint16_t generation = 0;
  bool retiring = false;  // the member of `slot` that `generation` brought in is not in use yet
  uint8_t slot = 0;
  friend bool operator==(const SetPosture&, const SetPosture&) = default;
};

struct CoreConfig {
  Uuid cluster_uuid;
  uint32_t node_id = 1;  // 1 or 2; the peer is the other
  uint64_t incarnation = 1;
  Timing timing;
  uint64_t services_digest = 0;
  bool standby = false;
  bool no_watchdog = false;  // published in every heartbeat (HeartbeatRecord::kNoWatchdog)
  // The peer said it runs without a watchdog to an earlier core or quorumd of this node, and nothing undid
  // it since (PeerMonitor::assume_no_watchdog): no DEAD on D from the start.
  bool peer_no_watchdog = false;
  // ...or nobody read it: this node knows nothing of the peer (no peer-watchdog file) and has a [fence] for
  // it (PeerMonitor::assume_no_watchdog's only_assumed): no DEAD on D, and no startup fence either.
  bool peer_no_watchdog_only_assumed = false;
  SetPosture set_posture;    // published in every heartbeat (docs/design.md "Replacing a quorum device")
  // Set when the LAN channel is configured: the promises of a shared storage stall (stall_promise.h). A core
  // made with it holds back every DEAD verdict until start + (P - F) + D when P > F (a previous life may have
  // promised P; D from first_seen >= start already covers F).
  std::optional<PromiseTerms> promises;
  // Set on a set of quorum devices: a life that never completed a heartbeat write (joining, or leaving before
  // its first) and whose write failed on a majority outright is given up (fenced: the daemon rejoins with a new
  // life, later each time). Its copy may have landed on a minority of the devices, where the peer
  // reads it as this node's newest; a life that kept writing so could never be declared dead (review 17e,
  // finding 1). One disk shows nothing of a failed write, so a joining life there keeps trying.
  bool give_up_failed_join = false;
};

enum class CoreActionKind {
  write_heartbeat,  // write `record` to my heartbeat block; report with on_write_done(record.seq, ...)
  read_own,         // read my heartbeat block; report with on_own_read
  read_peer,        // read the peer's heartbeat block; report with on_peer_read
  stop_services,    // lease at risk or leaving: svcmgr must stop every service now
  fence,            // lease lapsed or proof of danger: kill whatever still runs, stop petting; `reason`
  peer_changed,     // the peer's view changed: `peer` holds the transition
  left,             // DOWN is on disk: the node has left cleanly and may exit
};

struct CoreAction {
  CoreActionKind kind;
  HeartbeatRecord record;               // write_heartbeat
  std::optional<PeerTransition> peer;   // peer_changed
  std::string reason;                   // stop_services, fence
};

enum class CorePhase { joining, up, leaving_stopping, leaving_down, left, fenced };
const char* core_phase_name(CorePhase p);

class QuorumCore {
 public:
  QuorumCore(const CoreConfig& config, TimePoint now);

  // Timers: renewals, reads, lease deadlines. Call at next_wakeup() (or any time; it is idempotent).
  void tick(TimePoint now, std::vector<CoreAction>& out);
  void on_write_done(uint64_t seq, TimePoint issued, const Status& st, TimePoint now, std::vector<CoreAction>& out);
  // `record` is the decoded block (or why it did not decode); `raw_hash` identifies the raw bytes.
  void on_own_read(TimePoint issued, const Result<HeartbeatRecord>& record, const Status& io, TimePoint now,
                   std::vector<CoreAction>& out);
  void on_peer_read(TimePoint issued, const Result<HeartbeatRecord>& record, uint32_t raw_hash, const Status& io,
                    TimePoint now, std::vector<CoreAction>& out);
  // Admin asked for a clean stop.
  void request_leave(TimePoint now, std::vector<CoreAction>& out);
  // Something outside the core proved danger (svcmgr: a service failed to stop): fence now.
  void fence_now(TimePoint now, const std::string& reason, std::vector<CoreAction>& out) { fence(now, reason, out); }
  // svcmgr reports every service stopped (during a leave: DOWN may be written next).
  void services_stopped(TimePoint now, std::vector<CoreAction>& out);

  // ---- power fencing of the peer (power_fencer.h; docs/design.md "Power fencing")
  // This node may power-fence its peer: it is up, its lease is valid and its own disk works (its last
  // heartbeat write completed ok, issued within 2T).
  // Since when this node's heartbeat writes have all completed ok (nullopt: the last one failed, or none yet).
  std::optional<TimePoint> disk_ok_since() const { return ok_run_since_; }
  bool may_power_fence(TimePoint now) const {
    return phase_ == CorePhase::up && lease_.valid(now) && !disk_failing(now);
  }
  // How long after the issue of its last ok heartbeat write a node may still start a power-off (the own-disk
  // rule of may_power_fence: 2T, whatever a promise does to the lease). A peer's fence intent whose value has
  // stood still longer than this plus the peer's round can no longer turn into an off (PowerFencer, stale).
  Duration fence_window() const { return disk_terms().failing_after; }
  // The peer's heartbeat value has stood still for `silence`: the latest read of it was issued at least
  // `silence` after silence_start() (the first read that returned it, or the first LAN datagram that said
  // it was written, whichever came first), and every heartbeat write this node issued since then completed ok (its own disk worked the whole time the peer's value stood still: after a shared
  // storage stall both nodes see the other's value old, and neither may take that for a death). Only while
  // the peer is UP (seen alive by this core), or UNKNOWN with no dead time (no watchdog) and still for the
  // dead time D too (silence_to_suspect); never while it is DOWN or already declared dead. `for_admin`: the
  // test an admin's confirmation of the off must pass (also a peer never seen whose lack of a watchdog is
  // only assumed, which no automatic round fences).
  bool peer_silent_for(Duration silence, bool for_admin = false) const;
  // When the peer's silence reaches what `suspicion` asks (silence_to_suspect) if its value stands still, this
  // node's writes working on (nullopt: it is not suspected on any read: never read, not a peer it suspects,
  // or my disk did not work since the silence began). peer_silent_for is a read issued at or after it.
  std::optional<TimePoint> suspicion_due(Duration suspicion, bool for_admin = false) const;
  // With a power fence configured: the suspicion time, so that a read of the peer is issued exactly when its
  // silence would reach it (as for the dead time), not up to a renew interval later.
  void set_suspicion_time(Duration s) { suspicion_ = s; }
  // The fence intent (HeartbeatRecord::kFenceIntent; docs/design.md "Power fencing", "The fence intent"):
  // announce (on) or withdraw (off) this node's intent to power-fence the peer. Either is written at once (or
  // right after the write in flight). Announced again after a withdrawal, it needs a new look.
  void set_fence_intent(bool on, TimePoint now);
  // The look after the announce: nullopt until a read of the peer's block issued after a write carrying the
  // intent completed ok has returned; then true if that block showed no fence intent of the peer, false if it
  // did -- against any life of this node: the peer's BMC powers this machine off whichever life it meant (a
  // life that restarted while the peer's round ran must not fence the peer back; the adversarial review's
  // schedule, tests/unit/review16b_fence_intent_test.cc). A record that is unreadable, corrupt or of another
  // cluster shows none: it is a changed value, so the peer is no longer suspected on that look either.
  std::optional<bool> fence_look_clear() const { return fence_look_clear_; }
  // A fence of the peer begins (PeerMonitor::fence_started).
  void on_peer_fence_started() { peer_.fence_started(); }
  // ... and it is an admin's confirmation (PeerMonitor::fence_by_admin).
  void on_peer_fence_by_admin() { peer_.fence_by_admin(); }
  // A fence begun by an earlier core of this node (it rejoined while the fence ran) is about that life.
  void adopt_peer_fence_subject(const PeerMonitor::FenceSubject& f) { peer_.adopt_fence_subject(f); }
  // Its power was confirmed off and the settle passed at `settle_end`: the first read issued then declares
  // it dead (PeerMonitor::declare_fenced); the read is scheduled through the monitor's dead deadline.
  void on_peer_fenced(TimePoint settle_end, std::string by) { peer_.declare_fenced(settle_end, std::move(by)); }

  // ---- promises over the LAN (stall_promise.h; only with config.promises)
  // My last heartbeat write failed (or none ever succeeded, or none for 2T): stall_promise.h.
  bool disk_failing(TimePoint now) const;
  // Whether my LAN datagrams should ask the peer for a promise now.
  bool wants_promise(TimePoint now) const;
  // The peer (incarnation `asker`) asked: if I may promise, raises my DEAD floor to now + P FIRST and returns P;
  // otherwise nullopt and, in `why`, the reason.
  // `arrived`: a clock read after the request left the socket (nullopt: `now`); the lease must hold then too, and
  // the floor counts from it: never from before the request was sent (a pause after the turn's clock read).
  std::optional<Duration> grant_promise(uint64_t asker, TimePoint now, const char** why = nullptr,
                                        std::optional<TimePoint> arrived = std::nullopt);
  // What the peer's latest LAN datagram, received at `now`, said of its disk: the age of its last ok heartbeat
  // write's issue (nullopt: it never wrote ok). Lets the stop of services wait for a likely promise
  // (stall_promise.h, stop_waits_for_promise).
  void on_peer_disk_report(std::optional<Duration> peer_disk_age, bool peer_sees_me_up, TimePoint now);
  // And the seq of that write, of life `peer_incarnation`, the datagram taken at `heard` (a clock read after it
  // was taken from the socket, never before: an upper bound of its arrival). That write was on the disk by
  // then (the datagram was sent after it completed), so when it is the value the disk shows, the peer's
  // silence counts from the first such datagram if that came before the first read of it (suspicion only:
  // silence_start; never the dead time D).
  void on_peer_write_heard(uint64_t peer_incarnation, uint64_t peer_ok_seq, TimePoint heard);
  // A stop of services was sent for the current risk and stands (no renewal since): the daemon announces no
  // lease_renewed meanwhile (svcmgr takes that as "the risk passed" and starts its services again).
  bool stop_requested() const { return stop_requested_; }
  // A grant answering my request sent at `request_sent`: extends my lease (never past the stall bound, never
  // a lapsed one). True if it moved the lease end.
  bool on_promise(TimePoint request_sent, Duration granted, TimePoint now, std::vector<CoreAction>& out);
  // The latest lease end a promise gave me, and the floor my own promises put on my DEAD verdicts.
  std::optional<TimePoint> promised_until() const { return promised_until_; }
  TimePoint promise_floor() const { return peer_.dead_floor(); }
  std::optional<TimePoint> last_ok_write_issue() const { return lease_.last_renewal_issue(); }
  uint64_t promises_granted() const { return promises_granted_; }
  uint64_t promises_received() const { return promises_received_; }

  // When tick() next has something to do.
  TimePoint next_wakeup() const;
  // May this node act (run services, pet the watchdog) at `now`?
  bool may_act(TimePoint now) const { return phase_ != CorePhase::left && lease_.valid(now); }
  std::optional<TimePoint> lease_expiry() const { return lease_.expiry(); }
  CorePhase phase() const { return phase_; }
  const PeerMonitor& peer() const { return peer_; }
  uint32_t peer_id() const { return config_.node_id == 1 ? 2 : 1; }
  const CoreConfig& config() const { return config_; }
  uint64_t last_written_seq() const { return seq_; }
  // The seq of the latest heartbeat write that completed ok (0: none yet): on the disk now.
  uint64_t last_ok_written_seq() const { return last_ok_seq_; }
  // Since when the peer's current value is known to have stood on the disk, for its suspicion: the earlier of
  // the first read that returned it and the first LAN datagram of the peer that said that write had completed
  // (on_peer_disk_report); a promise's floor is applied on top. Both are upper bounds of the moment
  // the write landed, so the silence counted from it is never longer than the peer's real one.
  TimePoint silence_start() const;
  const std::string& fence_reason() const { return fence_reason_; }
  // Latency of the last completed heartbeat write, and the worst in the last minute.
  Duration last_write_latency() const { return last_latency_; }
  Duration worst_write_latency() const { return worst_latency_; }
  // Every completed heartbeat write's latency since this quorumd started.
  const LatencyHistogram& write_latency_histogram() const { return latency_histogram_; }
  void set_services_digest(uint64_t d) { config_.services_digest = d; }
  // Published in every heartbeat: the peer's svcmgr moves services away from a standby node.
  void set_standby(bool on) { config_.standby = on; }
  // Published in every heartbeat from the next write on.
  void set_set_posture(const SetPosture& p) { config_.set_posture = p; }
  // HeartbeatRecord::kPeerRegionDamaged in every heartbeat while set.
  void set_peer_region_damaged(bool on) { peer_region_damaged_ = on; }
  // castor standby PEER run here: the request rides every heartbeat from the next write on, numbered above
  // every sequence number issued in this life, until the peer's heartbeat says it handled that number (then
  // it reads none again). A later request replaces an earlier one not yet handled. Returns its serial.
  uint64_t set_peer_request(PeerRequest r);
  void clear_peer_request() { peer_request_ = PeerRequest::none; }
  PeerRequest peer_request() const { return peer_request_; }
  uint64_t peer_request_serial() const { return peer_request_serial_; }
  // The peer's request this node's service manager acted on last (the peer life and its serial): published
  // in every heartbeat so that the peer takes its request down.
  void set_handled_peer_request(uint64_t incarnation, uint64_t serial) {
    handled_request_incarnation_ = incarnation;
    handled_request_serial_ = serial;
  }
  uint64_t handled_request_incarnation() const { return handled_request_incarnation_; }
  // HeartbeatRecord::kTakesPeerRequests: set only while a service manager that acts on the peer's
  // requests is connected (else a request would wait unseen and be applied whenever one starts).
  void set_takes_peer_requests(bool on) { takes_peer_requests_ = on; }
  // svcmgr's started mark (HeartbeatRecord::started_mark), always published with kPublishesStartedMark: 0
  // (every claim of this node reads as starting) until svcmgr gives one.
  void set_started_mark(uint64_t mark, const std::vector<uint64_t>& not_started) {
    started_mark_ = mark;
    not_started_ = not_started;
  }
  uint64_t handled_request_serial() const { return handled_request_serial_; }
  // HeartbeatRecord::table_generation, always published with kPublishesTableGeneration (the daemon sets it
  // before every tick from its region writer).
  void set_table_generation(uint64_t g) { table_generation_ = g; }

 private:
  void fence(TimePoint now, const std::string& reason, std::vector<CoreAction>& out);
  void check_lease(TimePoint now, std::vector<CoreAction>& out);
  // When svcmgr is told to stop services for a lease ending at `expiry`: kill_grace before it, or half of that
  // while a promise is likely (stall_promise.h).
  TimePoint stop_time(TimePoint expiry, TimePoint now) const;
  void issue_write(TimePoint now, std::vector<CoreAction>& out);
  NodeState disk_state() const;
  // The promise terms, or without a LAN those that only say when the disk is failing (2T).
  PromiseTerms disk_terms() const;
  // When a read of the peer would find its silence at the suspicion time (nullopt: none needed).
  std::optional<TimePoint> suspicion_deadline() const;
  // How long the peer's value must stand still before it is suspected, for a suspicion time S (nullopt: it
  // is not suspected at all).
  std::optional<Duration> silence_to_suspect(Duration suspicion, bool for_admin = false) const;

  CoreConfig config_;
  NodeLease lease_;
  PeerMonitor peer_;
  CorePhase phase_ = CorePhase::joining;
  uint64_t seq_ = 0;                     // last seq issued
  uint64_t last_ok_seq_ = 0;             // last seq whose write completed ok
  uint64_t down_seq_ = 0;                // seq of the DOWN record, once issued
  bool write_in_flight_ = false;
  bool own_read_in_flight_ = false;
  bool peer_read_in_flight_ = false;
  bool stop_requested_ = false;          // stop_services already emitted for the current risk
  TimePoint next_renew_;
  TimePoint next_read_;
  std::string fence_reason_;
  Duration last_latency_{0}, worst_latency_{0};
  LatencyHistogram latency_histogram_;
  TimePoint worst_window_start_;
  std::optional<TimePoint> first_ok_write_done_;  // completion of this incarnation's first ok write
  std::optional<TimePoint> promised_until_;
  bool last_write_failed_ = false;  // the last heartbeat write reported failed (error or deadline)
  // The issue of the first ok heartbeat write of the current unbroken run of ok writes (no write failed since,
  // none issued more than failing_after = 2T after the previous ok one): since then this node's disk worked.
  std::optional<TimePoint> ok_run_since_;
  std::optional<TimePoint> peer_report_at_;       // receipt of the peer's latest LAN datagram
  std::optional<TimePoint> peer_last_ok_issue_;   // what it said of its last ok write (receipt - age)
  bool peer_sees_me_up_ = false;                  // and its disk verdict about me
  // The peer's latest completed write its datagrams named, and when the first datagram naming it came.
  struct PeerLanWrite {
    uint64_t incarnation = 0, seq = 0;
    TimePoint first_heard;
  };
  std::optional<PeerLanWrite> peer_lan_write_;
  std::optional<TimePoint> stop_wait_until_;      // while the stop waits: when it is next looked at again
  std::optional<Duration> suspicion_;             // set_suspicion_time
  bool fence_intent_ = false;                     // set_fence_intent: published in every write while set
  bool peer_region_damaged_ = false;              // set_peer_region_damaged
  PeerRequest peer_request_ = PeerRequest::none;  // set_peer_request
  uint64_t peer_request_serial_ = 0;
  uint64_t handled_request_incarnation_ = 0, handled_request_serial_ = 0;  // set_handled_peer_request
  bool takes_peer_requests_ = false;
  uint64_t started_mark_ = 0;
  uint64_t table_generation_ = 0;
  HeartbeatRecord::EpochList not_started_;
  uint64_t intent_seq_ = 0;                       // the first write that carries it (0: none issued yet)
  std::optional<TimePoint> intent_on_disk_;       // completion of the first ok write >= intent_seq_
  std::optional<bool> fence_look_clear_;          // the look's answer (fence_look_clear)
  uint64_t promises_granted_ = 0, promises_received_ = 0;
};

}  // namespace castor
