// The daemon's side of power fencing: runs the fence agent actions the PowerFencer asks for (one at a time,
// an AgentProcess in the loop), tells the core when a fence starts and when the peer's power was confirmed
// off, and answers `castor fence` and the status. Must never decide what the fencer or the core decide,
// and never block the loop (the start-up metadata check is the only blocking agent run).
#include <sys/epoll.h>

#include <algorithm>

#include "common/log.h"
#include "quorumd/quorum_daemon.h"

namespace castor {
namespace {

constexpr uint64_t kKeyFence = 8;  // + 0 output, + 1 pidfd (the loop only wakes up; fence_step polls)
int64_t ms_of(Duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

}  // namespace

Status QuorumDaemon::setup_power_fence() {
  for (const FenceDeviceConfig& d : config_.fence)
    if (!superblock_.node_named(d.node))
      return Error(Code::refused, d.file + ":" + std::to_string(d.line) + ": [fence " + d.node + "] names no node of "
                                      "cluster '" + superblock_.cluster_name + "' (its nodes: " +
                                      superblock_.nodes[0].name + ", " + superblock_.nodes[1].name + ")");
  const FenceDeviceConfig* peer = fence_device_for(config_.fence, peer_name_);
  if (!peer) return Status::Ok();
  auto cmd = fence_agent_command(*peer, FenceAgentAction::metadata);
  if (!cmd.ok()) return cmd.status().with_context("[fence " + peer->node + "]");
  auto meta = run_agent(*cmd, clock_);
  if (!meta.ok()) return meta.status().with_context("[fence " + peer->node + "]: reading the agent's metadata");
  if (meta->exit_code != 0 || meta->timed_out)
    return Error(Code::refused, "[fence " + peer->node + "]: " + peer->agent + " metadata failed: " +
                                    interpret_fence_outcome(FenceAgentAction::metadata, *meta).text);
  const auto params = parse_fence_metadata_parameters(meta->output_tail);
  if (params.empty())
    return Error(Code::refused, "[fence " + peer->node + "]: " + peer->agent + " printed no parameters in its metadata");
  RETURN_IF_ERROR(check_fence_options(*peer, params));
  RETURN_IF_ERROR(check_power_fence_metadata(*peer, meta->output_tail));
  // A failed fence round is tried again after the dead time: by then the ordinary verdict has decided.
  fencer_ = std::make_unique<PowerFencer>(*peer, superblock_.timing.dead);
  log::notice("power fencing of the peer configured", {{"peer", peer_name_}, {"device", peer->describe()},
                                                       {"suspicion_ms", ms_of(suspicion_time())}});
  return Status::Ok();
}

// docs/design.md "Power fencing": without a LAN 2T (a peer whose writes all complete within T changes its block
// at least every R + T = 1.5T: a slow but working peer is never fenced); with a LAN T, the peer silent there
// too (a slow peer is fenced only when every link is cut as well; two nodes that then suspect each other
// are kept from fencing each other by the fence intent).
Duration QuorumDaemon::suspicion_time() const {
  return config_.lan.enabled() ? superblock_.timing.io_timeout : 2 * superblock_.timing.io_timeout;
}

void QuorumDaemon::start_fence_action(FenceAgentAction action, TimePoint now) {
  fence_proc_action_ = action;
  fence_generation_ = fence_generation_ ? fence_generation_ : generation_;
  auto cmd = fence_agent_command(fencer_->device(), action);
  Result<std::unique_ptr<AgentProcess>> p = cmd.ok() ? AgentProcess::spawn(*cmd, now)
                                                     : Result<std::unique_ptr<AgentProcess>>(cmd.status());
  if (!p.ok()) {
    end_fence_action({FenceVerdict::failed, std::string(fence_agent_action_name(action)) + ": cannot run the agent (" +
                                                p.status().to_string() + ")"},
                     now);
    return;
  }
  fence_proc_ = std::move(p).value();
  fence_fds_.clear();
  for (int i = 0; i < 2; ++i) {
    const int fd = i == 0 ? fence_proc_->output_fd() : fence_proc_->pid_fd();
    if (fd >= 0 && loop_ && loop_->add_fd(fd, EPOLLIN, kKeyFence + uint64_t(i)).ok()) fence_fds_.push_back(fd);
  }
  log::info(fencer_->probing_ahead() ? "fence agent action started ahead of the suspicion (a status: no power is touched)"
                                     : "fence agent action started",
            {{"peer", peer_name_}, {"agent", fencer_->device().agent}, {"action", fence_agent_action_name(action)}});
}

void QuorumDaemon::end_fence_action(const FenceAgentResult& r, TimePoint now) {
  const bool ok = r.verdict != FenceVerdict::failed;
  log::event(ok ? log::Level::notice : log::Level::error, "fence agent action ended",
             {{"peer", peer_name_}, {"agent", fencer_->device().agent},
              {"action", fence_agent_action_name(fence_proc_action_)}, {"result", r.text}});
  const bool was_failed = fencer_->phase() == PowerFencer::Phase::failed;
  fencer_->on_result(fence_proc_action_, r, now);
  if (!was_failed && fencer_->phase() == PowerFencer::Phase::failed)
    log::error(core_->peer().no_dead_time()
                   ? "power fence of the peer failed: it runs without a watchdog (or is taken so), so the dead time "
                     "does not decide; tried again after the dead time, or castor fence PEER --confirm-off"
                   : "power fence of the peer failed: the dead time decides, as without power fencing",
               {{"peer", peer_name_}, {"agent", fencer_->device().agent},
                {"result", fencer_->last() ? fencer_->last()->result : r.text},
                {"next_round_in_ms", ms_of(superblock_.timing.dead)}});
}

void QuorumDaemon::fence_step(TimePoint now) {
  if (core_->peer().no_dead_time() != warned_peer_no_watchdog_) {
    warned_peer_no_watchdog_ = !warned_peer_no_watchdog_;
    if (warned_peer_no_watchdog_)
      log::event(fencer_ ? log::Level::notice : log::Level::error,
                 !core_->peer().no_watchdog_known()
                     ? "the peer is taken for one without a watchdog (nothing known of it here) until it is seen "
                       "running with one: not taken over on the dead time, and not power fenced before it was "
                       "seen -- this node waits for it, or for castor fence PEER --confirm-off"
                 : fencer_ ? "the peer runs without a watchdog: it is taken over only after a confirmed power fence"
                         : "the peer runs without a watchdog and this node has no [fence] for it: its services are "
                           "never taken over unless it leaves cleanly",
                 {{"peer", peer_name_}, {"incarnation", core_->peer().incarnation()}});
    else
      log::notice("the peer is seen running with a watchdog: the dead time declares it dead again",
                  {{"peer", peer_name_}, {"incarnation", core_->peer().incarnation()}});
  }
  if (!fencer_) return;
  if (fence_proc_) {
    for (int fd : fence_fds_)
      if (fd == fence_proc_->output_fd()) fence_proc_->on_output_ready();
    // A descriptor that turned -1 (output at EOF, child reaped) was closed by the AgentProcess, which took
    // it out of the epoll set; its old number is forgotten, never passed to epoll_ctl.
    std::erase_if(fence_fds_, [&](int fd) { return fd != fence_proc_->output_fd() && fd != fence_proc_->pid_fd(); });
    // The agent is a process of its own: it runs on while this one is paused. Its end is taken from a clock
    // read after the reap, never the turn's (read before): the settle counts from the end of the off, and a
    // pause of quorumd since the turn's clock read must not make the off look ended before it did.
    if (auto outcome = fence_proc_->poll(clock_.now())) {
      const TimePoint ended = clock_.now();
      fence_fds_.clear();  // closed by poll() (the outcome) or when the fence_proc_ goes below
      fence_proc_.reset();
      end_fence_action(interpret_fence_outcome(fence_proc_action_, *outcome), ended);
    }
  }
  const PeerMonitor& pm = core_->peer();
  FenceSituation s;
  // Whether this node may fence, from a clock read now too, and the next agent action started at that time:
  // a quorumd paused since the turn's clock read (a node without a watchdog is reset by nothing) must not
  // start an off on a lease that ended during the pause.
  // A round that reached its probe in an earlier life of the core (this node lost its lease meanwhile and
  // rejoined) is not carried on by this one: its announce, its look and an admin's acceptance belonged to the
  // lapsed life, and the peer may have yielded to it (a --force round goes on: it asked for no such check).
  const TimePoint checked = clock_.now();
  const PowerFencer::Phase phase = fencer_->phase();
  const bool round_of_an_earlier_life =
      (phase == PowerFencer::Phase::probing || phase == PowerFencer::Phase::powering_off) &&
      fence_generation_ != generation_;
  s.may_fence = !round_of_an_earlier_life && core_->may_power_fence(checked);
  // The LAN must not say the peer lives: silent on every link for T, or heard saying that its own disk
  // fails while this node's works (a disk-isolated node: it can hold no lease, and it never gets a promise
  // from a node whose disk works). A shared storage stall fences nobody: this node's disk fails too.
  const bool lan_silent = !lan_ || !lan_->peer_last_heard() ||
                          now - *lan_->peer_last_heard() >= superblock_.timing.io_timeout;
  const bool lan_says_isolated = lan_ && lan_->peer_disk_ok(now) == std::optional<bool>(false);
  s.suspected = core_->peer_silent_for(suspicion_time()) && (lan_silent || lan_says_isolated);
  // The probe ahead: the same conditions, probe_lead short of them (and on the clock, not on a read: a status
  // decides nothing).
  const Duration lead = PowerFencer::probe_lead(suspicion_time());
  const auto due = core_->suspicion_due(suspicion_time());
  const bool lan_quiet = !lan_ || !lan_->peer_last_heard() ||
                         now - *lan_->peer_last_heard() >= superblock_.timing.io_timeout - lead;
  s.probe_ahead = due && now >= *due - lead && (lan_quiet || lan_says_isolated);
  s.silence_start = core_->silence_start();
  s.peer_gone = pm.view() == PeerView::down || pm.view() == PeerView::dead;
  s.peer_incarnation = pm.incarnation();
  s.worst_write_latency = core_->worst_write_latency();
  s.look_clear = core_->fence_look_clear();
  s.peer_value_age = now - pm.first_seen();
  s.suspicion = suspicion_time();
  s.peer_fence_window = core_->fence_window();
  if (const FenceDeviceConfig* mine = fence_device_for(config_.fence, config_.node))
    s.peer_round = fence_round_bound(*mine);
  if (pm.view() == PeerView::up) fencer_->peer_alive(pm.first_seen());
  bool started = false;
  const PowerFencer::Phase before = fencer_->phase();
  const auto action = fencer_->tick(s, now, wall_time_ns(), started);
  if (fencer_->phase() != before && fencer_->phase() == PowerFencer::Phase::announcing)
    log::notice("the peer is suspected: announcing the fence on the disk before asking its BMC",
                {{"peer", peer_name_}, {"incarnation", pm.incarnation()}, {"heartbeat_age_ms", ms_of(s.peer_value_age)}});
  if (fencer_->phase() != before && fencer_->phase() == PowerFencer::Phase::yielded)
    log::warning("the peer announced a fence of this node first: this node yields and fences nobody",
                 {{"peer", peer_name_}, {"incarnation", pm.incarnation()}});
  if (started) {
    fence_generation_ = generation_;
    core_->on_peer_fence_started();
    fence_subject_ = core_->peer().fence_subject();
    fence_settle_end_.reset();
    fence_stood_value_.reset();
    log::warning("power-fencing the peer", {{"peer", peer_name_}, {"incarnation", pm.incarnation()},
                                            {"agent", fencer_->device().agent},
                                            {"reason", fencer_->current() ? fencer_->current()->reason : std::string()},
                                            {"heartbeat_age_ms", ms_of(now - pm.first_seen())}});
  }
  // A confirmed off is about the life the round began for, whichever core of this node confirms it: after a
  // rejoin during the round (or the settle) the new core takes the verdict over, on that life. (Dropping it
  // left a peer without a watchdog off and never declared dead: no D for it, no suspicion from a core that
  // never saw it up, and every later round fails at its first status, "off before the off".)
  // True when the current core holds the round's subject: it began the round, or it takes it over now.
  keep_fence_subject_current();
  auto hand_over = [&](const char* when, const std::optional<PeerMonitor::FenceSubject>& subject) {
    if (fence_generation_ == generation_) return true;
    if (!subject) return false;
    core_->adopt_peer_fence_subject(*subject);
    fence_generation_ = generation_;
    log::warning(when, {{"peer", peer_name_}, {"incarnation", subject->incarnation.value_or(0)}});
    return true;
  };
  auto declare_fenced = [&](TimePoint settle_end) {
    core_->on_peer_fenced(settle_end, fencer_->by_admin() ? "an admin's confirmation on " + config_.node
                                                          : fencer_->device().agent + " by " + config_.node);
  };
  if (auto settle_end = fencer_->take_confirmed()) {
    fence_settle_end_ = *settle_end;
    if (hand_over("the peer's power is confirmed off after this node rejoined: its new life takes the verdict over",
                  fence_subject_)) {
      declare_fenced(*settle_end);
      log::warning("the peer's power is confirmed off; it is declared dead after the settle delay",
                   {{"peer", peer_name_}, {"settle_ms", std::max<int64_t>(0, ms_of(*settle_end - now))},
                    {"result", fencer_->last() ? fencer_->last()->result : std::string()}});
    } else {
      log::warning("the peer's power is confirmed off, but the life it was about is not known: the dead time decides",
                   {{"peer", peer_name_}});
      fencer_->verdict_dropped();
    }
  }
  if (pm.value_fenced()) {
    fencer_->verdict_stood();
    fence_stood_value_ = pm.fenced_value();
  } else if (fencer_->phase() == PowerFencer::Phase::settling && !pm.fence_pending()) {
    if (fence_generation_ != generation_ && fence_settle_end_ &&
        hand_over("this node rejoined while its confirmed fence settled: its new life takes the verdict over",
                  fence_subject_))
      declare_fenced(*fence_settle_end_);
    else
      fencer_->verdict_dropped();
  } else if (fencer_->phase() == PowerFencer::Phase::confirmed && fence_generation_ != generation_ &&
             fence_settle_end_ && fence_stood_value_ && !pm.fence_pending() &&
             hand_over("this node rejoined after its fence's verdict stood: its new life takes the verdict over",
                       PeerMonitor::FenceSubject{fence_stood_value_, std::nullopt, {}})) {
    // Only on the very value the verdict stood on, unchanged: the peer may have been powered on since (by
    // fence_action = reboot, or an admin), and a late write of the fenced life landing now must not pass for
    // a verdict over the life that runs. Without this the new core, which never saw the peer up, would
    // neither suspect it nor (no watchdog) count D for it, and castor fence is refused for a peer already off.
    declare_fenced(*fence_settle_end_);
  }
  // The intent follows the fencer's phase, after the verdict too: a round that ended here withdraws its intent
  // now, so that the look of the next announce is never this one's.
  core_->set_fence_intent(fencer_->wants_intent(), now);
  if (action) start_fence_action(*action, checked);
}

std::string QuorumDaemon::admin_fence(const std::string& target, bool force, const std::string& who, TimePoint now,
                                      bool& ok) {
  ok = false;
  if (target != peer_name_)
    return target == config_.node ? "this quorumd runs " + target + ": it fences only its peer " + peer_name_ +
                                        " (run castor fence " + target + " on " + peer_name_ + ")"
                                  : target + " is not this cluster's peer of " + config_.node + " (" + peer_name_ + ")";
  if (!fencer_) return "no [fence " + peer_name_ + "] in " + config_.config_file + ": this node cannot power-fence its peer";
  if (!force && !core_->may_act(now))
    return "this node holds no lease: after the fence nobody could run the services; add --force to fence anyway";
  // The round would stop before its off anyway (PowerFencer: an announced admin round needs what an automatic
  // one needs of this node), after announcing: refused here, with the way around it.
  if (!force && !core_->may_power_fence(now))
    return "this node may not fence now: it is not up with a lease and a working disk (its last heartbeat write "
           "failed or is older than 2T); add --force to fence anyway";
  std::string why;
  if (!fencer_->request("admin request (" + who + ")", why, /*announce=*/!force)) return why;
  ok = true;
  log::warning("an admin asked to power-fence the peer", {{"peer", peer_name_}, {"by", who}, {"force", force ? "yes" : "no"}});
  fence_step(now);
  return "fencing " + peer_name_ + " with " + fencer_->device().agent;
}

void QuorumDaemon::keep_fence_subject_current() {
  // While the core that took the fence runs, the copy follows whether it retired that life since (a next core
  // must not follow from an admin's cap a life this core knew was replaced: review 21).
  if (core_ && fence_generation_ == generation_ && fence_subject_ && fence_subject_->incarnation)
    fence_subject_->superseded = fence_subject_->superseded || core_->peer().fenced_life_retired();
}

std::string QuorumDaemon::admin_confirm_off(const std::string& target, const std::string& who, TimePoint now, bool& ok) {
  ok = false;
  if (target != peer_name_)
    return target == config_.node ? "this quorumd runs " + target + ": only its peer " + peer_name_ +
                                        " can take its services over (run castor fence " + target +
                                        " --confirm-off on " + peer_name_ + ")"
                                  : target + " is not this cluster's peer of " + config_.node + " (" + peer_name_ + ")";
  if (!fencer_)
    return "no [fence " + peer_name_ + "] in " + config_.config_file +
           ": without a power fence the dead time decides for " + peer_name_;
  if (!core_->may_act(now)) return "this node holds no lease: after the confirmation nobody could run the services";
  // A heartbeat that stands still on a disk this node cannot write proves nothing (a storage stall: the
  // automatic suspicion refuses it too).
  if (!core_->may_power_fence(now))
    return "this node's own disk does not work now (its last heartbeat write failed or is older than 2T): " +
           peer_name_ + "'s heartbeat standing still on it says nothing";
  // The admin's word is taken only where nothing here says the peer lives: not for a node whose heartbeat
  // changed within the suspicion time, or that a LAN link hears (the wrong node named, or not off after all).
  const PeerMonitor& pm = core_->peer();
  if (pm.view() == PeerView::down || pm.view() == PeerView::dead)
    return peer_name_ + " is " + peer_view_name(pm.view()) + " already: its services are taken over without a confirmation";
  if (pm.last_read_issued() == TimePoint{} || now - pm.first_seen() < suspicion_time())
    return peer_name_ + "'s heartbeat changed " + std::to_string(ms_of(now - pm.first_seen())) +
           " ms ago (less than the suspicion time " + std::to_string(ms_of(suspicion_time())) +
           " ms): it is not off; check that it is the node you powered off";
  if (lan_ && lan_->peer_last_heard() && now - *lan_->peer_last_heard() < superblock_.timing.io_timeout)
    return peer_name_ + " is heard on a LAN link " + std::to_string(ms_of(now - *lan_->peer_last_heard())) +
           " ms ago: it is not off; check that it is the node you powered off";
  // What the automatic suspicion asks of the silence: read standing still by a read issued S after it began,
  // this node's disk working throughout, past any promise given to the peer.
  if (pm.view() == PeerView::unknown && !pm.no_dead_time())
    return peer_name_ + " was never seen running by this quorumd and runs with a watchdog (as far as it knows): "
                        "the dead time takes it over without a confirmation";
  if (!core_->peer_silent_for(suspicion_time(), /*for_admin=*/true))
    return peer_name_ + "'s heartbeat is not seen standing still for the suspicion time (for a peer never seen "
                        "running by this quorumd: the dead time), not read since, this node's disk not working "
                        "throughout, or a promise given to it: it may not be off";
  std::string why;
  if (!fencer_->confirm_off_by_admin("admin confirmed off (" + who + ")", now, wall_time_ns(), why)) return why;
  ok = true;
  fence_generation_ = generation_;
  core_->on_peer_fence_started();
  core_->on_peer_fence_by_admin();
  fence_subject_ = core_->peer().fence_subject();
  fence_settle_end_.reset();
  fence_stood_value_.reset();
  log::warning("an admin confirmed the peer powered off: it is declared dead after the settle delay, as after a "
               "power fence (no agent is run)",
               {{"peer", peer_name_}, {"by", who}, {"incarnation", pm.incarnation()},
                {"heartbeat_age_ms", ms_of(now - pm.first_seen())}});
  fence_step(now);
  return peer_name_ + " confirmed off by the admin: declared dead after the settle delay";
}

Json QuorumDaemon::power_fence_json(TimePoint now) const {
  Json j;
  Json levels = Json::array();
  if (fencer_) levels.push_back(Json{{"level", 1}, {"kind", "power"}, {"device", fencer_->device().describe()}});
  if (core_->peer().no_dead_time())
    levels.push_back(Json{{"level", fencer_ ? 2 : 1}, {"kind", "none"},
                          {"device", core_->peer().no_watchdog_known()
                                         ? "the peer runs without a watchdog: no takeover on the dead time"
                                         : "nothing known here of the peer's watchdog until it is seen running: no "
                                           "takeover on the dead time, no power fence before it was seen; waiting "
                                           "for it, or for castor fence PEER --confirm-off"}});
  else
    levels.push_back(Json{{"level", fencer_ ? 2 : 1}, {"kind", "watchdog"},
                          {"device", "the peer's own watchdog, after the dead time " +
                                         format_duration(superblock_.timing.dead)}});
  j["peer_levels"] = std::move(levels);
  Json mine = Json::array();
  for (const FenceDeviceConfig& d : config_.fence)
    if (d.node == config_.node) mine.push_back(Json{{"level", 1}, {"kind", "power"}, {"device", d.describe()}});
  mine.push_back(Json{{"level", mine.size() + 1}, {"kind", "watchdog"},
                      {"device", watchdog_ ? watchdog_->describe() : std::string("none")}});
  j["own_levels"] = std::move(mine);
  if (!fencer_) {
    j["phase"] = nullptr;
    j["last"] = nullptr;
    return j;
  }
  j["phase"] = PowerFencer::phase_name(fencer_->phase());
  j["suspicion_ms"] = ms_of(suspicion_time());
  j["fences"] = fencer_->fences();
  j["failures"] = fencer_->failures();
  auto record = [&](const FenceRecord& r) {
    return Json{{"target", r.target}, {"by", config_.node}, {"agent", r.agent}, {"reason", r.reason},
                {"wall_ns", r.started_wall_ns}, {"ago_ms", ms_of(now - r.started)},
                {"took_ms", ms_of(r.ended - r.started)}, {"confirmed", r.confirmed}, {"result", r.result}};
  };
  if (fencer_->last()) j["last"] = record(*fencer_->last());
  else j["last"] = nullptr;
  return j;
}

}  // namespace castor
