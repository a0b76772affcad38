#include "quorumd/peer_fingerprint.h"

#include "common/fnv1a.h"

namespace castor {

// A change of any field changes the number (collisions do not matter much: the next change, or svcmgr's
// periodic read, catches up).
uint64_t peer_fingerprint(PeerView view, uint64_t incarnation, const std::optional<HeartbeatRecord>& record) {
  Fnv1a m;
  m.add_u64(uint64_t(view));
  m.add_u64(incarnation);
  if (!record) return m.value();
  const HeartbeatRecord& r = *record;
  m.add_u64(r.incarnation);
  m.add_u64(uint64_t(r.state));
  m.add_u64(r.flags);
  m.add_u64(r.features);
  m.add_u64(r.services_digest);
  m.add_u64(uint64_t(r.peer_request));
  m.add_u64(r.peer_request_serial);
  m.add_u64(r.handled_request_incarnation);
  m.add_u64(r.handled_request_serial);
  m.add_u64(r.started_mark);
  m.add_u64(r.not_started.size());
  for (uint64_t e : r.not_started) m.add_u64(e);
  if (r.features & HeartbeatRecord::kPublishesTableGeneration)
    m.add_u64(r.table_generation);
  else
    m.add_u64(r.seq);  // nothing tells when its table changed: every heartbeat may have
  return m.value();
}

}  // namespace castor
