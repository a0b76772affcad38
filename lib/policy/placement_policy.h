// PlacementPolicy: where should a service run, and so what should this node do with it — hold it (run it
// or claim it) or release it (to the peer, or nowhere)? Pure: the facts go in, an intent comes out; the
// ownership protocol (svcmgr/ownership.h) then makes the intent safe, and the daemon only executes.
// Its own layer (lib/policy: config and common only) so that the one policy svcmgr runs is also the one
// `castor simulate` runs on a status (tools/placement_simulation.h), as crm_simulate runs Pacemaker's.
//
// Rules, in order (the anchors: clumanager/rgmanager ordered failover domains, Pacemaker stickiness):
//  1. frozen: nothing moves; keep doing what we do.
//  2. disabled: run nowhere.
//  3. a pending relocation to an eligible node wins (one-shot: no constraint stays behind; once moved,
//     the service sticks where it is unless failback says otherwise).
//  4. definitions differ between the nodes: no move (monitoring and local recovery go on).
//  5. running here: stay, unless this node is no longer eligible (standby, failures exhausted, not in the
//     domain), or failback = yes and the peer is more preferred and eligible.
//  6. running on the peer (and the peer is not DEAD/DOWN): leave it there.
//  7. running nowhere: the most preferred eligible node takes it, if it is enabled; an UNKNOWN peer may
//     still be running it, so nothing starts until the peer is known (UP, DEAD or DOWN).
// Never starts anything itself, never reads the disk or the clock, never does any I/O or logs: a caller that
// is not svcmgr must get exactly svcmgr's answer from the same facts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/peer_view.h"
#include "config/service_definition.h"
#include "policy/intent.h"

namespace castor {

struct PlacementFacts {
  const ServiceDefinition* def = nullptr;
  std::string me, peer;        // node names
  uint32_t me_id = 0, peer_id = 0;
  PeerView peer_view = PeerView::unknown;
  bool me_standby = false, peer_standby = false;
  bool running_here = false;   // my ownership is claiming/owning/running/stopping
  bool running_on_peer = false;  // the peer's entry is up (claiming/owned/releasing)
  bool enabled = true;         // not disabled by the admin (and started once if autostart = no)
  bool frozen = false;
  bool failed_here = false;    // restarts exhausted within the window, or a hard error: not eligible here
  bool definitions_match = true;
  std::optional<std::string> relocate_to;  // pending admin request (node name)
};

struct PlacementDecision {
  Intent intent = Intent::release;
  uint32_t target = 0;  // with release: the node that should get it (0 = none)
  std::string reason;
};

PlacementDecision decide_placement(const PlacementFacts& f);

}  // namespace castor
