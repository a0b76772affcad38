// QuorumDaemon: quorumd's event loop. Drives one QuorumCore (the pure heartbeat/lease state machine)
// against the quorum disk, the watchdog, the control socket and signals, all reached through a QuorumdEnv
// (quorumd/quorumd_env.h: the real ones in production, fakes in the in-process tests):
//
//  - one EventLoop (common/event_loop.h): a timerfd (CLOCK_BOOTTIME, absolute: the core's next wakeup, the
//    earliest I/O deadline or a pending rejoin, and never more than one renew interval away), the disk's
//    completion eventfd, a signalfd and the control socket;
//  - executes the core's actions (core_actions.cc): heartbeat writes and reads go to the disk
//    asynchronously (heartbeat_io.h keeps the ledger) with a deadline of now + io_timeout;
//    stop_services / fence / peer_changed / left are logged (one line each) and pushed to subscribers; a
//    fence SIGKILLs every registered process group, stops the watchdog pets, and then rejoins with a new
//    core and a fresh random incarnation;
//  - serves the control verbs and the status JSON (control_verbs.cc) and svcmgr's service table
//    (table_service.h);
//  - pets the watchdog on every loop turn at which the core says the node may act;
//  - SIGTERM/SIGINT (or the `leave` verb) start a clean leave: LEAVING, then DOWN, then exit 0 after the
//    watchdog's magic close; a second signal exits at once (3) with the watchdog left armed.
// Startup (start()) is the only place that blocks on the disk: it reads the superblock and refuses to run
// on any mismatch with the local configuration. After it, the loop never blocks on the disk, on a client
// or on the watchdog. Tests drive it one turn at a time: join(), then turn() and serve_control() as their
// fake clock moves; production calls run().
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/agent_process.h"
#include "agent/service_cgroup.h"
#include "common/aligned_buffer.h"
#include "common/clock.h"
#include "common/event_loop.h"
#include "common/status.h"
#include "config/quorumd_config.h"
#include "control/control_server.h"
#include "control/event_codec.h"
#include "disk/block_device.h"
#include "disk/majority_block_device.h"
#include "quorumd/device_health_report.h"
#include "quorumd/device_set_change.h"
#include "disk/disk_layout.h"
#include "disk/disk_snapshot.h"
#include "disk/superblock.h"
#include "quorumd/heartbeat_io.h"
#include "quorumd/lan_channel.h"
#include "quorumd/power_fencer.h"
#include "quorumd/process_groups.h"
#include "quorumd/quorum_core.h"
#include "quorumd/quorumd_env.h"
#include "quorumd/reply_json.h"
#include "quorumd/table_service.h"

namespace castor {

// quorumd's exit codes (quorumd --help lists them).
enum QuorumdExit : int {
  kQuorumdExitLeft = 0,     // left the cluster cleanly (DOWN written)
  kQuorumdExitStartup = 1,  // could not start
  kQuorumdExitUsage = 2,    // bad command line
  kQuorumdExitUnclean = 3,  // stopped without a clean leave (second signal, fatal runtime error)
};

// Blocks SIGTERM and SIGINT (they are read from a signalfd) and ignores SIGPIPE. Call first thing in
// main(), before any thread exists, so that no thread can take these signals the default way.
Status block_daemon_signals();

class QuorumDaemon final : private ControlServer::Handler {
 public:
  // Heartbeat I/O is not submitted while the device holds this many of ours that already timed out (a
  // stalled path): see submit_write. I/Os still inside their deadline never count: a busy, working device
  // (many table I/Os in flight) must not fail our heartbeat writes.
  static constexpr size_t kMaxHeldBeforeSubmit = 12;
  static bool path_holds_too_many(const BlockDevice& device) {
    return device.held_after_timeout() >= kMaxHeldBeforeSubmit;
  }
  // Resolves and opens the device, reads the superblock and checks it against `config` (cluster, node,
  // io_timeout), creates the control socket, opens and arms the watchdog, locks memory and switches to
  // SCHED_FIFO if configured (only warning if not permitted). Nothing is written to the disk here.
  // The production environment (make_production_quorumd_env), owned by the daemon.
  static Result<std::unique_ptr<QuorumDaemon>> start(const QuorumdConfig& config);
  // Same, through `env`, which must outlive the daemon.
  static Result<std::unique_ptr<QuorumDaemon>> start(const QuorumdConfig& config, QuorumdEnv& env);
  ~QuorumDaemon() override;

