// SvcmgrDaemon: svcmgr's event loop — the thin shell that executes what the pure modules decide.
// It talks to the local quorumd (lease and peer events; it submits its service-table entries through
// quorumd, the node's single writer to the quorum disk, and reads the peer's), keeps one Ownership
// (the disk protocol), one ServiceRunner (the agents) and the recovery bookkeeping per service, asks
// PlacementPolicy where each service should run, and serves the admin CLI on its own root-only socket.
// Safety rules it keeps: a service starts only when Ownership says so; on quorumd's lease-at-risk or fence
// events, or when quorumd goes away and the last known lease expires, every service is stopped/killed; a
// stop that fails makes the node fence (a service never runs half-stopped while the peer starts it).
// Must never block: agents run asynchronously, quorumd requests are answered through callbacks.
//
// One class, its jobs in separate files: svcmgr_daemon.cc (start-up, quorumd's events and replies),
// svcmgr_definitions.cc (loading, adoption at start, reload), svcmgr_supervision.cc (placement and
// Ownership applied to each ServiceSupervisor), svcmgr_admin.cc (the admin verbs and the status JSON),
// svcmgr_loop.cc (the event loop and leaving). Per-service state: service_supervisor.h. Exit codes:
// svcmgr_exit.h.
#pragma once

#include <signal.h>

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "control/control_server.h"
#include "control/table_codec.h"
#include "agent/agent_metadata.h"
#include "svcmgr/definition_store.h"
#include "svcmgr/ownership.h"
#include "config/service_definition.h"
#include "config/svcmgr_config.h"
#include "svcmgr/alert_dispatcher.h"
#include "svcmgr/history_log.h"
#include "svcmgr/service_runner.h"
#include "svcmgr/service_supervisor.h"
#include "svcmgr/quorumd_link.h"
#include "svcmgr/svcmgr_env.h"

namespace castor {


// The signals svcmgr reads from a signalfd (TERM, INT: stop; HUP: reload). main() blocks them before any
// thread exists, so that no thread dies of their default action on the daemon's behalf.
sigset_t svcmgr_signals();


class SvcmgrDaemon final : private ControlServer::Handler {
 public:
  // Production: SystemSvcmgrEnv (owned by the daemon).
  static Result<std::unique_ptr<SvcmgrDaemon>> start(const SvcmgrConfig& config);
  // Any env (tests: an in-memory quorumd link and a fake clock); `env` outlives the daemon.
  static Result<std::unique_ptr<SvcmgrDaemon>> start(const SvcmgrConfig& config, SvcmgrEnv& env);
  ~SvcmgrDaemon() override;
  // Runs until a fence or a lost lease (kSvcmgrExitFenced, kSvcmgrExitLeaseLost), or SIGTERM/SIGINT after
  // stopping every service (kSvcmgrExitStopped); the other SvcmgrExit codes name the remaining ways out.
  int run();
  // run() in steps, for a test that drives the loop itself: prepare_loop() once, then run_once() until it
  // returns the exit code.
  Status prepare_loop();
  std::optional<int> run_once();

  // An admin request and its answer: ok (body: the JSON reply) or refused (body: the error message).
  // The admin socket's requests take this path; a test may call it directly.
  struct AdminReply {
    bool ok = false;
    std::string body;
  };
  AdminReply admin_request(const ControlRequest& req);
  // Puts this node in standby (or out), asked by its admin (asked_by empty) or by the peer's (recorded here).
  void set_standby(bool on, const std::string& asked_by, TimePoint now);
  std::vector<uint64_t> started_mark() const;  // the mark, then the epochs at most it not started
  void publish_started_mark();

 private:
  using Service = ServiceSupervisor;
  // Why a relocation of `s` to node `target` can never happen as this node knows for certain (a node outside
  // its nodes; this node in standby or failed for it): the request is refused.
  std::optional<std::string> relocate_refusal(Service& s, uint32_t target, TimePoint now);
  // What holds it back as this node last heard from its peer (frozen, the peer not up or in standby, different
  // definitions): the request stays pending, shown with this reason.
  std::optional<std::string> relocate_blocker(const Service& s, uint32_t target) const;

