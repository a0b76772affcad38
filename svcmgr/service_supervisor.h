// ServiceSupervisor: what svcmgr keeps about ONE service on this node — its definitions, its Ownership
// (the disk protocol), its ServiceRunner (the agents), the admin requests not yet on the disk, its failure
// record — and the named transitions of its local life cycle (probe at start-up, stop, restart in place,
// start after a stop, orphaned and reset, replaced by a newer definition, failed). The daemon decides
// WHEN a transition happens (placement, Ownership's steps, the admin, quorumd's events) and logs it; the
// supervisor only keeps the state consistent.
// Must never decide placement or ownership, never talk to quorumd, never block, never start a service
// on its own (every start is asked for by the daemon with an epoch Ownership gave it).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "config/service_definition.h"
#include "svcmgr/ownership.h"
#include "svcmgr/service_runner.h"

namespace castor {

// Whether an entry in this state says the service may run on its writer's node.
bool entry_up(OwnershipState s);

class ServiceSupervisor {
 public:
  // Whether svcmgr knows the definition an instance running here runs under.
  enum class Standing : uint8_t {
    managed,
    // My entry is up but there is no definition at all (its file was removed while svcmgr was down, and
    // no saved copy exists): it may still run here, unmanaged. The entry stays up (the peer must not start
    // it) until the admin stopped it by hand and says so with `castor reset NAME`.
    orphaned,
    // Orphaned because the definition it runs under is unknown: my entry was up at start, no saved copy
    // exists, and the digest in my entry is not the file's definition's (review R3). Same handling.
    orphaned_definition_unknown,
  };

  // What the runner reaching "stopped" means for the supervisor (on_runner_stopped()).
  enum class AfterStop : uint8_t {
    nothing,           // already reported (or nothing was asked since the last report)
    restart_in_place,  // a restart in place was in progress: start again with Ownership's epoch
    start_pending,     // a start waited for this stop: start with start_epoch
    report_stopped,    // tell Ownership it is stopped
  };
  struct StopVerdict {
    AfterStop what = AfterStop::nothing;
    uint64_t start_epoch = 0;
  };

  ServiceSupervisor() = default;
  ServiceSupervisor(ServiceSupervisor&&) = default;
  ServiceSupervisor& operator=(ServiceSupervisor&&) = default;

  // --- Standing ---
  Standing standing() const { return standing_; }
  bool orphaned() const { return standing_ != Standing::managed; }
  bool definition_unknown() const { return standing_ == Standing::orphaned_definition_unknown; }
  // Nothing trusted to stop it with: its stop is never reported to Ownership (the entry stays up).
  void mark_orphaned(bool definition_unknown);
  // The admin stopped it by hand (`castor reset`): managed again. Returns whether the definition it ran
  // under was unknown (the file's definition is the one in force from now on).
  bool clear_orphan();
  // What status and the refused admin verbs say of an orphaned service.
  std::string orphan_text() const;

  // --- Start-up probe ---
  // Probes whether anything runs here from an earlier life; if the probe cannot be run, stops it instead.
  void begin_probe(TimePoint now);
  bool probing() const { return probing_; }
  // The probe in flight finished (runner idle): ends the probing state and gives its result.
  ServiceRunner::ProbeResult finish_probe();

  // --- Stop / start / restart ---
  // Asks the runner to stop; the stop is reported to Ownership once the runner is stopped.
  void stop(TimePoint now);
  // A start Ownership allows with `epoch`. A runner that refuses (not stopped yet) starts after its stop.
  void start_or_defer(uint64_t epoch, TimePoint now);
  // Starts with `epoch` once the runner, now stopping, is stopped (the lease risk passed).
  void start_after_stop(uint64_t epoch);
  // Stops, then starts again in place with the same epoch (admin restart, recovery, a peer's request).
  void restart_in_place(TimePoint now);
  bool restarting() const { return restarting_; }
  // The runner is stopped and idle: what that means (each verdict is given once per stop). `may_start`:
  // Ownership allows it to run here and svcmgr is not stopping everything.
  StopVerdict on_runner_stopped(bool may_start, uint64_t ownership_epoch);
  int restarts() const { return restarts_; }

  // --- Failures ---
  // `hard`: the agent says it cannot run here (hard or fatal severity) until `castor reset`.
  void record_failure(const std::string& text, bool hard, TimePoint now);
  // Failed while frozen: no recovery, only the status text.
  void note_failure_while_frozen(TimePoint now);
  void reset_failures();  // `castor reset`
  // Failed here: a hard failure, or more than max_restarts failures within the restart window.
  bool failed_here(TimePoint now);
  bool hard_failure() const { return hard_failure_; }
  const std::string& last_failure() const { return last_failure_; }
  TimePoint last_failure_at() const { return last_failure_at_; }

  // --- Process groups registered with quorumd (so a fence kills them) ---
  // Returns the groups to register and to unregister to match `live`.
  struct GroupChanges {
    std::vector<pid_t> added, removed;
  };
  GroupChanges track_groups(const std::vector<pid_t>& live);

  // --- Data the daemon reads and writes directly (no invariant ties them together) ---
  ServiceDefinition def;       // in force: the file's, with the agents' meta-data defaults applied
  ServiceDefinition file_def;  // exactly what the file says (the digest covers this)
  std::unique_ptr<Ownership> own;
  std::unique_ptr<ServiceRunner> runner;
  std::optional<ServiceEntry> peer_entry;  // the peer's entry as last known (in use)
  std::string peer_unknown;                // "corrupt record at block N" when the peer's entry is unknown
  std::optional<uint32_t> peer_block;      // the peer's table block it was last seen in (if quorumd says)
  std::optional<bool> freeze_request;      // a local freeze/unfreeze not yet on the disk
  bool restart_request = false;            // a restart asked here for a service the peer runs
  uint64_t last_restart_handled = 0;       // ballot of the last peer restart request honoured
  bool disable_requested = false;
  std::optional<uint32_t> relocate_to;     // local admin request while this node runs it
  // Running (or probed) under the saved copy of the definition it was started under; this one, the
  // file's, replaces it once that instance is proven stopped, before anything may be claimed (review R3).
  std::optional<ServiceDefinition> replace_with;
  std::string last_placement;  // the reason of the last placement decision (logged when it changes)
  // Its agents' meta-data is being read (asynchronously): `def` has no agent timings yet, its runner holds
  // every action, and it is neither placed nor claimed until the timings are in (or failed: defaults).
  bool metadata_pending = false;
  // At start, my entry is up and the digests must decide which definition it runs under (no saved copy, or
  // a copy that is not the file's, or the file is gone): they cover the agents' timings, so only once in.
  // Until then it is probed by no one and counts as possibly running here (never settled, never "stopped").
  bool adopt_pending = false;
  // With adopt_pending: the saved copy whose digest is to be compared too (adopt_service), or the decision
  // is adopt_removed()'s (its file is gone; the placeholder runs under the copy).
  std::optional<ServiceDefinition> adopt_copy;
  bool adopt_removed = false;

 private:
  Standing standing_ = Standing::managed;
  bool probing_ = false;           // start-up probe in flight: is anything running here?
  bool stop_reported_ = false;     // the runner's last stop was reported to Ownership
  bool restarting_ = false;        // stop then start again in place
  std::optional<uint64_t> pending_start_;  // start as soon as the runner is stopped
  int restarts_ = 0;               // shown in status
  std::vector<TimePoint> failures_;  // within restart_window
  bool hard_failure_ = false;      // cannot run here until reset
  std::string last_failure_;
  TimePoint last_failure_at_{};
  std::vector<pid_t> registered_groups_;
};

}  // namespace castor
