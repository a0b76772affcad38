#include "svcmgr/table_read_rule.h"

#include <algorithm>

namespace castor {

bool table_read_due(const TableReadFacts& f) {
  if (!f.ever_read || !f.settled) return true;
  if (f.peer_view != PeerView::up) return true;
  if (f.peer_updated || !f.quorumd_hints || f.claiming || f.unread_service) return true;
  return f.now - f.last_read_asked >= f.backstop;
}

Duration table_read_backstop(Duration renew_interval) {
  return std::max<Duration>(renew_interval * 4, std::chrono::seconds(2));
}

}  // namespace castor
