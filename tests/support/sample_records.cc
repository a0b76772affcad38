#include "tests/support/sample_records.h"

namespace castor::testing {

TimePoint at(int ms) { return TimePoint{std::chrono::milliseconds(ms)}; }

ServiceEntry service_entry(const std::string& name, OwnershipState state, uint32_t node, uint64_t epoch,
                           uint64_t ballot) {
  ServiceEntry e;
  e.in_use = true;
  e.state = state;
  e.node = node;
  e.epoch = epoch;
  e.ballot = ballot;
  e.name = name;
  return e;
}

PeerEntryRead peer_read(const ServiceEntry& e, int issued_ms, int completed_ms, std::optional<uint64_t> peer_floor,
                        uint64_t writer_incarnation) {
  PeerEntryRead r;
  r.entry = e;
  r.read_issued = at(issued_ms);
  r.read_completed = at(completed_ms);
  r.peer_floor = peer_floor;
  r.writer_incarnation = writer_incarnation;
  return r;
}

}  // namespace castor::testing
