// DeviceSetChange: how one node replaces a member of its set of quorum devices while the cluster runs
// (`castor disk replace`; docs/design.md "Replacing a quorum device") without ever counting a set whose
// majorities miss the peer's. Generation G of the set replaces the member of slot k. Two steps per node:
//   retire: the old member of slot k stops counting (it is treated as a failed member). Always safe: the
//           node still needs a majority of three, and two majorities of the same three slots intersect
//           whatever device fills slot k on either side.
//   adopt:  the new member counts. Only once the peer no longer counts the old one: its heartbeat posted
//           generation G for slot k (it retired the old member; a node never counts it again in that life,
//           and every later life opens the set from superblocks that name generation G and leave the old
//           member out: both other members say G before any node posts G, see posted()). A clean leave
//           (DOWN) vouches for nothing (the model's rep_down_vouches: a peer that read the superblocks
//           before they were raised restarts with OLD).
// A node learns of G from the admin (who gives it the new device) or from the peer's heartbeat (then it
// retires at once and adopts when the admin gives it the new device on this node too).
// Pure: no I/O, no clock. The daemon performs the replace_device calls it asks for and must never adopt
// without next() saying so.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "disk/heartbeat_record.h"
#include "quorumd/quorum_core.h"

namespace castor {

class DeviceSetChange {
 public:
  enum class Step { none, retire, adopt };

  // `start`: what this node runs when it starts (the set's generation from the superblocks; a node that
  // starts at a generation > 0 starts retiring that generation's slot until the peer confirms it).
  // `vouched`: this node knows that both other members' superblocks name start.generation (it read them
  // so at open). A node posts generation G only once vouched (tests/model/replace.pml, rep_post_unvouched:
  // a node that posted G read from one raised member let its peer retire and adopt while the third member
  // still said G-1, and a restart with that member and OLD counted OLD); until then it posts G-1.
  explicit DeviceSetChange(SetPosture start, bool vouched = true) : posture_(start), vouched_(vouched) {}
  // What this node runs.
  const SetPosture& posture() const { return posture_; }
  // What its heartbeat says: posture(), or while not vouched the generation before it, steady.
  SetPosture posted() const;

  // An admin asks for generation g replacing slot k (the new device is ready). Refused while another
  // change is under way, or when g is not the next generation (or this one, for the node that learned
  // of it from its peer and is retiring slot k already).
  Status request(uint16_t g, uint8_t k);
  // The peer's latest heartbeat record.
  void on_peer_record(const HeartbeatRecord& r);

  // What the daemon must do now. retire: replace slot posture().slot... see pending_slot()/pending_generation().
  // `new_device_ready`: the admin's new device for the pending slot is open in the daemon.
  Step next(bool new_device_ready) const;
  uint16_t pending_generation() const { return pending_gen_; }
  uint8_t pending_slot() const { return pending_slot_; }
  // The daemon did it.
  void retired();
  void adopted();
  // The highest generation the peer posted; why adoption waits, for status and logs.
  uint16_t peer_generation() const { return peer_gen_; }
  std::string waiting_for() const;

 private:
  SetPosture posture_;
  bool pending_ = false;   // a retire is due (pending_gen_, pending_slot_)
  uint16_t pending_gen_ = 0;
  uint8_t pending_slot_ = 0;
  uint16_t peer_gen_ = 0;
  uint8_t peer_slot_ = 0;
  bool vouched_ = true;
};

}  // namespace castor
