// Test support: the sample records the ownership and service-table tests build (a service's table entry,
// the peer's entry as svcmgr reads it) and the test clock they are stamped with. One builder a record, so
// a field added to a record is set in one place. Values are the caller's; nothing is defaulted here but
// what the record itself defaults. Never used by production code.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/clock.h"
#include "disk/service_table_record.h"
#include "svcmgr/ownership.h"

namespace castor::testing {

// `ms` milliseconds after TimePoint{} (the tests' own clock, not the boot clock).
TimePoint at(int ms);

// An entry in use: `name` in `state`, on `node`, with `epoch` and `ballot` (ServiceEntry's field order);
// no flags, digest, change time or restarts.
ServiceEntry service_entry(const std::string& name, OwnershipState state, uint32_t node, uint64_t epoch,
                           uint64_t ballot);

// The peer's entry `e`, read from at(issued_ms) to at(completed_ms), with the peer's epoch floor as read
// (nullopt: its epoch record did not decode) and the incarnation that wrote it (0: not known).
PeerEntryRead peer_read(const ServiceEntry& e, int issued_ms, int completed_ms, std::optional<uint64_t> peer_floor,
                        uint64_t writer_incarnation = 0);

}  // namespace castor::testing
