// PowerFencer: when and how this node power-fences its peer (issue 16; docs/design.md "Power fencing"). Pure:
// no I/O, no clock; the daemon feeds it the situation and `now`, runs the fence agent actions it asks for
// (one at a time, fence_agent.h) and reports their results; on a confirmed off it hands the core the
// moment from which the peer may be declared dead (QuorumCore::on_peer_fenced).
//
// The rules:
//  - it fences only while this node may (lease valid, its own disk works: QuorumCore::may_power_fence) and
//    the peer is suspected (QuorumCore::peer_suspected: its heartbeat unchanged for the suspicion time, and
//    not heard on any LAN link), or an admin asked (`castor fence`);
//  - with a delay configured for the peer's device (Pacemaker's pcmk_delay_base), it waits that long first
//    and then looks again: still suspected, still allowed — otherwise nothing is done;
//  - the fence intent: before its BMC is asked, the node announces the fence on its heartbeat block and
//    looks at the peer's block once that write is on disk (QuorumCore::set_fence_intent, fence_look_clear);
//    if the peer announced a fence of this node first, this node yields (no fence until the peer's value
//    changes, or that value has stood still for stale_intent_after: the peer's own round is over by then).
//    On one coherent disk at least one of two nodes that both announce sees the other's intent: never two
//    fences at once. An admin's round (`castor fence`) announces and looks too (without --force);
//  - the probe ahead: the first `status` is asked while the silence is still probe_lead short of the
//    suspicion time (nothing but a status: no power is touched), so that a round starting in the same silence
//    goes straight to its off when that status said on, and fails at once when it said off (an off before the
//    off, as below). A status of another silence (the peer's value changed since), one that failed, or an
//    admin's round: the round asks its own first;
//  - a fence is `status`, `off`, then `status`: confirmed only when the first status says on (exit 0), off
//    exits 0 AND the last status says off (exit 2). A device that says "off" before its off is not trusted
//    (a wrong address or plug that powers an idle machine would confirm a fence it never did): the round
//    fails at once and the dead time D decides. The
//    settle delay runs from the end of the `off` (max(device settle, the worst own write latency seen));
//  - a failure or a timeout of either: another attempt, up to `retries`; then the fence has failed and the
//    core's ordinary dead time D decides, as without power fencing; a new round may start retry_after later;
//  - with fence_action = reboot, `on` is run once the verdict stood (verdict_stood(): the node comes back and
//    rejoins with a new incarnation);
//  - never two agent actions at once; never a second fence of a life already confirmed off.
// Must never report a fence as confirmed without both results, and never start one the rules forbid.
#pragma once

#include <optional>
#include <string>

#include "agent/fence_agent.h"
#include "common/clock.h"
#include "config/fence_config.h"

namespace castor {

struct FenceSituation {
  bool may_fence = false;   // this node's lease is valid and its disk works
  bool suspected = false;   // the peer is silent on the disk for the suspicion time and on every LAN link
  bool peer_gone = false;   // the peer left cleanly (DOWN) or is already confirmed dead by a fence
  uint64_t peer_incarnation = 0;
  Duration worst_write_latency{0};  // this node's worst heartbeat write latency of the last minute
  std::optional<bool> look_clear;   // QuorumCore::fence_look_clear: the look after this node's intent
  Duration peer_value_age{0};       // how long the peer's current heartbeat value has stood still
  Duration suspicion{0};            // the suspicion time S in force
  // For the stale bound of the peer's intent (0 where a test does not model them): how long after its last ok
  // heartbeat write the peer may still start an off (QuorumCore::fence_window: 2T) -- a peer whose quorumd
  // froze between its status and its off may run the off that late; and the peer's whole round against this
  // node, from this node's own [fence NODE] section when castor.ini has it (the peer's timeout_s and retries
  // may differ from this node's device).
  Duration peer_fence_window{0};
  Duration peer_round{0};
  // The probe ahead: the peer's silence (which will make it suspected if it lasts, every other condition of
  // `suspected` holding already) is within probe_lead of the suspicion time; and the start of that silence
  // (QuorumCore::silence_start), which names the episode a probe ahead belongs to.
  bool probe_ahead = false;
  TimePoint silence_start{};
};

// One fence, for status and the log.
struct FenceRecord {
  std::string target;       // the node fenced
  std::string agent;
  std::string reason;       // "heartbeat silent", "admin request (castor fence)"
  TimePoint started{}, ended{};
  int64_t started_wall_ns = 0;  // for display only
  bool confirmed = false;
  std::string result;       // "off: done in 0.41 s; status: off (0.30 s)", or the failure
};

// The longest a whole fence round with `device` can take: status, off, status per attempt, each call bounded
// by timeout_s (and ended by the agent's own alarm even when quorumd is frozen: fence_agent_command).
inline Duration fence_round_bound(const FenceDeviceConfig& device) { return (device.retries + 1) * 3 * device.timeout; }

class PowerFencer {
 public:
  enum class Phase { idle, delaying, announcing, yielded, probing, powering_off, checking, settling, confirmed,
                     powering_on, failed };
  static const char* phase_name(Phase p);

  PowerFencer(FenceDeviceConfig device, Duration retry_after);
  // How long before the suspicion time its first status is asked (the probe ahead): a quarter of it. A
  // working peer whose value stands still that long is a write T/4 late, rare enough for one status call.
  static Duration probe_lead(Duration suspicion) { return suspicion / 4; }
  // The agent action running is the probe ahead (for the log).
  bool probing_ahead() const { return probe_ahead_running_; }
  // The last confirmed off is an admin's word (confirm_off_by_admin), no agent's.
  bool by_admin() const { return by_admin_; }