  SvcmgrDaemon(const SvcmgrConfig& config, SvcmgrEnv& env, std::unique_ptr<SvcmgrEnv> owned_env)
      : owned_env_(std::move(owned_env)), env_(env), config_(config), link_(env.quorumd_channel(config.quorumd_socket)),
        clock_(env.clock()), metadata_(config.ocf_root) {}
  Status init();
  Status load_services();
  // SIGHUP: reads the definitions again. A file with errors changes nothing (its service keeps its old
  // definition, running or not); a changed definition applies at once to a service that is not running
  // here, and when it next stops otherwise; a removed service is stopped, released and dropped.
  void reload(TimePoint now);
  // save=false: the copy on disk is left alone (it may be the definition an instance still runs under).
  void add_service(ServiceDefinition def, TimePoint now, bool probe, bool save = true);
  // At start, for a service a file defines: probes it with the definition it was started under (the saved
  // copy, when my entry is up and the file changed), or marks it orphaned when that definition is unknown.
  void adopt_service(ServiceDefinition def, TimePoint now);
  // The digest my entry would carry for `def` (agent meta-data defaults applied); metadata_.ready(def) first.
  uint64_t digest_in_force(ServiceDefinition def);
  // Agents' meta-data read (metadata_.poll() said one ended): the services that waited for it get their
  // timings, and the adoptions and orphan checks that waited for a digest are decided.
  void on_metadata_read(TimePoint now);
  // Reload: the file of an orphaned service is back (see reload()); decided once its agents' meta-data is in.
  void redefine_orphan(ServiceDefinition d, TimePoint now);
  // At start: my entry for `name` is up but no file defines it. Stops it with the saved copy of its
  // definition, then releases it; without a copy, leaves the entry up and marks it orphaned.
  void adopt_removed(const std::string& name, TimePoint now);
  void on_quorumd_event(const std::string& json);
  void tick(TimePoint now);
  // false when the reply says nothing of the peer (an error, or a reply that does not parse).
  bool on_peer_table(const std::string& json, TimePoint now);
  void evaluate(Service& s, TimePoint now);
  void drive(Service& s, TimePoint now);
  void after_runner(Service& s, TimePoint now);
  void submit_entry(Service& s, const ServiceEntry& e, uint64_t token);
  void stop_everything(const std::string& why, TimePoint now);
  std::string services_json(TimePoint now);
  std::string recent_history_json() const;  // the `history` verb: the latest records, oldest first
  std::string state_of(const Service& s) const;
  std::string owner_of(const Service& s) const;
  void on_request(ControlServer::ConnId conn, const ControlRequest& req) override;
  // Alerts (svcmgr_alerts.cc): queue one event (wall time, node and ids filled in); the peer's verdict from
  // quorumd's event; the services' and definitions' changes since the last pass.
  void alert(AlertEvent e);
  // The same event into the history only (claims, admin requests: no Pacemaker alert kind fits them).
  void record(const AlertEvent& e, const std::string& kind);
  bool reporting() const { return history_ || (alerts_ && alerts_->alerts() > 0); }
  void alert_peer_changed(PeerView to, bool power_fenced, const std::string& reason);
  void observe_for_alerts();
  // At a clean exit: runs the alerts still queued or running, for at most `limit` (then they are killed).
  static constexpr Duration kAlertsAtExit = std::chrono::seconds(5);
  void finish_alerts(Duration limit);

  // The event loop's descriptors: keys for EventLoop, and the agents' fds registered in it.
  static constexpr uint64_t kKeyAdmin = 0, kKeyQuorumdRequests = 1, kKeyQuorumdEvents = 2, kKeyAgentBase = 16;
  // The admin socket and quorumd's two connections, once. An error if one cannot be watched: svcmgr must
  // not run deaf to quorumd's events (a lease at risk, a fence) or to the admin.
  Status register_loop_fds();
  void sync_agent_fds();

