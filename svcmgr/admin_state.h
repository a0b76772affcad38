// AdminState: the cluster's current admin word on a service, read from the two nodes' entries for it.
// Every entry write carries a ballot above every ballot its writer has seen, so the entry with the higher
// ballot is the latest decision (ties: node 1's). From it:
//   disabled              -> the service is disabled (runs nowhere until enabled)
//   released to node N    -> a pending request that N should run it (a relocation, or a hand-over)
//   anything else         -> enabled, no request
// and, from its flags: frozen (nothing moves, nothing is monitored), restart requested (the owner restarts it
// in place once, and answers with a newer entry of its own).
// No entries at all: disabled when autostart = no, else enabled. This is how admin requests reach a
// service the peer owns with no network between the nodes: through the disk. Pure.
#pragma once

#include <optional>

#include "disk/service_table_record.h"

namespace castor {

struct AdminState {
  bool enabled = true;
  uint32_t requested_node = 0;  // 0 = no pending request
  bool frozen = false;          // the latest entry carries the frozen flag
  uint64_t restart_request = 0; // ballot of a standing restart request (the latest entry's), 0 = none
  uint32_t latest_writer = 0;   // which node wrote the latest entry
};

AdminState admin_state(const ServiceEntry& mine, const std::optional<ServiceEntry>& peer, uint32_t my_id, bool autostart);

}  // namespace castor
