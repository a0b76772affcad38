// ServiceRunner: runs ONE service's resources on this node - start in file order, stop in reverse,
// probe, periodic monitors - one agent action at a time, asynchronously, driven by the daemon's event
// loop (fds() / on_ready() / poll() / next_deadline()). It reports states and failures; the caller
// decides recovery (restart, relocate, fence) and ownership.
// Must never block the event loop (agents run as AgentProcess, each with its timeout, in its own process
// group), never decide recovery or ownership, never signal a process it did not start, never run two
// actions of one service at once, and never skip the stop of a resource when asked to stop.
//
// Actions and states:
//  * start(epoch): resources in file order; the first start that is not ok makes the state failed (no
//    further starts; resources may be partly up). All ok: started, and monitoring begins.
//  * stop(): every resource in reverse order, whatever happened before (also resources whose start
//    failed or that were never started: OCF stop is idempotent, and exec/LSB stops must be too). A stop
//    that is not ok (failed, timed out, could not be run) does not end the sequence - the remaining
//    resources are still stopped - but the final state is stop_failed: the service may still run here and
//    the node must fence. stop() during a start lets the start action in flight finish (it is never
//    killed half-way), then stops everything; during a monitor or probe, that action is killed (SIGKILL to
//    its group; its result is dropped) and the stops follow. stop() while stopping is ignored; stop() when
//    stopped or stop_failed runs the whole sequence again.
//  * probe(): monitor with interval 0 on every resource (in file order), while stopped: all not running
//    (OCF "not running", or a hard error, which for a probe means it cannot run here) -> all_stopped; any
//    running -> some_running; any other result (soft/fatal error, timeout, an exec resource without a
//    monitor command, an agent that cannot be run) -> error, which wins over some_running: the state is
//    unknown and the caller should stop the service (stop_failed then means fence).
//  * monitoring: while started, each resource with monitor_interval > 0 is monitored every interval,
//    counted from the end of its previous monitor (or of the start); one action at a time: when several
//    are due they run one after the other, in file order. A result other than ok (including "not
//    running") makes the state failed and ends monitoring.
// A command that cannot be built or spawned (systemd resource, missing agent) counts as a failed action
// with severity hard (stop: stop_failed).
//
// Event loop: fds() are the descriptors of the action in flight (its output pipe and pidfd); the set
// changes after on_ready() and poll() (re-read it after each, EPOLL_CTL_DEL the ones that went away; the
// old numbers stay open until the action's outcome is delivered by poll(), so a DEL on them is safe).
// Call on_ready(fd) when one is readable, and poll(now) after any fd event and at next_deadline().
//
// Process groups: live_process_groups() lists the group of a start or stop action in flight, and the
// groups of finished actions (any exit code) that left live processes behind (an exec start whose daemon
// stays in its group). The daemon registers these with quorumd, so that a fence kills them. A group drops
// out once none of its processes is alive (zombies do not count), checked at every poll and at least
// every kGroupCheckInterval while any is listed. At most kMaxTrackedGroups are kept (more is logged as an
// error; restarts of a service that never stops its daemons would otherwise grow the list without bound).
//
// Cgroup: with ctx.cgroup_parent set, every action runs in the service's cgroup
// <cgroup_parent>/<node>/<service> (ServiceCgroup: created at the first action, with the definition's
// limits; a cgroup that cannot be set up makes the action fail as "cannot run"; only the start agent joins
// the limit hierarchies on v1, every other agent the freezer one alone). The stop sequence ends
// by killing whatever is left in the cgroup (daemons that double-forked or called setsid included);
// "stopped" means the cgroup is empty (checked every kDrainPoll, up to kDrainLimit, then stop_failed),
// and the empty cgroup is removed. That kill runs in steps (CgroupKill: on v1 the freeze's progress is read
// at the runner's deadline, never waited for), so the loop keeps running while the kernel freezes. A
// cgroup found frozen at the runner's first use of it (a svcmgr that died mid-kill) is thawed. A probe that finds processes in the cgroup answers some_running.
//
// Timings: a runner told hold_until_timings() launches nothing (start(), stop() and probe() are accepted
// and wait, not idle()) until set_timings() gives each resource its timeouts and monitor interval: the
// daemon reads its agents' meta-data asynchronously, and no action may run with a timeout meta-data would
// have changed.
//
// Destroying a runner with an action in flight SIGKILLs that action's group (AgentProcess's destructor).
// Not thread-safe: one event loop owns a runner. Memory is bounded (per resource, plus one failure
// record and the capped group list); agent output is logged in one line and then dropped.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "agent/agent_command_builder.h"
#include "agent/agent_process.h"
#include "agent/agent_result.h"
#include "agent/service_cgroup.h"
#include "config/service_definition.h"