  // Runs until the node has left cleanly (kQuorumdExitLeft) or must stop without (kQuorumdExitUnclean).
  int run();

  // The pieces of run(), for tests that drive the loop with a fake clock:
  // starts the first core (joining the cluster).
  Status join();
  // One pass of the loop without waiting: reaps the disk, runs the core's timers and actions, rejoins if
  // due, pumps the table writer; then pets the watchdog if the node may act. Returns the time of the pet.
  TimePoint turn();
  // Accepts, reads and answers the control socket's clients (run() does it when the socket is readable).
  void serve_control() { server_->process(*this); }
  // When the loop must turn next at the latest.
  TimePoint next_wakeup(TimePoint now) const;
  bool done() const { return done_; }
  int exit_code() const { return exit_code_; }
  // The reply of the `status` verb.
  std::string status_json(TimePoint now) const;
  const QuorumCore& core() const { return *core_; }

 private:
  using IoPurpose = HeartbeatIo::Purpose;
  struct RateLimit {  // for messages that may repeat every renew interval
    std::optional<TimePoint> last;
    uint64_t suppressed = 0;
  };

  QuorumDaemon(const QuorumdConfig& config, QuorumdEnv& env)
      : config_(config), env_(env), clock_(env.clock()),
        groups_([&env](pid_t g, int s) { return env.signal_process_group(g, s); },
                [&env, tree = castor_cgroup_tree(config.node)] { return env.kill_cgroup_tree(tree); },
                [&env, tree = castor_cgroup_tree(config.node)](pid_t g) { return env.group_in_cgroup_tree(g, tree); },
                [&env, tree = castor_cgroup_tree(config.node)] { return env.cgroup_tree_busy(tree); }) {}

  // ---- start-up, the loop, rejoin (quorum_daemon.cc)
  // One quorum device, or the members of a set of three (resolved paths, as castor.ini lists them).
  Status init(const std::vector<std::string>& device_paths);
  // A set: opens its members (open_quorum_device_set) and makes device_ the MajorityBlockDevice over them.
  Status open_device_set();
  // With a set: takes the node lock (life_file.h) before anything of this node is written, or refuses.
  Status hold_node_lock();
  Status check_superblock(const DiskSnapshot& snap);
  // authenticate_disk = yes: loads the authkey and makes seal_ (quorum_daemon.cc); no: crc_only.
  Status setup_seal();
  // The superblock's "records authenticated" flag against authenticate_disk (both ways refused).
  Status check_authentication(const Superblock& sb);
  Status setup_loop();
  // [lan] configured: loads the cluster key and opens the LAN channel (lan_channel.h).
  Status setup_lan();
  // With a set of quorum devices: the next life's incarnation, its number made durable first (life_file.h).
  Result<uint64_t> next_set_incarnation();
  // The highest life number of this node among the copies of its region the chooser has seen, and the
  // members that did not show that region at start (named, for the refusal).
  struct OwnLivesSeen {
    uint32_t highest = 0;
    std::vector<std::string> silent_members;
  };
  OwnLivesSeen own_lives_seen() const;
  Status start_core(TimePoint now);
  // The peer's no-watchdog flag as the current core's monitor holds it, kept for the next core and made
  // durable for the next quorumd (peer_watchdog_file.h): each turn, and before a core is replaced.
  void keep_peer_watchdog_fact(TimePoint now);
  // At start, before the watchdog is armed (a file that cannot be read refuses the start there, not in a
  // reset loop): what an earlier quorumd of this node stored.
  Status load_peer_watchdog_fact();
  void step();
  void maybe_rejoin(TimePoint now);
  void check_superblock_async(TimePoint now);
  void superblock_completion(const IoCompletion& c);
  void handle_signals(TimePoint now);
  void pet_watchdog(TimePoint now);
  // Exit at once without writing DOWN and with the watchdog armed: the peer waits the dead time, and the
  // watchdog resets this node if anything of it is left. For a leave that cannot prove its services stopped.
  void exit_unproven(const std::string& why);
  // Whether a rate-limited message may be logged now (at most one a second); if so, how many were
  // suppressed since the last one.
  std::optional<uint64_t> log_allowed(RateLimit& rl, TimePoint now);

