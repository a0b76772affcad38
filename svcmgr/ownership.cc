#include "svcmgr/ownership.h"

#include <algorithm>
#include <limits>

#include "common/log.h"

namespace castor {

const char* ownership_phase_name(OwnershipPhase p) {
  switch (p) {
    case OwnershipPhase::idle: return "idle";
    case OwnershipPhase::claiming: return "claiming";
    case OwnershipPhase::owning: return "owning";
    case OwnershipPhase::running: return "running";
    case OwnershipPhase::stopping: return "stopping";
    case OwnershipPhase::releasing: return "releasing";
  }
  return "?";
}

namespace {
bool is_up(OwnershipState s) {
  return s == OwnershipState::claiming || s == OwnershipState::owned || s == OwnershipState::releasing;
}

// Did two reads of the peer's entry return the same value? An unknown entry is a value of its own; two
// unknown reads are the same only if nothing that tells them apart differs.
bool same_value(const PeerEntryRead& a, const PeerEntryRead& b) {
  if (a.unknown != b.unknown) return false;
  if (a.unknown) return a.unknown_reason == b.unknown_reason && a.unknown_value == b.unknown_value;
  // Equal fields written by two incarnations are two writes (a restarted peer may repeat its last entry).
  return a.entry == b.entry && a.writer_incarnation == b.writer_incarnation;
}
}  // namespace

Ownership::Ownership(std::string service, uint32_t my_id, const ServiceEntry& own)
    : service_(std::move(service)), my_id_(my_id), mine_(own) {
  mine_.name = service_;
  mine_.in_use = true;
  // An "up" entry left by a previous life: the service may still run here (svcmgr alone restarted: the
  // agents' processes, mounts and addresses outlive it). The entry stays up, as it is on disk, until the
  // caller reports the service stopped (its start-up probe found nothing, or the stop that followed
  // finished); only then is it released. Releasing it first would let the peer start the service while
  // it still runs here.
  if (is_up(own.state)) {
    phase_ = OwnershipPhase::stopping;
    write_ok_ = true;
  } else {
    write_ok_ = own.in_use;  // an entry on disk needs no rewrite; a missing one is written on first use
  }
}

void Ownership::set_intent(Intent intent, uint32_t target_node) {
  intent_ = intent;
  target_ = target_node;
}

void Ownership::on_peer_entry(const PeerEntryRead& read) {
  if (peer_ && read.read_issued < peer_->read_issued) return;  // an older read: ignore
  if (!peer_ || !same_value(*peer_, read)) peer_value_since_ = read.read_completed;
  if (!read.unknown) peer_ballot_seen_ = std::max(peer_ballot_seen_, read.entry.ballot);
  peer_ = read;
}

void Ownership::on_liveness(const PeerLiveness& l) {
  const bool verdict = l.view == PeerView::dead || l.view == PeerView::down;
  if (verdict && l.view != liveness_.view) verdict_since_ = l.confirmed_at;  // a new verdict: its first confirmation
  liveness_ = l;
}

void Ownership::on_write_done(uint64_t token, bool ok, TimePoint completed) {
  if (token != token_ || token == 0) return;
  token_ = 0;
  write_ok_ = ok;
  if (ok) write_completed_ = completed;
}

void Ownership::on_stopped() { stopped_ = true; }

void Ownership::touch(uint32_t target_node) {
  touch_ = true;
  touch_target_ = target_node;
}

bool Ownership::peer_up() const {
  if (!peer_) return true;  // never read: assume the worst
  const bool verdict = liveness_.view == PeerView::dead || liveness_.view == PeerView::down;
  // Confirmed: re-confirmed after we had the entry's value, and read by a table read issued after the verdict
  // first stood — a read issued earlier may predate an epoch the peer took, ran and gave up before it left.
  const bool confirmed =
      verdict && liveness_.confirmed_at > peer_value_since_ && peer_->read_issued >= verdict_since_;
  // Unknown: it may hide an up entry, so it counts as up. A confirmed verdict voids it only when the peer's
  // floor is known: the epoch it may have granted there is then bounded, and the new one goes above it.
  if (peer_->unknown) return !(confirmed && peer_->peer_floor.has_value());
  if (!peer_->entry.in_use || !is_up(peer_->entry.state)) return false;
  if (confirmed) return false;  // voided by a confirmed verdict
  return true;
}

std::optional<uint64_t> Ownership::next_epoch() const {
  uint64_t e = mine_.epoch;
  if (peer_) {
    e = std::max(e, peer_->own_floor);
    if (!peer_->unknown) e = std::max(e, peer_->entry.epoch);
    if (peer_->peer_floor) e = std::max(e, *peer_->peer_floor);
  }
  // CASTOR_EPOCH is a fencing token that only grows: at the top of the range there is no next one, and
  // e + 1 would wrap to 0 ("never owned") below every epoch granted before.
  if (e == std::numeric_limits<uint64_t>::max()) return std::nullopt;
  return e + 1;
}

void Ownership::log_epochs_exhausted() {
  if (exhausted_logged_) return;
  exhausted_logged_ = true;
  log::critical("no epoch left for the service: an epoch floor or entry is at 2^64-1 and the next epoch would "
                "wrap to 0 (CASTOR_EPOCH must only grow); the service is not claimed nor started here",
                {{"service", service_}});
}

bool Ownership::peer_has_priority() const {
  const ServiceEntry& p = peer_->entry;
  if (p.ballot != mine_.ballot) return p.ballot > mine_.ballot;
  return p.node != 0 ? p.node < my_id_ : my_id_ != 1;
}

OwnershipStep Ownership::write(ServiceEntry e, std::string why) {
  e.name = service_;
  e.in_use = true;
  e.flags = flags_;
  refresh_ = false;
  // Every decision gets a ballot above every ballot seen, so the newest entry of the two is the cluster's
  // latest word on the service (admin_state.h reads disable/enable/relocation requests from it).
  // (Above every ballot seen: an unknown entry hides the peer's, so its last known one counts.)
  const uint64_t peer_ballot = std::max(peer_ballot_seen_, peer_ && !peer_->unknown ? peer_->entry.ballot : 0);
  if (e.state != OwnershipState::claiming) e.ballot = std::max({mine_.ballot, peer_ballot, e.ballot}) + 1;
  mine_ = e;
  token_ = next_token_++;
  write_ok_ = false;
  OwnershipStep s;
  s.write = e;
  s.epoch = e.epoch;
  s.why = std::move(why);
  return s;
}

OwnershipStep Ownership::step(TimePoint) {
  if (token_ != 0) return {};  // a write of my entry is in flight: wait for it
  const uint64_t peer_ballot = std::max(peer_ballot_seen_, peer_ && !peer_->unknown ? peer_->entry.ballot : 0);

  switch (phase_) {
    case OwnershipPhase::idle: {
      if (!write_ok_ && mine_.in_use) return write(mine_, "rewriting my entry after a failed write");
      if (intent_ == Intent::hold) {
        if (!peer_ || peer_up()) return {};  // the peer holds it (or we have not read its entry yet)
        // A new epoch must be above the peer's floor: without it (its record did not decode) wait.
        if (!peer_->peer_floor) return {};
        if (!next_epoch()) {  // no epoch to own it with: never claim (no loop of claims and withdrawals)
          log_epochs_exhausted();
          return {};
        }
        ServiceEntry e = mine_;
        e.state = OwnershipState::claiming;
        e.node = my_id_;
        e.ballot = std::max(mine_.ballot, peer_ballot) + 1;
        phase_ = OwnershipPhase::claiming;
        return write(e, "claiming");
      }
      const OwnershipState want = intent_ == Intent::disable ? OwnershipState::disabled : OwnershipState::released;
      if (touch_ || refresh_ ||
          (mine_.state != want && !(want == OwnershipState::released && mine_.state == OwnershipState::none))) {
        ServiceEntry e = mine_;
        e.state = touch_ ? OwnershipState::released : want;
        e.node = touch_ ? touch_target_ : target_;
        touch_ = false;
        return write(e, want == OwnershipState::disabled ? "disabled" : "released");
      }
      return {};
    }
    case OwnershipPhase::claiming: {
      if (!write_ok_) return write(mine_, "retrying my claim");
      if (intent_ != Intent::hold) {
        ServiceEntry e = mine_;
        e.state = OwnershipState::released;
        e.node = target_;
        phase_ = OwnershipPhase::releasing;
        return write(e, "claim withdrawn: no longer wanted");
      }
      // Only a read of the peer issued after my claim landed can confirm it.
      if (!peer_ || peer_->read_issued <= write_completed_) return {};
      if (peer_up()) {
        // (An unknown entry may be anything: withdraw.)
        if (!peer_->unknown && peer_->entry.state == OwnershipState::claiming && !peer_has_priority())
          return {};  // it will withdraw
        ServiceEntry e = mine_;
        e.state = OwnershipState::released;
        e.node = target_;
        phase_ = OwnershipPhase::releasing;
        return write(e, "claim withdrawn: the peer holds or claims it with priority");
      }
      // The new epoch must be above the peer's floor: a read whose peer epoch record did not decode cannot
      // grant one (the peer's entry may have been rewritten low, my own floor may not cover it yet). Wait.
      if (!peer_->peer_floor) return {};
      const std::optional<uint64_t> epoch = next_epoch();
      if (!epoch) {  // the floors read since the claim leave no epoch: withdraw, never own with a wrapped one
        log_epochs_exhausted();
        ServiceEntry e = mine_;
        e.state = OwnershipState::released;
        e.node = target_;
        phase_ = OwnershipPhase::releasing;
        return write(e, "claim withdrawn: no epoch left (the next would wrap to 0)");
      }
      ServiceEntry e = mine_;
      e.state = OwnershipState::owned;
      e.node = my_id_;
      e.epoch = *epoch;
      phase_ = OwnershipPhase::owning;
      return write(e, "claim confirmed: owning with a new epoch");
    }
    case OwnershipPhase::owning: {
      if (!write_ok_) return write(mine_, "retrying my ownership write");
      phase_ = OwnershipPhase::running;
      stopped_ = false;
      OwnershipStep s;
      s.start = true;
      s.epoch = mine_.epoch;
      s.why = "owned: starting";
      return s;
    }
    case OwnershipPhase::running: {
      if (intent_ == Intent::hold) {
        if (refresh_) return write(mine_, "admin word recorded");
        return {};
      }
      phase_ = OwnershipPhase::stopping;
      OwnershipStep s;
      s.stop = true;
      s.epoch = mine_.epoch;
      s.why = intent_ == Intent::disable ? "disabling: stopping" : "releasing: stopping";
      return s;
    }
    case OwnershipPhase::stopping: {
      if (!stopped_) return {};
      ServiceEntry e = mine_;
      e.state = intent_ == Intent::disable ? OwnershipState::disabled : OwnershipState::released;
      e.node = target_;
      phase_ = OwnershipPhase::releasing;
      return write(e, "stopped: releasing");
    }
    case OwnershipPhase::releasing: {
      if (!write_ok_) return write(mine_, "retrying my release");
      phase_ = OwnershipPhase::idle;
      return step(TimePoint{});
    }
  }
  return {};
}

}  // namespace castor