namespace castor {

class ServiceRunner {
 public:
  static constexpr size_t kMaxTrackedGroups = 256;
  static constexpr Duration kGroupCheckInterval = std::chrono::seconds(1);
  static constexpr Duration kDrainPoll = std::chrono::milliseconds(20);
  static constexpr Duration kDrainLimit = std::chrono::seconds(10);

  enum class State {
    stopped,
    starting,
    started,
    stopping,
    failed,       // a start or monitor failed; resources may be partly up: the caller decides (stop,
                  // restart, relocate)
    stop_failed,  // a stop failed or timed out: the service may still run; the node must fence
  };
  enum class ProbeResult { unknown /* never probed, or a probe in flight or cancelled */, all_stopped, some_running, error };

  struct Failure {
    std::string resource;
    std::string action;  // "start", "stop", "monitor", "probe"
    Severity severity = Severity::soft;
    std::string text;    // classify()'s text, or why the action could not be run
    TimePoint at;
  };

  // ctx.epoch is replaced at start(); an empty ctx.service becomes def.name.
  ServiceRunner(const ServiceDefinition& def, RunContext ctx);
  ~ServiceRunner();
  ServiceRunner(const ServiceRunner&) = delete;
  ServiceRunner& operator=(const ServiceRunner&) = delete;

  // Starts the resources in file order under `epoch`. Refused (Code::refused, nothing done) unless the
  // state is stopped and no action (a probe) is in flight.
  Status start(uint64_t epoch, TimePoint now);
  // Stops every resource in reverse order (see above). Always accepted.
  void stop(TimePoint now);
  // Probes every resource; result via probe_result() once idle(). Refused unless stopped and idle.
  Status probe(TimePoint now);

  std::vector<int> fds() const;
  void on_ready(int fd);
  void poll(TimePoint now);
  TimePoint next_deadline() const;  // TimePoint::max() when idle with nothing to monitor or track

  // See "Timings" above. set_timings() copies every resource's timings from `def` (the same definition
  // with its agents' meta-data applied) and launches whatever waited.
  void hold_until_timings() { held_ = true; }
  void set_timings(const ServiceDefinition& def, TimePoint now);
  bool held() const { return held_; }