  // ---- the core's actions and the heartbeat I/O they cause (core_actions.cc)
  void handle_completion(const IoCompletion& c, TimePoint now, std::vector<CoreAction>& out);
  void execute(std::vector<CoreAction>& actions, TimePoint now);
  void submit_write(const HeartbeatRecord& rec, TimePoint now, std::vector<CoreAction>& out);
  void submit_read(IoPurpose purpose, TimePoint now, std::vector<CoreAction>& out);
  void fail_read(IoPurpose purpose, const Status& st, TimePoint now, std::vector<CoreAction>& out);
  void on_write_done(const HeartbeatIo::Pending& p, const IoCompletion& c, TimePoint now, std::vector<CoreAction>& out);
  // The lease end moved (a heartbeat write completed, or a promise of the peer extended it): tells the
  // subscribers (svcmgr times the lease from these lease_renewed events).
  void announce_lease(TimePoint now, uint64_t seq, Duration write_latency);
  // Event peer_updated when the peer's fingerprint (quorumd/peer_fingerprint.h) changed since the last one.
  void announce_peer_update(TimePoint now);
  // HeartbeatRecord::table_generation for the next heartbeat: the region writer's ended writes, and one more
  // at every loop turn while the disk holds a timed-out I/O of ours (a table write among them may still land).
  void update_table_generation();
  void on_stop_services(const CoreAction& a, TimePoint now, std::vector<CoreAction>& out);
  void on_fence(const CoreAction& a, TimePoint now);
  void on_left(const CoreAction& a, TimePoint now);
  void request_leave(TimePoint now, const std::string& why);
  // Whether DOWN may be written: never while this node's table holds an entry that is claiming, owned or
  // releasing (a service that may still be up here), whatever svcmgr said. `why` says what blocks it.
  bool may_write_down(std::string& why) const;

  // ---- power fencing of the peer (power_fencing.cc; power_fencer.h has the rules)
  // At start: every [fence NODE] names a node of the cluster; the peer's device, if any, is checked against
  // its agent's metadata (an option the agent does not take refuses the start).
  Status setup_power_fence();
  // Each turn: the agent action that ended, the fencer's timers and conditions, the next action started,
  // a confirmed off handed to the core.
  void fence_step(TimePoint now);
  void start_fence_action(FenceAgentAction action, TimePoint now);
  void end_fence_action(const FenceAgentResult& r, TimePoint now);
  // The suspicion time: T with a LAN channel (the peer silent there too), 2T without.
  Duration suspicion_time() const;
  Json power_fence_json(TimePoint now) const;
  // `fence-peer` verb: an admin's fence of the peer (castor fence). `force`: even if this node cannot take
  // over what the peer runs.
  // `target` must be the peer's name (the admin names the node to power off; never another one).
  std::string admin_fence(const std::string& target, bool force, const std::string& who, TimePoint now, bool& ok);
  // castor fence NODE --confirm-off: the admin says the peer is powered off (PowerFencer::confirm_off_by_admin);
  // refused for any NODE but the peer, without a [fence] for it, without a lease here, or while the peer is
  // heard: its heartbeat changed within the suspicion time, or a LAN link hears it.
  std::string admin_confirm_off(const std::string& target, const std::string& who, TimePoint now, bool& ok);
  // The stored fence subject learns, while the core that took it runs (each fence step, and before that core is
  // replaced), whether that core retired the fenced life since (PeerMonitor::FenceSubject::superseded).
  void keep_fence_subject_current();

