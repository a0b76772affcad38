// The size of a set of quorum devices (issue 17; docs/design.md "Three quorum devices"): a quorum disk is
// one device, or this many devices each holding a full copy of the node regions, a majority of which must
// answer. One constant for the on-disk format (disk/superblock.h) and the configuration (config/).
#pragma once

#include <cstdint>

namespace castor {

inline constexpr uint32_t kQuorumDevices = 3;

}  // namespace castor
