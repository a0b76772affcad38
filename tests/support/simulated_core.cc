#include "tests/support/simulated_core.h"

#include <algorithm>

namespace castor::testing {

SimulatedCore::SimulatedCore(uint32_t id, TimePoint start, bool lan, Duration term)
    : t(start), core(config(id, lan, term), start) {}

CoreConfig SimulatedCore::config(uint32_t id, bool lan, Duration term) {
  CoreConfig c;
  c.cluster_uuid.bytes[0] = 7;
  c.node_id = id;
  c.incarnation = id == 1 ? 0xA : 0xB;
  c.timing = *Timing::from_io_timeout(kSimulatedIoTimeout);
  if (lan) c.promises = PromiseTerms::from(c.timing, std::chrono::seconds(120));
  if (lan && term > Duration(0)) c.promises->term = term;  // a P other than F
  return c;
}

HeartbeatRecord SimulatedCore::peer_record() const {
  HeartbeatRecord r;
  r.cluster_uuid = core.config().cluster_uuid;
  r.node_id = core.peer_id();
  r.incarnation = core.peer_id() == 1 ? 0xA : 0xB;
  r.seq = peer_seq;
  r.state = NodeState::up;
  return r;
}

void SimulatedCore::run(const std::vector<CoreAction>& acts) {
  for (const auto& a : acts) {
    switch (a.kind) {
      case CoreActionKind::peer_changed: last_transition = a.peer; break;
      case CoreActionKind::stop_services:
        if (!stop_asked) stop_at = t;
        stop_asked = true;
        stops.push_back(t);
        break;
      case CoreActionKind::write_heartbeat:
      case CoreActionKind::read_peer:
      case CoreActionKind::read_own:
        pending_.push_back({t + (disk_ok ? Duration(Millis(1)) : Duration(kSimulatedIoTimeout)), t, a, disk_ok});
        break;
      default: break;
    }
  }
}

void SimulatedCore::complete_due() {
  for (size_t i = 0; i < pending_.size();) {
    if (pending_[i].at > t) {
      ++i;
      continue;
    }
    Pending p = pending_[i];
    pending_.erase(pending_.begin() + long(i));
    std::vector<CoreAction> more;
    const Status io = p.ok ? Status::Ok() : Error(Code::timeout, "stalled");
    if (p.action.kind == CoreActionKind::write_heartbeat) core.on_write_done(p.action.record.seq, p.issued, io, t, more);
    if (p.action.kind == CoreActionKind::read_peer) {
      if (p.ok) core.on_peer_read(p.issued, peer_record(), 0, io, t, more);
      else core.on_peer_read(p.issued, io, 0, io, t, more);
    }
    if (p.action.kind == CoreActionKind::read_own) {
      HeartbeatRecord own;
      own.cluster_uuid = core.config().cluster_uuid;
      own.node_id = core.config().node_id;
      own.incarnation = core.config().incarnation;
      own.seq = core.last_written_seq();
      if (p.ok) core.on_own_read(p.issued, own, io, t, more);
      else core.on_own_read(p.issued, io, io, t, more);
    }
    run(more);
    i = 0;
  }
}

void SimulatedCore::step_to(TimePoint end) {
  while (t < end) {
    t = std::min(end, t + step);
    complete_due();
    std::vector<CoreAction> acts;
    core.tick(t, acts);
    run(acts);
  }
}

}  // namespace castor::testing