  // The agent action to start now (none if nothing is due or one runs). `fence_started` is set when a
  // fence of the peer begins (the daemon tells the core: PeerMonitor::fence_started).
  std::optional<FenceAgentAction> tick(const FenceSituation& s, TimePoint now, int64_t wall_ns, bool& fence_started);
  // The action started by the last tick ended.
  void on_result(FenceAgentAction action, const FenceAgentResult& r, TimePoint now);
  // An admin asked for a fence of the peer: starts at the next tick if none runs (no suspicion needed, no
  // delay). It announces and looks as any round (refused if the peer announced a fence of this node, or if
  // the intent is not on disk and read back within announce_limit), unless `announce` is false (castor
  // fence --force: this node may hold no lease, so it may not be able to write). False, with `why`, when
  // one runs already.
  bool request(const std::string& reason, std::string& why, bool announce = true);
  // An admin confirms that the peer is powered off, checked by hand (castor fence NODE --confirm-off, as
  // Pacemaker's stonith_admin --confirm): a round that runs no agent and is confirmed at once, its settle from
  // `now`. For the cases no agent can confirm: a device that says off before the off (the peer was already off:
  // a power loss, an admin's off without a DOWN) or one that is unreachable with the node's power cut. A round
  // under way gives way (the result of its agent action out is ignored). False, with `why`, after a confirmed
  // off that has not come back, or while this node yields to the peer's announced fence of it.
  bool confirm_off_by_admin(const std::string& reason, TimePoint now, int64_t wall_ns, std::string& why);
  // Set once, when the off is confirmed: the settle end (the core may declare the peer dead from a read
  // issued then). Taken by the daemon.
  std::optional<TimePoint> take_confirmed() { return std::exchange(confirmed_settle_end_, std::nullopt); }
  // The core declared the peer dead on the confirmed fence (after the settle): with fence_action = reboot,
  // the node is powered on again now.
  void verdict_stood();
  // The peer is alive again: UP, with a heartbeat value first read at `value_first_seen`; only a value first
  // read after the last round began counts (a later silence may then be fenced again at once).
  void peer_alive(TimePoint value_first_seen);
  // The confirmed off will give no verdict (this node rejoined meanwhile, or the read after the settle showed
  // a life not seen before the fence): leaves `settling`, so that a later silence or an admin may fence again.
  void verdict_dropped();
  // This node's fence intent must be on its heartbeat block now (announcing, and while its round runs).
  bool wants_intent() const;
  // A peer value carrying a fence intent against this node that has stood still this long is stale: had the
  // peer been fencing this node, its whole round (retries included) would have ended by then:
  // S + the peer's fence window + 2 x the longer of the two rounds (this node's, s.peer_round).
  Duration stale_intent_after(const FenceSituation& s) const;

  Phase phase() const { return phase_; }
  bool busy() const {
    return phase_ == Phase::delaying || phase_ == Phase::announcing || phase_ == Phase::probing ||
           phase_ == Phase::powering_off || phase_ == Phase::checking;
  }
  const FenceDeviceConfig& device() const { return device_; }
  const std::optional<FenceRecord>& last() const { return last_; }
  const std::optional<FenceRecord>& current() const { return current_; }
  uint64_t fences() const { return fences_; }
  uint64_t failures() const { return failures_; }
  // When tick() must run next at the latest (TimePoint::max() when nothing is timed).
  TimePoint next_wakeup() const;

 private:
  // A round begins; `episode`: the silence it fences (nullopt: an admin's round), whose probe ahead, if it
  // said on, stands for the round's first status.
  void start(const std::string& reason, TimePoint now, int64_t wall_ns, std::optional<TimePoint> episode = std::nullopt);
  // Announcing: the look's answer decides -- fence, yield, or (no longer suspected) back to idle.
  void look(const FenceSituation& s, TimePoint now, int64_t wall_ns, bool& fence_started);
  // An admin's round that may not go on: recorded as a failed fence (castor fence reports `why`).
  void refuse_admin(const std::string& why, TimePoint now, int64_t wall_ns);
  void attempt_failed(const std::string& text, TimePoint now);
  void finish(bool confirmed, TimePoint now);

  FenceDeviceConfig device_;
  Duration retry_after_;
  Phase phase_ = Phase::idle;
  std::optional<FenceAgentAction> to_start_;  // decided, not yet handed out
  bool running_ = false;                      // an agent action is out
  TimePoint delay_until_{}, retry_at_{}, off_done_{}, yielded_at_{};
  int attempts_left_ = 0;
  // The probe ahead: running now; the silence it was asked in (one per silence); its "on", kept for a round
  // of that silence; the silence the current round fences.
  bool by_admin_ = false;   // the confirmed off is an admin's word: no agent `on` after it (reboot)
  bool abandoned_ = false;  // the action out belongs to a round an admin's confirmation ended: its result is ignored
  bool probe_ahead_running_ = false;
  std::optional<TimePoint> probed_episode_;
  struct EarlyOn {
    TimePoint episode;
    std::string text;
    bool on = true;  // false: it said off (an off before any off: the round of that silence fails at once)
  };
  std::optional<EarlyOn> early_on_;
  std::optional<TimePoint> round_episode_;
  std::optional<std::string> admin_request_;
  bool admin_announce_ = true;                // request(): the admin's round announces and looks
  bool admin_round_ = false;                  // the running round is an admin's (no suspicion needed)
  std::string admin_reason_;                  // ... asked as
  TimePoint admin_look_until_{};              // ... its look must be back by then
  Duration worst_latency_{0};
  std::optional<FenceRecord> current_, last_;
  std::optional<TimePoint> confirmed_settle_end_;
  uint64_t fences_ = 0, failures_ = 0;
};

}  // namespace castor