  // ---- control verbs, events and the status JSON (control_verbs.cc)
  void on_request(ControlServer::ConnId conn, const ControlRequest& req) override;
  void on_closed(ControlServer::ConnId conn) override;
  void expire_peer_request(TimePoint now);
  void daemon_verb(ControlServer::ConnId conn, const ControlRequest& req, TimePoint now);
  QuorumdEvent event(QuorumdEventKind kind, TimePoint now) const;  // the fields every event carries
  void emit_event(const QuorumdEvent& e);

  QuorumdConfig config_;
  QuorumdEnv& env_;
  std::unique_ptr<QuorumdEnv> owned_env_;  // the production env when start(config) made it
  // With a set: held from start to exit (hold_node_lock). Declared before every device, so destroyed after
  // them: a device's destructor waits for the kernel to return each of its I/Os (io_destroy), and the lock
  // must outlive the last write that may still land (review of the lock, finding 1: a clean leave whose DOWN
  // completed on two members, the third stalled, released the lock before the stalled write).
  std::unique_ptr<QuorumdNodeLock> node_lock_;
  const Clock& clock_;
  std::string device_path_;                 // the device, or the set's paths joined by spaces (messages)
  std::vector<std::string> device_paths_;   // as listed; a set's members in index order once opened
  std::vector<bool> slot_in_use_;           // a set's slots the majority device uses (not lost, retired, pending)
  std::unique_ptr<BlockDevice> device_;
  MajorityBlockDevice* majority_ = nullptr;  // device_ when a set of quorum devices, else nullptr
  uint32_t life_ = 0;  // with a set: the life number this process took last (quorumd/life_file.h)
  // A set's replacement of a member (castor disk replace; quorumd/device_set_change.h): the steps, and the new
  // member held aside until the peer confirms (opened by the device-replace verb, or at start).
  std::optional<DeviceSetChange> set_change_;
  std::unique_ptr<BlockDevice> set_new_member_;
  std::string set_new_member_path_;
  // A member of the set returned damaged copies (zeroed, garbage): rewrite this node's region so that it
  // heals (the peer does the same for its own), at most every 10 T.
  void repair_damaged_member(TimePoint now);
  // A member of the set lost or back (DeviceHealthReport's hysteresis): logged and told to the subscribers
  // (device_changed: svcmgr's alerts and history).
  void watch_device_health(TimePoint now);
  std::optional<DeviceHealthReport> device_report_;
  uint64_t own_damaged_seen_ = 0, peer_damaged_seen_ = 0;
  std::optional<TimePoint> last_repair_, peer_damage_seen_at_;
  std::optional<uint64_t> repair_asked_by_;  // the peer's heartbeat seq that last carried kPeerRegionDamaged
  // Takes the next step of a replacement (retire the old member, adopt the new one) when it is due.
  void step_device_set_change(TimePoint now);
  // The device-replace verb: "SLOT GENERATION PATH".
  std::string request_device_replace(const std::string& args, bool& ok);
  DiskLayout layout_;
  // How every block is sealed and checked: crc_only, or hmac with the cluster key when authenticate_disk = yes
  // (then every block written carries a tag and every block read must verify).
  RecordSeal seal_ = RecordSeal::crc_only();
  Superblock superblock_;
  uint32_t node_id_ = 0;
  std::string peer_name_;
  std::unique_ptr<QuorumdWatchdog> watchdog_;
  std::unique_ptr<ControlServer> server_;
  ProcessGroups groups_;
  std::optional<EventLoop> loop_;

  std::unique_ptr<QuorumCore> core_;
  uint64_t generation_ = 0;
  TimePoint core_started_;
  bool peer_observed_ = false;       // this core has read the peer's block at least once
  bool lease_acquired_ = false;      // this core has held a lease
  std::optional<TimePoint> last_lease_expiry_;
  std::optional<uint64_t> last_peer_fingerprint_;
  uint64_t held_generation_ = 0;
  uint64_t fences_ = 0;
  std::string last_fence_reason_;
  std::optional<TimePoint> last_fence_at_;
  std::optional<TimePoint> rejoin_at_;
  Duration rejoin_delay_{0};
  std::optional<TimePoint> superblock_checked_;  // last re-read of the superblock (every scrub_interval)
  bool superblock_reading_ = false;              // that read is in flight (asynchronous: the loop never blocks)
  bool superblock_read_backup_ = false;          // which copy the next check reads (they alternate)
  AlignedBuffer superblock_buffer_;