  State state() const { return state_; }
  // No agent action in flight, and none waiting for the timings.
  bool idle() const { return !current_ && !(held_ && (op_ != Op::none || stop_pending_)); }
  const std::optional<Failure>& last_failure() const { return last_failure_; }
  // How long the last start that ended started, and the last stop that ended stopped, took (from start() or
  // stop() to the state): nullopt before the first of each.
  std::optional<Duration> last_start_took() const { return last_start_took_; }
  std::optional<Duration> last_stop_took() const { return last_stop_took_; }
  // Since this runner was made: starts that ended started, stops that ended stopped, failures recorded (each
  // one last_failure() in turn). What happened between two looks at state(), which can pass through
  // failed or stopped and on within one poll (svcmgr's alerts count on them).
  struct Counts {
    uint64_t starts = 0, stops = 0, failures = 0;
  };
  const Counts& counts() const { return counts_; }
  std::vector<pid_t> live_process_groups() const;
  uint64_t epoch() const { return ctx_.epoch; }
  ProbeResult probe_result() const { return probe_result_; }
  const ServiceDefinition& definition() const { return def_; }
  // The service's cgroup once an action created it (nullptr without cgroups).
  const ServiceCgroup* cgroup() const { return cgroup_ ? &*cgroup_ : nullptr; }
  // <cgroup_parent>/<node>/<service>, or "" without cgroups.
  std::string cgroup_path() const;
  // SIGKILLs everything in the service's cgroup now (the daemon's "every service is killed": fence,
  // lease lost; svcmgr exits right after), without running any agent; blocks while the kernel freezes
  // the cgroup (bounded: ServiceCgroup::kFreezeLimit), as a fence must finish. An action in flight is killed with it (its outcome comes as
  // a signal). Ok without cgroups.
  Status kill_cgroup();
  // Test seam: how the freeze's progress is read (default: the kernel's file).
  void set_cgroup_state_reader(CgroupStateReader read) { state_reader_ = std::move(read); }

 private:
  enum class Op { none, start, stop, probe, monitor, drain /* stops done; emptying the cgroup */ };
  struct Current {
    std::unique_ptr<AgentProcess> proc;
    size_t index = 0;
    AgentAction action = AgentAction::start;
    TimePoint began;
    bool cancelled = false;  // killed by stop(); the outcome is dropped
  };
  struct Tracked {
    pid_t pgid;
    size_t index;  // the resource whose action left it
  };

  bool launch(size_t index, AgentAction action, TimePoint now);  // false: could not run (already applied)
  void handle_outcome(const Current& cur, const AgentOutcome& o, TimePoint now);
  void apply(size_t index, AgentAction action, Severity sev, const std::string& text, bool ran, TimePoint now);
  void advance(TimePoint now);  // launches the next action of the sequence in progress, or ends it
  void set_state(State s, TimePoint now);
  void schedule_monitors(TimePoint now);
  void record_failure(size_t index, AgentAction action, Severity sev, const std::string& text, TimePoint now);
  void track_group(pid_t pgid, size_t index, TimePoint now);
  void refresh_groups(TimePoint now);
  bool monitored(size_t index) const;
  Status ensure_cgroup();
  bool begin_drain(TimePoint now);  // false: nothing to drain
  bool drain_step(TimePoint now);   // true: the drain ended (state set)
  AgentKind kind_of(size_t index) const;

  ServiceDefinition def_;
  RunContext ctx_;

  State state_ = State::stopped;
  Op op_ = Op::none;
  std::optional<Current> current_;
  size_t next_ = 0;            // start/probe: next index to run; stop: how many are left to stop
  bool stop_pending_ = false;  // stop() came while another action was in flight
  bool stop_had_failure_ = false;
  bool probe_any_running_ = false, probe_error_ = false;
  bool launch_not_installed_ = false;
  bool held_ = false;  // hold_until_timings(): nothing launches before set_timings()  // the last launch failed because its program does not exist
  ProbeResult probe_result_ = ProbeResult::unknown;
  std::vector<TimePoint> next_monitor_;  // per resource; TimePoint::max() = not monitored
  std::optional<Failure> last_failure_;
  TimePoint sequence_began_;  // when the state last became starting or stopping
  std::optional<Duration> last_start_took_, last_stop_took_;
  Counts counts_;
  std::vector<Tracked> groups_;
  TimePoint next_group_check_ = TimePoint::max();
  std::optional<ServiceCgroup> cgroup_;
  TimePoint drain_until_ = TimePoint::max();
  TimePoint next_drain_check_ = TimePoint::max();
  std::unique_ptr<CgroupKill> kill_;  // the drain's kill while the kernel freezes the cgroup
  CgroupStateReader state_reader_;
};

std::string_view service_state_name(ServiceRunner::State s);        // "stopped", "starting", ...
std::string_view probe_result_name(ServiceRunner::ProbeResult r);  // "unknown", "all_stopped", ...

}  // namespace castor
