#include "svcmgr/admin_state.h"

namespace castor {

AdminState admin_state(const ServiceEntry& mine, const std::optional<ServiceEntry>& peer, uint32_t my_id, bool autostart) {
  const bool have_mine = mine.in_use && mine.state != OwnershipState::none;
  const bool have_peer = peer && peer->in_use && peer->state != OwnershipState::none;
  if (!have_mine && !have_peer) return {autostart, 0};
  const ServiceEntry* latest = have_mine ? &mine : &*peer;
  if (have_mine && have_peer) {
    if (peer->ballot > mine.ballot || (peer->ballot == mine.ballot && my_id != 1)) latest = &*peer;
  }
  AdminState s;
  s.latest_writer = latest == &mine ? my_id : (my_id == 1 ? 2 : 1);
  s.frozen = (latest->flags & ServiceEntry::kFrozen) != 0;
  if (latest->flags & ServiceEntry::kRestartRequest) s.restart_request = latest->ballot;
  if (latest->state == OwnershipState::disabled) {
    s.enabled = false;
    return s;
  }
  if (latest->state == OwnershipState::released) s.requested_node = latest->node;
  return s;
}

}  // namespace castor
