// TableReadRule: whether svcmgr asks quorumd for a read of the peer's table at this tick. Reading 35 blocks
// every renew interval when nothing moves was most of an idle node's cost (issue 19); quorumd now tells
// svcmgr when something of the peer changed (event peer_updated, quorumd/peer_fingerprint.h), so a quiet
// tick re-evaluates the services on the last read instead. A read is due when: none was ever made; the peer
// is not UP (a verdict is confirmed by fresh reads); quorumd said the peer changed since the last read was
// asked, or the last read failed; quorumd does not send that event (an older one); a service is claiming (a
// claim is confirmed only by a read issued after it landed: that read is asked when the claim's write
// completes, and again at every tick while it waits); a service has never had a read (added by a reload);
// svcmgr has not settled; or the last read is `backstop` old (damage to the peer's blocks changes no
// generation).
// Pure. Must never be what lets a claim proceed without a fresh read: it only decides when to read.
#pragma once

#include "common/clock.h"
#include "common/peer_view.h"

namespace castor {

struct TableReadFacts {
  PeerView peer_view = PeerView::unknown;
  bool peer_updated = false;     // a peer_updated event came after the last read was asked, or that read failed
  bool quorumd_hints = false;    // quorumd sends peer_updated (its status says so)
  bool claiming = false;         // a service's ownership is claiming
  bool unread_service = false;   // a service has had no read of the peer's table yet
  bool settled = false;          // svcmgr's start-up probes are done
  bool ever_read = false;
  TimePoint last_read_asked{};
  TimePoint now{};
  Duration backstop{};
};

bool table_read_due(const TableReadFacts& f);

// How old the last read may grow when nothing calls for one: four renew intervals, at least 2 s.
Duration table_read_backstop(Duration renew_interval);

}  // namespace castor
