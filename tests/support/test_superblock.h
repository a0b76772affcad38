// Test support: the superblock of a two-node test cluster (node 1 "alpha", node 2 "beta") and writing one
// over both superblock copies of a disk, as the in-process quorumd and table tests set up their disks. One
// place for those fields, so a field added to Superblock is set once. Never used by production code.
#pragma once

#include <string>

#include "common/clock.h"
#include "disk/block_device.h"
#include "disk/disk_layout.h"
#include "disk/record_seal.h"
#include "disk/superblock.h"

namespace castor::testing {

// A superblock named `cluster_name` with a new random UUID, nodes 1 alpha and 2 beta, `timing`, the slots
// of 512-byte sectors and the wall clock now; not authenticated (the caller sets records_authenticated).
Superblock two_node_superblock(const std::string& cluster_name, const Timing& timing);

// Encodes `sb` with `seal` and writes it to the primary and the backup superblock offsets of `dev` (512-byte
// layout), nothing else: what `castor init` of another cluster leaves under nodes that run. REQUIREs success.
void overwrite_superblocks(BlockDevice& dev, const Clock& clock, const Superblock& sb, const RecordSeal& seal,
                           Millis io_timeout);

}  // namespace castor::testing
