// PeerRequestRule: whether svcmgr acts on the peer's request for this node (castor standby THIS-NODE run on
// the peer; docs/design.md "Standby asked from the peer"), from quorumd's table-peer view of the peer and the
// last request acted on. Only a peer that is UP is heard: a dead or departed peer's last heartbeat may still
// carry a request nobody handled, which must not be applied long after (say by a quorumd restarted here).
// A request is acted on once: not again when this svcmgr or its quorumd already handled that (life, serial).
// A standby asked by a peer that is itself in standby is refused (the asker's own check may have crossed a
// standby of its own); a leaving asker publishes no request (quorumd drops it from LEAVING records).
// Pure: no I/O.
#pragma once

#include <cstdint>
#include <utility>

#include "control/table_codec.h"

namespace castor {

using PeerRequestId = std::pair<uint64_t, uint64_t>;  // (the asking peer's life, the request's serial)

enum class PeerRequestAction {
  none,       // nothing new to act on
  standby,    // put this node in standby
  unstandby,  // take it out
  refuse,     // a standby asked by a peer that is in standby itself: both would stop every service
};

inline PeerRequestAction peer_request_action(const PeerSummary& p, const PeerRequestId& applied_here) {
  if (p.request == PeerRequest::none || p.view != PeerView::up) return PeerRequestAction::none;
  const PeerRequestId asked{p.incarnation, p.request_serial};
  if (asked == applied_here || asked == PeerRequestId{p.handled_incarnation, p.handled_serial}) return PeerRequestAction::none;
  if (p.request == PeerRequest::unstandby) return PeerRequestAction::unstandby;
  return p.standby ? PeerRequestAction::refuse : PeerRequestAction::standby;
}

}  // namespace castor
