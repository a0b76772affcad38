#include "quorumd/power_fencer.h"

#include <algorithm>
#include <utility>

namespace castor {

namespace {
const char* const kAheadOffBeforeOff =
    " (asked ahead of the suspicion) BEFORE the off: this device does not power the peer (wrong address or plug?); "
    "not trusted, the dead time decides";
}  // namespace

const char* PowerFencer::phase_name(Phase p) {
  switch (p) {
    case Phase::idle: return "idle";
    case Phase::delaying: return "delaying";
    case Phase::announcing: return "announcing";
    case Phase::yielded: return "yielded";
    case Phase::probing: return "probing";
    case Phase::powering_off: return "powering off";
    case Phase::checking: return "checking";
    case Phase::settling: return "settling";
    case Phase::confirmed: return "confirmed off";
    case Phase::powering_on: return "powering on";
    case Phase::failed: return "failed";
  }
  return "?";
}

PowerFencer::PowerFencer(FenceDeviceConfig device, Duration retry_after)
    : device_(std::move(device)), retry_after_(retry_after) {}

bool PowerFencer::request(const std::string& reason, std::string& why, bool announce) {
  if (busy() || phase_ == Phase::settling || phase_ == Phase::powering_on) {
    why = std::string("a fence of ") + device_.node + " is already under way (" + phase_name(phase_) + ")";
    return false;
  }
  if (phase_ == Phase::confirmed) {  // the life fenced has not come back: nothing to power off
    why = by_admin_ ? device_.node + " was confirmed off by an admin (castor fence --confirm-off); its next life is "
                                     "not seen yet (castor status: power_fence.last)"
        : device_.action == FenceAction::reboot
              ? device_.node + " was powered off by a confirmed fence and on again (fence_action = reboot); its new "
                               "life is not seen yet (castor status: power_fence.last)"
              : device_.node + " is already powered off by a confirmed fence (castor status: power_fence.last)";
    return false;
  }
  admin_request_ = reason;
  admin_announce_ = announce;
  return true;
}

bool PowerFencer::confirm_off_by_admin(const std::string& reason, TimePoint now, int64_t wall_ns, std::string& why) {
  if (phase_ == Phase::settling || phase_ == Phase::powering_on || phase_ == Phase::confirmed) {
    why = device_.node + " is already powered off by a confirmed fence (castor status: power_fence.last)";
    return false;
  }
  if (phase_ == Phase::yielded) {
    why = device_.node + " announced a fence of this node on the disk: it ran when it did, and may be running";
    return false;
  }
  if (phase_ == Phase::powering_off || phase_ == Phase::checking) {  // the device said on: it powers it off
    why = "a fence of " + device_.node + " is powering it off now (its device said on): it confirms on its own "
          "(castor status: power_fence)";
    return false;
  }
  // A round under way (its first status keeps saying off, say) gives way: the agent action out, if any, is
  // reaped as ever, its result ignored.
  if (running_) abandoned_ = true;
  probe_ahead_running_ = false;
  admin_request_.reset();
  admin_round_ = false;
  early_on_.reset();
  to_start_.reset();
  current_ = FenceRecord{device_.node, "(none: confirmed by hand)", reason, now, now, wall_ns, false,
                         "powered off, as the admin confirmed: no agent run"};
  attempts_left_ = 0;
  round_episode_.reset();
  confirmed_settle_end_ = now + std::max(device_.settle, worst_latency_);
  phase_ = Phase::settling;
  by_admin_ = true;
  finish(true, now);
  return true;
}

bool PowerFencer::wants_intent() const {
  switch (phase_) {
    case Phase::announcing: return true;
    case Phase::probing:
    case Phase::powering_off:
    case Phase::checking:
    case Phase::settling: return !admin_round_ || admin_announce_;
    default: return false;
  }
}

Duration PowerFencer::stale_intent_after(const FenceSituation& s) const {
  // The peer starts no off later than its fence window after its last ok write (issued before the value we
  // see landed, hence before we first read it); each of its offs ends within its round.
  return s.suspicion + s.peer_fence_window + 2 * std::max(fence_round_bound(device_), s.peer_round);
}

void PowerFencer::peer_alive(TimePoint value_first_seen) {
  if (phase_ == Phase::yielded && value_first_seen > yielded_at_) phase_ = Phase::idle;  // its round is over
  // Only a value the peer wrote after the last round began is life: a peer still UP but silent (the round
  // failed, or its off killed a life that had just booted) waits for retry_after.
  if (last_ && value_first_seen <= last_->started) return;
  if (phase_ == Phase::confirmed || phase_ == Phase::failed) phase_ = Phase::idle;
}

void PowerFencer::verdict_dropped() {
  if (phase_ == Phase::settling) phase_ = Phase::idle;
}

void PowerFencer::start(const std::string& reason, TimePoint now, int64_t wall_ns, std::optional<TimePoint> episode) {
  current_ = FenceRecord{device_.node, device_.agent, reason, now, now, wall_ns, false, ""};
  by_admin_ = false;
  attempts_left_ = device_.retries;
  round_episode_ = episode;
  if (early_on_ && episode && early_on_->episode == *episode && !early_on_->on) {
    // Its status said off during this very silence, before any off: the guard's answer, as if this round had
    // asked it (a device that says off and then on must not be trusted with the off).
    phase_ = Phase::probing;
    current_->result = early_on_->text + kAheadOffBeforeOff;
    attempts_left_ = 0;
    early_on_.reset();
    finish(false, now);
    return;
  }
  if (early_on_ && episode && early_on_->episode == *episode) {
    // Its status said on during this very silence: the first status of this round, asked ahead.
    current_->result = early_on_->text + " (asked ahead of the suspicion)";
    phase_ = Phase::powering_off;
    to_start_ = FenceAgentAction::off;
  } else {
    phase_ = Phase::probing;
    to_start_ = FenceAgentAction::status;
  }
  early_on_.reset();
}

std::optional<FenceAgentAction> PowerFencer::tick(const FenceSituation& s, TimePoint now, int64_t wall_ns,
                                                  bool& fence_started) {
  fence_started = false;
  worst_latency_ = s.worst_write_latency;
  switch (phase_) {
    case Phase::failed:
      if (now < retry_at_ && !admin_request_) break;
      phase_ = Phase::idle;
      [[fallthrough]];
    case Phase::idle:
      if (admin_request_) {
        admin_reason_ = *std::exchange(admin_request_, std::nullopt);
        admin_round_ = true;
        if (admin_announce_) {
          // The look must be back within the peer's fence window (2T: a node whose disk works writes and reads
          // within it), at least 1 s.
          admin_look_until_ = now + std::max<Duration>(s.peer_fence_window, std::chrono::seconds(1));
          phase_ = Phase::announcing;
          look(s, now, wall_ns, fence_started);
        } else {
          start(admin_reason_, now, wall_ns);
          fence_started = true;
        }
      } else if (s.may_fence && s.suspected && !s.peer_gone) {
        admin_round_ = false;
        if (!early_on_ || early_on_->episode != s.silence_start) early_on_.reset();
        if (device_.delay > Duration::zero()) {
          phase_ = Phase::delaying;
          delay_until_ = now + device_.delay;
        } else {
          phase_ = Phase::announcing;  // the daemon writes the intent; the core looks once it is on disk
          look(s, now, wall_ns, fence_started);
        }
      } else if (s.may_fence && s.probe_ahead && !s.peer_gone && probed_episode_ != s.silence_start && !running_ &&
                 !to_start_) {
        probed_episode_ = s.silence_start;
        early_on_.reset();
        probe_ahead_running_ = true;
        to_start_ = FenceAgentAction::status;
      }
      break;
    case Phase::delaying:
      if (now < delay_until_) break;
      // Looked at again after the delay: a fence race lost by the peer ends here (it was powered off, or
      // it is heard again), one won by it ended this node before now.
      phase_ = s.may_fence && s.suspected && !s.peer_gone ? Phase::announcing : Phase::idle;
      if (phase_ == Phase::announcing) look(s, now, wall_ns, fence_started);
      break;
    case Phase::announcing:
      look(s, now, wall_ns, fence_started);
      break;
    case Phase::yielded:
      if (s.peer_gone || s.peer_value_age >= stale_intent_after(s)) phase_ = Phase::idle;
      break;
    case Phase::probing:
    case Phase::powering_off:
      // The off after the probe, or a retry: the rules are looked at again (with a clock read just before, by
      // the daemon) — a node that lost its lease or its disk meanwhile, or hears its peer again, powers nobody
      // off. An admin's announced round needs no suspicion, but this node must still hold its lease and a
      // working disk (the peer may have yielded to its intent); only --force fences regardless.
      if (to_start_ && !running_ &&
          (admin_round_ ? admin_announce_ && !s.may_fence : !(s.may_fence && s.suspected && !s.peer_gone))) {
        to_start_.reset();
        current_->result += admin_round_ ? "; not carried on: this node may no longer fence its peer (lease, disk)"
                                         : "; not carried on: this node may no longer fence its peer (lease, disk) "
                                           "or the peer is heard";
        finish(false, now);
      }
      break;
    case Phase::settling:
    case Phase::confirmed:
      if (admin_request_) admin_request_.reset();  // already off
      break;
    default: break;
  }
  if (running_ || !to_start_) return std::nullopt;
  running_ = true;
  return std::exchange(to_start_, std::nullopt);
}

void PowerFencer::refuse_admin(const std::string& why, TimePoint now, int64_t wall_ns) {
  last_ = FenceRecord{device_.node, device_.agent, admin_reason_, now, now, wall_ns, false, why};
  ++failures_;
  admin_round_ = false;
  phase_ = Phase::idle;
}

void PowerFencer::look(const FenceSituation& s, TimePoint now, int64_t wall_ns, bool& fence_started) {
  // s.look_clear is the core's answer to this phase's announce: the daemon withdraws the intent (which forgets
  // the look) whenever the fencer is in no phase that wants it, so a look is never older than its announce.
  if (admin_round_) {  // no suspicion needed; but never against a peer that announced a fence of this node
    if (!s.look_clear) {
      if (now >= admin_look_until_)
        refuse_admin("not fenced: this node's fence intent was not on disk and read back in time (does its disk "
                     "work?); castor fence --force fences without it",
                     now, wall_ns);
      return;
    }
    if (!*s.look_clear && s.peer_value_age < stale_intent_after(s)) {
      refuse_admin("not fenced: " + device_.node + " announced a fence of this node (it may be powering it off)",
                   now, wall_ns);
      return;
    }
    start(admin_reason_, now, wall_ns);
    fence_started = true;
    return;
  }
  if (!(s.may_fence && s.suspected && !s.peer_gone)) {
    phase_ = Phase::idle;  // heard again, or this node may no longer fence: the intent is withdrawn
    return;
  }
  if (!s.look_clear) return;  // the intent is not on disk yet, or the look not back
  if (*s.look_clear || s.peer_value_age >= stale_intent_after(s)) {
    start(std::string("heartbeat silent") +
              (device_.delay > Duration::zero() ? " (after the fence delay of " + format_duration(device_.delay) + ")" : "") +
              (*s.look_clear ? "" : "; the peer's fence intent is stale"),
          now, wall_ns, s.silence_start);
    fence_started = true;
  } else {
    phase_ = Phase::yielded;  // the peer announced a fence of this node first: it may be powering us off
    yielded_at_ = now;
  }
}

void PowerFencer::attempt_failed(const std::string& text, TimePoint now) {
  current_->result += (current_->result.empty() ? "" : "; ") + text;
  if (attempts_left_ > 0) {
    --attempts_left_;
    phase_ = Phase::probing;
    to_start_ = FenceAgentAction::status;
    return;
  }
  finish(false, now);
}

void PowerFencer::finish(bool confirmed, TimePoint now) {
  current_->ended = now;
  current_->confirmed = confirmed;
  last_ = current_;
  if (confirmed) {
    ++fences_;
  } else {
    ++failures_;
    phase_ = Phase::failed;
    retry_at_ = now + retry_after_;
  }
}

void PowerFencer::on_result(FenceAgentAction action, const FenceAgentResult& r, TimePoint now) {
  running_ = false;
  if (std::exchange(abandoned_, false)) return;  // of a round the admin's confirmation ended
  if (std::exchange(probe_ahead_running_, false)) {
    if (action != FenceAgentAction::status || !probed_episode_) return;
    if (r.verdict == FenceVerdict::power_off) {  // an off before any off, in this silence: the guard's answer
      if (phase_ == Phase::probing && to_start_ == FenceAgentAction::status && current_ && round_episode_ &&
          *round_episode_ == *probed_episode_ && current_->result.empty()) {
        to_start_.reset();
        current_->result = r.text + kAheadOffBeforeOff;
        attempts_left_ = 0;
        finish(false, now);
      } else if (phase_ == Phase::idle || phase_ == Phase::delaying || phase_ == Phase::announcing) {
        early_on_ = EarlyOn{*probed_episode_, r.text, false};
      }
      return;
    }
    if (r.verdict != FenceVerdict::power_on) return;  // unknown, failed: the round asks its own
    // A round of the same silence began while it ran and waits for its own first status: this one is it.
    if (phase_ == Phase::probing && to_start_ == FenceAgentAction::status && current_ && round_episode_ &&
        *round_episode_ == *probed_episode_ && current_->result.empty()) {
      to_start_.reset();
      current_->result = r.text + " (asked ahead of the suspicion)";
      phase_ = Phase::powering_off;
      to_start_ = FenceAgentAction::off;
      return;
    }
    // Kept for a round of this silence.
    if (phase_ == Phase::idle || phase_ == Phase::delaying || phase_ == Phase::announcing)
      early_on_ = EarlyOn{*probed_episode_, r.text, true};
    return;
  }
  if (!current_) return;
  switch (action) {
    case FenceAgentAction::off:
      if (phase_ != Phase::powering_off) return;
      if (r.verdict != FenceVerdict::done) return attempt_failed(r.text, now);
      current_->result += (current_->result.empty() ? "" : "; ") + r.text;
      off_done_ = now;
      phase_ = Phase::checking;
      to_start_ = FenceAgentAction::status;
      return;
    case FenceAgentAction::status:
      if (phase_ == Phase::probing) {
        if (r.verdict == FenceVerdict::power_on) {
          current_->result += (current_->result.empty() ? "" : "; ") + r.text;
          phase_ = Phase::powering_off;
          to_start_ = FenceAgentAction::off;
          return;
        }
        if (r.verdict == FenceVerdict::power_off) {
          // The peer's heartbeat was seen changing, yet this device says it is off before any off: it does
          // not power the peer (a wrong address, a swapped plug). No retry: the dead time decides.
          current_->result += (current_->result.empty() ? "" : "; ") + r.text +
                              " BEFORE the off: this device does not power the peer (wrong address or plug?); "
                              "not trusted, the dead time decides";
          attempts_left_ = 0;
          finish(false, now);
          return;
        }
        return attempt_failed(r.text, now);
      }
      if (phase_ != Phase::checking) return;
      if (r.verdict != FenceVerdict::power_off)
        return attempt_failed(r.text + (r.verdict == FenceVerdict::power_on ? " (still on after the off)" : ""), now);
      current_->result += "; " + r.text;
      // The settle runs from the end of the off, and is never shorter than the worst write latency this
      // node saw of late (a write the peer issued before the cut is served within the storage's latency).
      confirmed_settle_end_ = off_done_ + std::max(device_.settle, worst_latency_);
      phase_ = Phase::settling;
      finish(true, now);
      return;
    case FenceAgentAction::on:
      if (phase_ != Phase::powering_on) return;
      if (last_) last_->result += "; " + r.text;
      phase_ = Phase::confirmed;
      return;
    default: return;
  }
}

void PowerFencer::verdict_stood() {
  if (phase_ != Phase::settling) return;
  if (device_.action == FenceAction::reboot && !by_admin_) {  // the admin's off stays the admin's
    phase_ = Phase::powering_on;
    to_start_ = FenceAgentAction::on;
  } else {
    phase_ = Phase::confirmed;
  }
}

TimePoint PowerFencer::next_wakeup() const {
  if (to_start_ && !running_) return TimePoint::min();
  if (admin_request_ && !running_) return TimePoint::min();
  if (phase_ == Phase::delaying) return delay_until_;
  if (phase_ == Phase::failed) return retry_at_;
  if (phase_ == Phase::announcing && admin_round_) return admin_look_until_;
  return TimePoint::max();
}

}  // namespace castor
