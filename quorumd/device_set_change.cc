#include "quorumd/device_set_change.h"

namespace castor {

Status DeviceSetChange::request(uint16_t g, uint8_t k) {
  if (k > 2) return Error(Code::invalid_argument, "slot " + std::to_string(k) + " is not a member of a set of three");
  // The tool raised both other members to g before it asked: this node may post g.
  if (posture_.retiring && posture_.generation == g && posture_.slot == k) {  // learned from the peer, or at start
    vouched_ = true;
    return Status::Ok();
  }
  if (pending_ && pending_gen_ == g && pending_slot_ == k) {
    vouched_ = true;
    return Status::Ok();
  }
  if (posture_.retiring || pending_)
    return Error(Code::busy, "a replacement of slot " + std::to_string(pending_ ? pending_slot_ : posture_.slot) +
                                 " (generation " + std::to_string(pending_ ? pending_gen_ : posture_.generation) +
                                 ") is under way: " + waiting_for());
  if (g != uint16_t(posture_.generation + 1))
    return Error(Code::refused, "generation " + std::to_string(g) + " is not the next one (this node runs " +
                                    std::to_string(posture_.generation) + ")");
  pending_ = true;
  pending_gen_ = g;
  pending_slot_ = k;
  vouched_ = true;
  return Status::Ok();
}

SetPosture DeviceSetChange::posted() const {
  if (vouched_ || posture_.generation == 0) return posture_;
  return SetPosture{uint16_t(posture_.generation - 1), false, 0};
}

void DeviceSetChange::on_peer_record(const HeartbeatRecord& r) {
  if (r.set_generation > peer_gen_ || (r.set_generation == peer_gen_ && r.set_slot != peer_slot_)) {
    peer_gen_ = r.set_generation;
    peer_slot_ = r.set_slot;
  }
  // The peer moved on to the next generation: retire the slot it replaced (always safe). It posts a
  // generation only once both other members say it, so this node may post it too.
  if (r.set_generation == uint16_t(posture_.generation + 1) && !pending_ && !posture_.retiring) {
    pending_ = true;
    pending_gen_ = r.set_generation;
    pending_slot_ = r.set_slot;
    vouched_ = true;
  }
  if (r.set_generation == posture_.generation && r.set_slot == posture_.slot && posture_.retiring) vouched_ = true;
}

DeviceSetChange::Step DeviceSetChange::next(bool new_device_ready) const {
  if (pending_) return Step::retire;
  // The peer posted this very change (same generation, same slot): it no longer counts the old member.
  // A peer further on, or one that replaced another slot under this generation (two admins at once), is
  // never taken for a confirmation: this node then stays retiring, which is safe.
  const bool confirmed = peer_gen_ == posture_.generation && peer_slot_ == posture_.slot;
  if (posture_.retiring && vouched_ && new_device_ready && confirmed) return Step::adopt;
  return Step::none;
}

void DeviceSetChange::retired() {
  if (!pending_) return;
  posture_ = SetPosture{pending_gen_, true, pending_slot_};
  pending_ = false;
}

void DeviceSetChange::adopted() { posture_.retiring = false; }

std::string DeviceSetChange::waiting_for() const {
  if (pending_) return "retiring the member of slot " + std::to_string(pending_slot_);
  if (!posture_.retiring) return "nothing";
  if (!vouched_)
    return "this node to know that both other members say generation " + std::to_string(posture_.generation) +
           " (castor disk replace here, or the peer posting it)";
  if (peer_gen_ != posture_.generation || peer_slot_ != posture_.slot)
    return "the peer to stop counting the old member of slot " + std::to_string(posture_.slot) +
           " (its heartbeat says generation " + std::to_string(peer_gen_) + ", not yet " +
           std::to_string(posture_.generation) + ")";
  return "the new device of slot " + std::to_string(posture_.slot) + " on this node (castor disk replace here)";
}

}  // namespace castor
