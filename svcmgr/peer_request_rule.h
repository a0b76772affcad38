// PeerRequestRule: whether svcmgr acts on the peer's request for this node (castor standby THIS-NODE run on
// the peer; docs/design.md "Standby asked from the peer"), from quorumd's table-peer view of the peer and the
// last request acted on. Only a peer that is UP is heard: a dead or departed peer's last heartbeat may still
// carry a request nobody handled, which must not be applied long after (say by a quorumd restarted here).
// A request is acted on once: not again when this svcmgr or its quorumd already handled that (life, serial).
// Pure: no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>

#include "control/table_codec.h"

namespace castor {

using PeerRequestId = std::pair<uint64_t, uint64_t>;  // (the asking peer's life, the request's serial)

// The standby to set (true: standby, false: unstandby), or nullopt: nothing to do.
inline std::optional<bool> peer_request_to_apply(const PeerSummary& p, const PeerRequestId& applied_here) {
  if (p.request == PeerRequest::none || p.view != PeerView::up) return std::nullopt;
  const PeerRequestId asked{p.incarnation, p.request_serial};
  if (asked == applied_here || asked == PeerRequestId{p.handled_incarnation, p.handled_serial}) return std::nullopt;
  return p.request == PeerRequest::standby;
}

}  // namespace castor
