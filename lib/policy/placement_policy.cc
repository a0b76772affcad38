// decide_placement: the rules of lib/policy/placement_policy.h, in their order. Run by svcmgr for each service
// at each evaluation and by `castor simulate` for each node of a status; so it must never read anything but
// its facts (no clock, no disk, no log, no globals) nor keep state between calls.
#include "policy/placement_policy.h"

#include <algorithm>

namespace castor {
namespace {

int rank(const ServiceDefinition& def, const std::string& node) {
  auto it = std::find(def.nodes.begin(), def.nodes.end(), node);
  return it == def.nodes.end() ? -1 : int(it - def.nodes.begin());
}

PlacementDecision hold(std::string why) { return {Intent::hold, 0, std::move(why)}; }
PlacementDecision release(uint32_t to, std::string why) { return {Intent::release, to, std::move(why)}; }

}  // namespace

PlacementDecision decide_placement(const PlacementFacts& f) {
  const ServiceDefinition& def = *f.def;
  const bool peer_gone = f.peer_view == PeerView::dead || f.peer_view == PeerView::down;
  const bool peer_online = f.peer_view == PeerView::up;
  const bool me_ok = !f.me_standby && !f.failed_here && rank(def, f.me) >= 0;
  const bool peer_ok = peer_online && !f.peer_standby && rank(def, f.peer) >= 0;
  const bool peer_preferred = rank(def, f.peer) >= 0 && (rank(def, f.me) < 0 || rank(def, f.peer) < rank(def, f.me));

  if (f.frozen) return f.running_here ? hold("frozen: stays here") : release(0, "frozen: not here");
  if (!f.enabled) return {Intent::disable, 0, "disabled"};

  if (f.relocate_to && f.definitions_match) {
    if (*f.relocate_to == f.me && me_ok) {
      // Keep the request standing (my entry: released to me) until the peer has let go of it.
      if (f.running_on_peer && !peer_gone) return release(f.me_id, "relocation to this node: waiting for " + f.peer);
      return hold("relocation requested to this node");
    }
    if (*f.relocate_to == f.peer && peer_ok) return release(f.peer_id, "relocation requested to " + f.peer);
  }

  if (f.running_here) {
    if (!me_ok && peer_ok && f.definitions_match)
      return release(f.peer_id, f.me_standby ? "this node is in standby" : f.failed_here ? "failed here: moving to " + f.peer
                                                                                         : "not in the failover domain");
    if (!me_ok && !peer_ok) {
      if (f.me_standby || rank(def, f.me) < 0) return release(0, "this node may not run it and the peer cannot");
      return release(0, "failed here and the peer cannot take it");
    }
    if (def.failback && peer_preferred && peer_ok && f.definitions_match)
      return release(f.peer_id, "failback to the preferred node " + f.peer);
    return hold("running here");
  }

  if (f.running_on_peer && !peer_gone) return release(f.peer_id, "running on " + f.peer);

  // Running nowhere.
  if (f.peer_view == PeerView::unknown) return release(0, "waiting to learn the peer's state");
  if (me_ok && (!peer_ok || !peer_preferred)) return hold(peer_gone ? "taking over from " + f.peer : "starting on the preferred node");
  if (peer_ok) return release(f.peer_id, "the preferred node " + f.peer + " should run it");
  return release(0, "no eligible node");
}

}  // namespace castor
