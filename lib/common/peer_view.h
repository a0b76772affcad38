// PeerView: what one node's quorumd says of its peer -- UNKNOWN (not yet known), UP (its heartbeat is seen
// changing), DEAD (unchanged for the dead time D), DOWN (it left cleanly). The value also travels on the disk
// (the heartbeat record's peer_view byte, lib/disk/heartbeat_record.h, which names it) and in the LAN
// datagram, so the numbers are fixed. Here, below every layer, so that the pure placement policy
// (lib/policy) can take it without the disk format.
// Must never gain a value or change a number: both are on the disk; never any code here.
#pragma once

#include <cstdint>

namespace castor {

enum class PeerView : uint8_t { unknown = 0, up = 1, dead = 2, down = 3 };

}  // namespace castor
