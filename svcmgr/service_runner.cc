#include "svcmgr/service_runner.h"

#include "agent/process_group_scan.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "common/log.h"

namespace castor {
namespace {

std::string_view action_name(AgentAction a) {
  switch (a) {
    case AgentAction::start: return "start";
    case AgentAction::stop: return "stop";
    case AgentAction::monitor: return "monitor";
    case AgentAction::probe: return "probe";
    case AgentAction::validate: return "validate";
    case AgentAction::meta_data: return "meta-data";
    case AgentAction::status: return "status";
  }
  return "?";
}

}  // namespace

std::string_view service_state_name(ServiceRunner::State s) {
  switch (s) {
    case ServiceRunner::State::stopped: return "stopped";
    case ServiceRunner::State::starting: return "starting";
    case ServiceRunner::State::started: return "started";
    case ServiceRunner::State::stopping: return "stopping";
    case ServiceRunner::State::failed: return "failed";
    case ServiceRunner::State::stop_failed: return "stop_failed";
  }
  return "?";
}

std::string_view probe_result_name(ServiceRunner::ProbeResult r) {
  switch (r) {
    case ServiceRunner::ProbeResult::unknown: return "unknown";
    case ServiceRunner::ProbeResult::all_stopped: return "all_stopped";
    case ServiceRunner::ProbeResult::some_running: return "some_running";
    case ServiceRunner::ProbeResult::error: return "error";
  }
  return "?";
}

ServiceRunner::ServiceRunner(const ServiceDefinition& def, RunContext ctx)
    : def_(def), ctx_(std::move(ctx)), next_monitor_(def.resources.size(), TimePoint::max()) {
  if (ctx_.service.empty()) ctx_.service = def_.name;
}

ServiceRunner::~ServiceRunner() = default;

AgentKind ServiceRunner::kind_of(size_t index) const {
  switch (def_.resources[index].kind) {
    case ResourceDefinition::AgentKind::ocf: return AgentKind::ocf;
    case ResourceDefinition::AgentKind::lsb: return AgentKind::lsb;
    case ResourceDefinition::AgentKind::exec:
    case ResourceDefinition::AgentKind::systemd: break;  // systemd never gets an outcome (unsupported)
  }
  return AgentKind::exec;
}

bool ServiceRunner::monitored(size_t index) const {
  const ResourceDefinition& r = def_.resources[index];
  if (r.monitor_interval <= Millis::zero()) return false;
  if (r.kind == ResourceDefinition::AgentKind::exec && r.monitor_argv.empty()) return false;
  return true;
}

void ServiceRunner::set_state(State s, TimePoint now) {
  if (s == state_) return;
  if (s == State::starting || s == State::stopping) sequence_began_ = now;
  if (state_ == State::starting && s == State::started) {
    last_start_took_ = now - sequence_began_;
    ++counts_.starts;
  }
  if (state_ == State::stopping && s == State::stopped) {
    last_stop_took_ = now - sequence_began_;
    ++counts_.stops;
  }
  log::Level level = s == State::failed ? log::Level::warning
                     : s == State::stop_failed ? log::Level::error
                                               : log::Level::info;
  log::event(level, "service state",
             {{"service", def_.name},
              {"from", service_state_name(state_)},
              {"to", service_state_name(s)},
              {"epoch", ctx_.epoch}});
  state_ = s;
}

Status ServiceRunner::start(uint64_t epoch, TimePoint now) {
  if (state_ != State::stopped || current_ || op_ != Op::none)
    return Error(Code::refused, "service " + def_.name + ": cannot start while " +
                                    std::string(service_state_name(state_)) + (current_ ? " (an action is running)" : ""));
  ctx_.epoch = epoch;
  set_state(State::starting, now);
  op_ = Op::start;
  next_ = 0;
  advance(now);
  return Status::Ok();
}

void ServiceRunner::stop(TimePoint now) {
  if (op_ == Op::stop || stop_pending_) {
    log::event(log::Level::debug, "stop requested while already stopping", {{"service", def_.name}});
    return;
  }
  set_state(State::stopping, now);
  stop_pending_ = true;
  if (current_) {
    // A start (or a stop, which cannot be the case here) runs to its end; a monitor or probe is read-only
    // and is killed, but only while its child is unreaped (pid_fd() >= 0): then its pid and group id are
    // still ours. Without a pidfd it simply runs to its end.
    Current& cur = *current_;
    bool read_only = cur.action == AgentAction::monitor || cur.action == AgentAction::probe;
    if (read_only && cur.proc->pid_fd() >= 0) {
      cur.cancelled = true;
      kill(-cur.proc->pgid(), SIGKILL);
      kill(cur.proc->pid(), SIGKILL);
    }
    return;
  }
  advance(now);
}

Status ServiceRunner::probe(TimePoint now) {
  if (state_ != State::stopped || current_ || op_ != Op::none)
    return Error(Code::refused, "service " + def_.name + ": cannot probe while " +
                                    std::string(service_state_name(state_)) + (current_ ? " (an action is running)" : ""));
  op_ = Op::probe;
  next_ = 0;
  probe_any_running_ = false;
  probe_error_ = false;
  probe_result_ = ProbeResult::unknown;
  advance(now);
  return Status::Ok();
}

std::vector<int> ServiceRunner::fds() const {
  std::vector<int> out;
  if (!current_) return out;
  if (int fd = current_->proc->output_fd(); fd >= 0) out.push_back(fd);
  if (int fd = current_->proc->pid_fd(); fd >= 0) out.push_back(fd);
  return out;
}

void ServiceRunner::on_ready(int fd) {
  if (current_ && fd >= 0 && fd == current_->proc->output_fd()) current_->proc->on_output_ready();
  // The pidfd needs no reading: poll() reaps.
}

void ServiceRunner::poll(TimePoint now) {
  if (current_) {
    if (std::optional<AgentOutcome> o = current_->proc->poll(now)) {
      Current cur = std::move(*current_);
      current_.reset();
      handle_outcome(cur, *o, now);
    }
  }
  advance(now);
  refresh_groups(now);
}

TimePoint ServiceRunner::next_deadline() const {
  TimePoint t = TimePoint::max();
  if (current_) {
    t = current_->proc->next_deadline();
  } else if (state_ == State::started && op_ == Op::none) {
    for (TimePoint m : next_monitor_) t = std::min(t, m);
  }
  if (!groups_.empty()) t = std::min(t, next_group_check_);
  if (op_ == Op::drain) t = std::min(t, next_drain_check_);
  return t;
}

std::vector<pid_t> ServiceRunner::live_process_groups() const {
  std::vector<pid_t> out;
  out.reserve(groups_.size() + 1);
  for (const Tracked& g : groups_) out.push_back(g.pgid);
  if (current_ && (current_->action == AgentAction::start || current_->action == AgentAction::stop) &&
      !current_->proc->done() && std::find(out.begin(), out.end(), current_->proc->pgid()) == out.end())
    out.push_back(current_->proc->pgid());
  return out;
}

std::string ServiceRunner::cgroup_path() const {
  if (ctx_.cgroup_parent.empty()) return "";
  return ctx_.cgroup_parent + (ctx_.node.empty() ? "" : "/" + ctx_.node) + "/" + def_.name;  // castor_cgroup_tree(node)/service by default
}

// --- internals ---

Status ServiceRunner::ensure_cgroup() {
  if (ctx_.cgroup_parent.empty()) return Status::Ok();
  CgroupLimits limits;
  if (def_.memory_max) limits.memory_max = def_.memory_max;
  if (def_.cpu_weight) limits.cpu_weight = def_.cpu_weight;
  if (def_.tasks_max) limits.tasks_max = def_.tasks_max;
  // Opened again at every action: cheap (mkdir EEXIST, a few writes), and the limits of a reloaded
  // definition or a cgroup removed by hand are put back.
  Result<ServiceCgroup> cg = ServiceCgroup::open(cgroup_path(), limits);
  if (!cg.ok()) return cg.status().with_context("the service's cgroup");
  const bool first = !cgroup_;
  cgroup_.emplace(std::move(cg).value());
  if (first && !kill_) {
    // Left frozen by a svcmgr that died during a kill: its processes would hang (and a SIGKILL to a frozen
    // task waits for the thaw). Never while a kill of ours is freezing it.
    if (Result<bool> thawed = cgroup_->thaw_if_left_frozen(); !thawed.ok())
      log::event(log::Level::warning, "cannot check whether the service's cgroup was left frozen",
                 {{"service", def_.name}, {"error", thawed.status().to_string()}});
  }
  return Status::Ok();
}

Status ServiceRunner::kill_cgroup() {
  if (ctx_.cgroup_parent.empty()) return Status::Ok();
  RETURN_IF_ERROR(ensure_cgroup());
  return cgroup_->kill_all();
}

bool ServiceRunner::begin_drain(TimePoint now) {
  if (!cgroup_) return false;
  Result<bool> empty = cgroup_->empty();
  if (empty.ok() && *empty) {
    if (Status st = cgroup_->remove(); !st.ok())
      log::event(log::Level::warning, "cannot remove the service's empty cgroup", {{"service", def_.name}, {"error", st.to_string()}});
    return false;
  }
  Result<std::vector<pid_t>> left = cgroup_->pids();
  log::event(log::Level::notice, "processes left in the service's cgroup after its stop; killing them",
             {{"service", def_.name},
              {"cgroup", cgroup_->relative()},
              {"processes", left.ok() ? int64_t(left->size()) : int64_t(-1)}});
  // In steps: on v1 the kernel's freeze is not waited for here (drain_step() reads its progress).
  kill_ = CgroupKill::start(*cgroup_, now, state_reader_);
  op_ = Op::drain;
  drain_until_ = now + kDrainLimit;
  next_drain_check_ = now;
  return true;
}

bool ServiceRunner::drain_step(TimePoint now) {
  if (kill_) {
    kill_->step(now);
    if (!kill_->done()) {
      next_drain_check_ = kill_->next_deadline();
      return false;
    }
    if (!kill_->result().ok())
      log::event(log::Level::error, "killing the service's cgroup failed", {{"service", def_.name}, {"error", kill_->result().to_string()}});
    kill_.reset();
  }
  Result<bool> empty = cgroup_->empty();
  if (empty.ok() && *empty) {
    if (Status st = cgroup_->remove(); !st.ok())
      log::event(log::Level::warning, "cannot remove the service's empty cgroup", {{"service", def_.name}, {"error", st.to_string()}});
    op_ = Op::none;
    next_drain_check_ = TimePoint::max();
    set_state(stop_had_failure_ ? State::stop_failed : State::stopped, now);
    return true;
  }
  if (now >= drain_until_ || !empty.ok()) {
    std::string why = empty.ok() ? "processes still in the service's cgroup " + cgroup_->relative() + " " +
                                       format_duration(kDrainLimit) + " after they were killed"
                                 : "cannot read the service's cgroup: " + empty.status().to_string();
    log::event(log::Level::error, "service not stopped", {{"service", def_.name}, {"reason", why}});
    last_failure_ = Failure{"", "stop", Severity::hard, why, now};
    ++counts_.failures;
    op_ = Op::none;
    next_drain_check_ = TimePoint::max();
    set_state(State::stop_failed, now);
    return true;
  }
  next_drain_check_ = now + kDrainPoll;
  return false;
}

bool ServiceRunner::launch(size_t index, AgentAction action, TimePoint now) {
  const ResourceDefinition& r = def_.resources[index];
  Result<AgentCommand> cmd = build_agent_command(r, action, ctx_);
  Status failed;
  bool no_cgroup = false;
  if (cmd.ok()) failed = check_agent_program(*cmd);  // a program anyone but root can change never runs
  if (cmd.ok() && failed.ok()) {
    if (Status st = ensure_cgroup(); !st.ok()) {
      no_cgroup = st.code() == Code::already_exists;
      cmd = st;
    } else if (cgroup_) {
      // Only the start agent (whose daemons the limits are for) joins the limit hierarchies; every other
      // agent (stop, monitor, probe, meta-data) joins the membership one alone, so that a service at its own
      // tasks_max or memory_max can still be monitored and stopped (v1; on v2 the one cgroup has both).
      cmd->join_cgroups = action == AgentAction::start ? cgroup_->procs_files()
                                                        : std::vector<std::string>{cgroup_->membership_procs_file()};
    }
  }
  if (cmd.ok() && failed.ok()) {
    Result<std::unique_ptr<AgentProcess>> p = AgentProcess::spawn(*cmd, now);
    if (p.ok()) {
      current_.emplace(Current{});  // not emplace(): clang finds Current (NSDMIs, nested) not default-constructible here
      current_->proc = std::move(p).value();
      current_->index = index;
      current_->action = action;
      current_->began = now;
      return true;
    }
    failed = p.status();
  } else if (!cmd.ok()) {
    failed = cmd.status();
  }
  // A program that does not exist (exec: ENOENT) is "not installed"; a command that cannot be built (no
  // monitor command, an unsupported kind) says nothing about what runs.
  launch_not_installed_ = cmd.ok() && failed.code() == Code::not_found;
  std::string text = "cannot run: " + failed.to_string();
  // A cgroup whose name a kernel control file takes can never have existed, so no agent of this service
  // ever ran here: a probe counts it as not running and a stop as done (a start fails), rather than a probe
  // error and a stop_failed that would fence the node for a service that runs nothing.
  if (no_cgroup && (action == AgentAction::probe || action == AgentAction::stop)) {
    log::event(log::Level::warning, "agent action",
               {{"service", def_.name},
                {"resource", r.name},
                {"action", action_name(action)},
                {"result", text + "; it has no cgroup, so nothing of it runs here: counted as stopped"}});
    apply(index, action, action == AgentAction::stop ? Severity::ok : Severity::not_running, text, /*ran=*/true, now);
    return false;
  }
  log::event(action == AgentAction::stop ? log::Level::error : log::Level::warning, "agent action",
             {{"service", def_.name},
              {"resource", r.name},
              {"action", action_name(action)},
              {"result", text},
              {"elapsed", format_duration(Duration::zero())}});
  apply(index, action, Severity::hard, text, /*ran=*/false, now);
  return false;
}

void ServiceRunner::handle_outcome(const Current& cur, const AgentOutcome& o, TimePoint now) {
  const ResourceDefinition& r = def_.resources[cur.index];
  if (cur.cancelled) {
    log::event(log::Level::info, "agent action cancelled by stop",
               {{"service", def_.name},
                {"resource", r.name},
                {"action", action_name(cur.action)},
                {"elapsed", format_duration(o.elapsed)}});
    return;  // stop_pending_ is set: advance() stops the service
  }
  Classified c = classify(kind_of(cur.index), cur.action, o);

  log::Level level = log::Level::info;
  if (c.severity == Severity::ok) {
    if (cur.action == AgentAction::monitor) level = log::Level::debug;  // every interval: not news
  } else if (cur.action == AgentAction::stop) {
    level = log::Level::error;
  } else if (!(cur.action == AgentAction::probe &&
               (c.severity == Severity::not_running || c.severity == Severity::hard))) {
    level = log::Level::warning;
  }
  log::event(level, "agent action",
             {{"service", def_.name},
              {"resource", r.name},
              {"action", action_name(cur.action)},
              {"result", c.text},
              {"severity", severity_name(c.severity)},
              {"elapsed", format_duration(o.elapsed)}});

  // After a timeout AgentProcess has emptied (or SIGKILLed) the group; after a normal exit the group is
  // left alone and whatever the action left running in it belongs to the service.
  if (!o.timed_out && group_has_live_member(cur.proc->pgid())) track_group(cur.proc->pgid(), cur.index, now);

  apply(cur.index, cur.action, c.severity, c.text, /*ran=*/true, now);
}

void ServiceRunner::apply(size_t index, AgentAction action, Severity sev, const std::string& text, bool ran,
                          TimePoint now) {
  switch (op_) {
    case Op::start:
      if (sev == Severity::ok) {
        ++next_;
      } else {
        record_failure(index, action, sev, text, now);
        op_ = Op::none;
        if (!stop_pending_) set_state(State::failed, now);  // else advance() goes on to stopping
      }
      break;
    case Op::stop:
      if (sev != Severity::ok) {
        record_failure(index, action, sev, text, now);
        stop_had_failure_ = true;
      }
      if (next_ > 0) --next_;
      break;
    case Op::probe:
      // An agent program that does not exist here cannot have started anything here:
      // like Pacemaker's "not installed" answer to a probe, that counts as stopped. Otherwise the node
      // would try to stop it, fail (the stop cannot run either) and fence for nothing.
      if (ran && sev == Severity::ok) {
        probe_any_running_ = true;
      } else if (!ran && launch_not_installed_) {
        log::notice("probe: the agent is not installed here, so it runs nothing: counted as not running",
                    {{"service", def_.name}, {"resource", def_.resources[index].name}, {"reason", text}});
      } else if (!ran || !(sev == Severity::not_running || sev == Severity::hard)) {
        probe_error_ = true;
        record_failure(index, action, sev, text, now);
      }
      ++next_;
      break;
    case Op::monitor:
      op_ = Op::none;
      if (sev == Severity::ok) {
        next_monitor_[index] = now + def_.resources[index].monitor_interval;
      } else {
        record_failure(index, action, sev, text, now);
        std::fill(next_monitor_.begin(), next_monitor_.end(), TimePoint::max());
        if (!stop_pending_) set_state(State::failed, now);
      }
      break;
    case Op::drain:
    case Op::none: break;
  }
}

void ServiceRunner::set_timings(const ServiceDefinition& def, TimePoint now) {
  for (size_t i = 0; i < def_.resources.size() && i < def.resources.size(); ++i) {
    ResourceDefinition& r = def_.resources[i];
    const ResourceDefinition& t = def.resources[i];
    if (r.name != t.name) continue;
    r.start_timeout = t.start_timeout;
    r.stop_timeout = t.stop_timeout;
    r.monitor_timeout = t.monitor_timeout;
    r.monitor_interval = t.monitor_interval;
  }
  if (std::exchange(held_, false)) advance(now);
}

void ServiceRunner::advance(TimePoint now) {
  const size_t n = def_.resources.size();
  if (held_) return;  // waiting for the timings: set_timings() resumes
  while (!current_) {
    if (stop_pending_) {
      stop_pending_ = false;
      op_ = Op::stop;
      next_ = n;
      stop_had_failure_ = false;
      std::fill(next_monitor_.begin(), next_monitor_.end(), TimePoint::max());
      set_state(State::stopping, now);
    }
    switch (op_) {
      case Op::start:
        if (next_ >= n) {
          op_ = Op::none;
          set_state(State::started, now);
          schedule_monitors(now);
          continue;
        }
        launch(next_, AgentAction::start, now);
        continue;
      case Op::stop:
        if (next_ == 0) {
          op_ = Op::none;
          if (begin_drain(now)) continue;
          set_state(stop_had_failure_ ? State::stop_failed : State::stopped, now);
          return;
        }
        launch(next_ - 1, AgentAction::stop, now);
        continue;
      case Op::drain:
        if (now < next_drain_check_) return;
        drain_step(now);
        return;
      case Op::probe:
        if (next_ >= n) {
          op_ = Op::none;
          if (cgroup_) {
            // Whatever the agents say, processes in the service's cgroup mean it runs here.
            Result<bool> empty = cgroup_->empty();
            if (!empty.ok() || !*empty) {
              log::event(log::Level::notice, "probe: the service's cgroup holds processes",
                         {{"service", def_.name}, {"cgroup", cgroup_->relative()},
                          {"error", empty.ok() ? std::string() : empty.status().to_string()}});
              if (empty.ok()) probe_any_running_ = true;
              else probe_error_ = true;
            }
          }
          probe_result_ = probe_error_         ? ProbeResult::error
                          : probe_any_running_ ? ProbeResult::some_running
                                               : ProbeResult::all_stopped;
          log::event(probe_result_ == ProbeResult::all_stopped ? log::Level::info : log::Level::notice,
                     "service probed", {{"service", def_.name}, {"result", probe_result_name(probe_result_)}});
          return;
        }
        launch(next_, AgentAction::probe, now);
        continue;
      case Op::monitor:  // its outcome was applied (apply() resets op_); nothing else to do
        op_ = Op::none;
        continue;
      case Op::none: {
        if (state_ != State::started) return;
        // The most overdue monitor first; ties in file order.
        size_t due = n;
        for (size_t i = 0; i < n; ++i)
          if (next_monitor_[i] <= now && (due == n || next_monitor_[i] < next_monitor_[due])) due = i;
        if (due == n) return;
        op_ = Op::monitor;
        launch(due, AgentAction::monitor, now);
        continue;
      }
    }
  }
}

void ServiceRunner::schedule_monitors(TimePoint now) {
  for (size_t i = 0; i < def_.resources.size(); ++i)
    next_monitor_[i] = monitored(i) ? now + def_.resources[i].monitor_interval : TimePoint::max();
}

void ServiceRunner::record_failure(size_t index, AgentAction action, Severity sev, const std::string& text,
                                   TimePoint now) {
  last_failure_ = Failure{def_.resources[index].name, std::string(action_name(action)), sev, text, now};
  ++counts_.failures;
}

void ServiceRunner::track_group(pid_t pgid, size_t index, TimePoint now) {
  for (const Tracked& g : groups_)
    if (g.pgid == pgid) return;
  if (groups_.size() >= kMaxTrackedGroups) {
    log::event(log::Level::error, "too many live process groups; not tracking another (a fence will not kill it)",
               {{"service", def_.name}, {"resource", def_.resources[index].name}, {"pgid", pgid}});
    return;
  }
  log::event(log::Level::info, "agent action left processes running",
             {{"service", def_.name}, {"resource", def_.resources[index].name}, {"pgid", pgid}});
  groups_.push_back({pgid, index});
  if (next_group_check_ == TimePoint::max()) next_group_check_ = now + kGroupCheckInterval;
}

void ServiceRunner::refresh_groups(TimePoint now) {
  if (groups_.empty()) {
    next_group_check_ = TimePoint::max();
    return;
  }
  // Cheap check at every poll (the group id is free: every member is gone and reaped); the /proc scan
  // for zombie-only groups at most every kGroupCheckInterval.
  bool full = now >= next_group_check_;
  std::erase_if(groups_, [&](const Tracked& g) {
    bool gone = full ? !group_has_live_member(g.pgid) : (kill(-g.pgid, 0) != 0 && errno == ESRCH);
    if (gone)
      log::event(log::Level::info, "process group ended",
                 {{"service", def_.name}, {"resource", def_.resources[g.index].name}, {"pgid", g.pgid}});
    return gone;
  });
  if (groups_.empty()) {
    next_group_check_ = TimePoint::max();
  } else if (full) {
    next_group_check_ = now + kGroupCheckInterval;
  }
}

}  // namespace castor