  // Power fencing of the peer ([fence PEER]); null without one.
  std::unique_ptr<PowerFencer> fencer_;
  bool warned_peer_no_watchdog_ = false;  // the peer runs without a watchdog: said once in the log
  // keep_peer_watchdog_fact: what the cores of this process learned, and what the file says (nullopt: not
  // loaded yet, or its last store failed and is tried again).
  bool peer_no_watchdog_ = false;
  bool peer_no_watchdog_only_assumed_ = false;  // nobody read the flag (no file at start); never stored
  std::optional<bool> peer_no_watchdog_stored_;
  RateLimit peer_watchdog_store_log_;
  std::unique_ptr<AgentProcess> fence_proc_;
  FenceAgentAction fence_proc_action_ = FenceAgentAction::status;
  std::vector<int> fence_fds_;         // fence_proc_'s descriptors in the loop
  uint64_t fence_generation_ = 0;      // the core generation the running fence was started for
  std::optional<PeerMonitor::FenceSubject> fence_subject_;  // the life it is about (that core's monitor)
  std::optional<TimePoint> fence_settle_end_;               // its confirmed off's settle end
  std::optional<PeerMonitor::Value> fence_stood_value_;     // the value its verdict stood on

  // The LAN heartbeat and the promises of a shared storage stall ([lan]); null without a [lan] link.
  std::unique_ptr<LanChannel> lan_;
  HeartbeatIo io_;
  std::vector<IoCompletion> completions_;  // scratch, reused
  // svcmgr's service table: this node's (written through quorumd, the single writer, with its epoch
  // record) and the peer's (read with its epoch record).
  std::unique_ptr<TableService> table_;
  // Test-only broken builds (CASTOR_TEST_BUG, read once at start): the nemesis must catch each.
  bool bug_read_block0_ = false;       // table-peer decodes only table block 0, as the old code did
  bool bug_down_while_owned_ = false;  // DOWN is written without looking at the table
  uint64_t services_digest_ = 0;  // set by svcmgr (set-digest), published in the heartbeat, kept across rejoins
  bool standby_ = false;          // published in the heartbeat (set by svcmgr: castor standby)

  bool leave_requested_ = false;
  // Leaving with a service manager subscribed: DOWN is written only once it said every service is stopped
  // and released ("services-stopped"); DOWN lets the peer take over at once.
  bool awaiting_services_stopped_ = false;
  std::set<ControlServer::ConnId> service_managers_;  // subscribed with "subscribe service-manager"
  // Peer requests (castor standby PEER): the connections of service managers that act on the peer's
  // requests ("peer-requests-taken"), what this node handled last (kept across lives, for the next core),
  // and when this node's own request was set (it expires unhandled after kPeerRequestLifetime).
  std::set<ControlServer::ConnId> request_takers_;
  uint64_t handled_request_incarnation_ = 0, handled_request_serial_ = 0;
  std::optional<TimePoint> peer_request_since_;
  // svcmgr's started mark ("started-mark N [E...]"), kept for the next core while the connection that gave
  // it lives (then 0: every claim of this node reads as starting on the peer).
  uint64_t started_mark_ = 0;
  std::vector<uint64_t> not_started_;
  std::optional<ControlServer::ConnId> started_mark_conn_;
  static constexpr std::chrono::seconds kPeerRequestLifetime{60};
  int signals_seen_ = 0;
  std::vector<ControlServer::ConnId> leave_waiters_;
  bool done_ = false;
  int exit_code_ = kQuorumdExitUnclean;

  RateLimit write_error_log_, read_error_log_, pet_error_log_;
  bool write_failing_ = false;
  uint64_t pets_ = 0;
};

}  // namespace castor
