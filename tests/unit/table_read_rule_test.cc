// svcmgr reads the peer's table only when something calls for it (svcmgr/table_read_rule.h), and quorumd's
// fingerprint of the peer (quorumd/peer_fingerprint.h) changes with everything a table-peer reply says of an
// UP peer, so that a change is never left unread.
#include <doctest/doctest.h>

#include "quorumd/peer_fingerprint.h"
#include "svcmgr/table_read_rule.h"

namespace castor {
namespace {

TimePoint at_ms(int64_t ms) { return TimePoint(std::chrono::milliseconds(ms)); }

TableReadFacts quiet() {
  TableReadFacts f;
  f.peer_view = PeerView::up;
  f.quorumd_hints = true;
  f.settled = true;
  f.ever_read = true;
  f.last_read_asked = at_ms(1000);
  f.now = at_ms(1100);
  f.backstop = table_read_backstop(std::chrono::milliseconds(100));
  return f;
}

}  // namespace

TEST_CASE("table read rule: a quiet tick reads nothing; every reason to read reads") {
  CHECK_FALSE(table_read_due(quiet()));
  CHECK(table_read_backstop(std::chrono::milliseconds(100)) == std::chrono::seconds(2));
  CHECK(table_read_backstop(std::chrono::seconds(5)) == std::chrono::seconds(20));
  TableReadFacts f = quiet();
  f.ever_read = false;
  CHECK(table_read_due(f));
  f = quiet();
  f.settled = false;
  CHECK(table_read_due(f));
  for (PeerView v : {PeerView::unknown, PeerView::dead, PeerView::down}) {
    f = quiet();
    f.peer_view = v;
    CHECK(table_read_due(f));
  }
  f = quiet();
  f.peer_updated = true;
  CHECK(table_read_due(f));
  f = quiet();
  f.claiming = true;
  CHECK(table_read_due(f));
  f = quiet();
  f.unread_service = true;  // a service a reload added: it has seen no read yet
  CHECK(table_read_due(f));
  f = quiet();
  f.quorumd_hints = false;  // an older quorumd never says the peer changed: read at every tick
  CHECK(table_read_due(f));
  f = quiet();
  f.now = f.last_read_asked + f.backstop - std::chrono::milliseconds(1);
  CHECK_FALSE(table_read_due(f));
  f.now += std::chrono::milliseconds(1);
  CHECK(table_read_due(f));
}

TEST_CASE("peer fingerprint: changes with every field the peer's summary and table carry, not with its seq") {
  HeartbeatRecord r;
  r.incarnation = 4;
  r.seq = 10;
  r.features = HeartbeatRecord::kPublishesTableGeneration | HeartbeatRecord::kPublishesStartedMark;
  r.table_generation = 7;
  const uint64_t base = peer_fingerprint(PeerView::up, 4, r);
  HeartbeatRecord next = r;
  next.seq = 11;  // a heartbeat like every other
  CHECK(peer_fingerprint(PeerView::up, 4, next) == base);
  using Change = void (*)(HeartbeatRecord&);
  const Change changes[] = {
      [](HeartbeatRecord& h) { h.table_generation = 8; },
      [](HeartbeatRecord& h) { h.flags = HeartbeatRecord::kStandby; },
      [](HeartbeatRecord& h) { h.services_digest = 99; },
      [](HeartbeatRecord& h) { h.peer_request = PeerRequest::standby; },
      [](HeartbeatRecord& h) { h.peer_request_serial = 3; },
      [](HeartbeatRecord& h) { h.handled_request_serial = 3; },
      [](HeartbeatRecord& h) { h.handled_request_incarnation = 3; },
      [](HeartbeatRecord& h) { h.started_mark = 5; },
      [](HeartbeatRecord& h) { h.not_started = {5}; },
      [](HeartbeatRecord& h) { h.state = NodeState::leaving; },
      [](HeartbeatRecord& h) { h.incarnation = 5; },
      [](HeartbeatRecord& h) { h.features |= HeartbeatRecord::kTakesPeerRequests; },
  };
  for (size_t i = 0; i < std::size(changes); ++i) {
    HeartbeatRecord c = r;
    changes[i](c);
    CHECK_MESSAGE(peer_fingerprint(PeerView::up, 4, c) != base, "change " << i);
  }
  CHECK(peer_fingerprint(PeerView::dead, 4, r) != base);
  CHECK(peer_fingerprint(PeerView::up, 4, std::nullopt) != base);
  // A peer that does not publish its table generation (an older Castor): every heartbeat may hide a change.
  HeartbeatRecord old = r;
  old.features = 0;
  HeartbeatRecord old_next = old;
  old_next.seq = 11;
  CHECK(peer_fingerprint(PeerView::up, 4, old) != peer_fingerprint(PeerView::up, 4, old_next));
}

}  // namespace castor
