#include "quorumd/peer_fingerprint.h"

namespace castor {
namespace {

struct Mix {  // FNV-1a over 64-bit words: a change of any field changes the number (collisions do not matter
              // much: the next change, or svcmgr's periodic read, catches up)
  uint64_t h = 14695981039346656037ull;
  void add(uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      h ^= (v >> (8 * i)) & 0xff;
      h *= 1099511628211ull;
    }
  }
};

}  // namespace

uint64_t peer_fingerprint(PeerView view, uint64_t incarnation, const std::optional<HeartbeatRecord>& record) {
  Mix m;
  m.add(uint64_t(view));
  m.add(incarnation);
  if (!record) return m.h;
  const HeartbeatRecord& r = *record;
  m.add(r.incarnation);
  m.add(uint64_t(r.state));
  m.add(r.flags);
  m.add(r.features);
  m.add(r.services_digest);
  m.add(uint64_t(r.peer_request));
  m.add(r.peer_request_serial);
  m.add(r.handled_request_incarnation);
  m.add(r.handled_request_serial);
  m.add(r.started_mark);
  m.add(r.not_started.size());
  for (uint64_t e : r.not_started) m.add(e);
  if (r.features & HeartbeatRecord::kPublishesTableGeneration)
    m.add(r.table_generation);
  else
    m.add(r.seq);  // nothing tells when its table changed: every heartbeat may have
  return m.h;
}

}  // namespace castor
