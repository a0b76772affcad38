// Writing a fresh quorum disk: every block of the quorum area zeroed (node regions "never written"), then the
// superblock backup (block 1), then the primary (block 0), then both read back and checked.
// The caller (castor init) has already decided that the device may be overwritten; this unit never probes.
#pragma once

#include "common/clock.h"
#include "quorumd/block_device.h"
#include "quorumd/superblock.h"

namespace castor {

Status initialize_quorum_disk(BlockDevice& dev, const Clock& clock, const Superblock& sb, Duration io_timeout);

}  // namespace castor