  std::unique_ptr<SvcmgrEnv> owned_env_;  // production: start(config) makes one
  SvcmgrEnv& env_;
  SvcmgrConfig config_;
  std::unique_ptr<QuorumdChannel> link_;
  std::unique_ptr<ControlServer> server_;  // null when the env gives no listener
  const Clock& clock_;
  std::optional<EventLoop> loop_;
  TimePoint leave_deadline_{};
  std::map<std::string, Service> services_;
  std::string node_name_, peer_name_;
  uint32_t node_id_ = 0, peer_id_ = 0;
  Duration renew_interval_{std::chrono::milliseconds(500)};
  uint64_t digest_ = 0;
  uint64_t peer_digest_ = 0;
  bool peer_digest_known_ = false;
  PeerLiveness liveness_;
  bool me_standby_ = false, peer_standby_ = false;
  bool peer_takes_requests_ = false;                     // the peer acts on this node's requests
  PeerSummary peer_summary_;                             // the last table-peer reply's view of the peer
  std::vector<uint64_t> started_mark_sent_;              // this node's started mark, as last sent to quorumd
  std::pair<uint64_t, uint64_t> handled_peer_request_;  // (peer life, serial) of the last peer request acted on
  std::optional<TimePoint> lease_expiry_;
  bool lease_at_risk_ = false;
  bool table_read_pending_ = false;
  bool reread_table_ = false;  // read the peer's table again once the read in flight is back
  bool peer_updated_ = false;  // quorumd said the peer changed since the last read was asked (table_read_rule.h)
  bool ever_read_ = false;
  bool quorumd_hints_ = false;  // quorumd sends peer_updated (its status reply says so)
  TimePoint last_read_asked_{};
  TimePoint last_tick_{};
  TimePoint next_tick_{};
  bool settled_ = false;        // startup probes/stops done: may claim
  int exit_code_ = -1;  // -1: running; else the SvcmgrExit run() returns
  bool stopping_all_ = false;
  bool risk_stop_ = false;      // stopping_all_ because the lease was at risk (undone when it is renewed)
  bool leaving_ = false;
  bool quorumd_leaving_ = false;      // quorumd waits for "services-stopped" before it writes DOWN
  bool services_stopped_sent_ = false;
  bool unsafe_takeover_ = false;  // CASTOR_TEST_UNSAFE_TAKEOVER=1: a broken build for testing the checker
  bool corrupt_free_ = false;     // CASTOR_TEST_BUG=corrupt_free: a corrupt peer block counts as no entries
  std::string last_corrupt_text_, last_floor_error_;  // what was last logged about the peer's table
  std::vector<std::string> load_errors_;
  DefinitionStore definitions_;  // saved copies of the definitions loaded
  std::map<std::string, ServiceEntry> own_entries_;  // my entries as last written (epochs are never reused)
  std::map<std::string, ServiceDefinition> pending_defs_;  // changed definitions waiting for their service to stop
  std::set<std::string> removed_;  // services whose file is gone: dropped once idle
  AgentMetadataFetcher metadata_;  // OCF meta-data defaults, per agent, read without blocking the loop
  std::map<std::string, ServiceDefinition> orphan_recheck_;  // redefine_orphan() waiting for meta-data
  std::unique_ptr<AlertDispatcher> alerts_;  // the [alert NAME] programs (none: nothing is reported)
  std::unique_ptr<HistoryLog> history_;
  // The latest records (encoded), for the `history` verb (the web console reads it without root and
  // without a disk read in the loop).
  static constexpr size_t kRecentHistory = 200;
  static constexpr size_t kMaxRecordText = 512;        // bytes of a record's desc and of its reason
  static constexpr size_t kMaxHistoryReply = 256 * 1024;  // the `history` reply: the newest records that fit
  std::deque<std::string> recent_history_;      // STATE_DIR/history/NODE.jsonl (none without a state_dir)
  struct AlertSeen {  // what the alerts last saw of a service
    ServiceRunner::Counts counts;
    uint64_t epoch = 0;  // my entry's epoch, as last recorded (a new one is a claim)
    bool restarting = false;
    std::string last_owner;  // the last node seen running it
  };
  std::map<std::string, AlertSeen> alert_seen_;
  bool alert_definitions_match_ = true;
  PeerView alert_peer_view_ = PeerView::unknown;  // the peer's view the alerts last reported
};

}  // namespace castor
