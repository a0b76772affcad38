// Writing a fresh quorum disk: the whole quorum area in one write — zeroes, except that each node's region
// holds a valid epoch record (floor `epoch_floor`: 0 on a new device; castor init --force passes the
// highest epoch of the disk it overwrites, so that epochs keep growing across a re-init) and all its
// service-table blocks, valid and empty — then the superblock backup (block 1), then the primary (block 0), then everything read back and checked.
// Because init writes every epoch and table block, a block of those that later fails to decode (zeroed,
// torn, bad CRC, another cluster) is damage, never "not written yet" (ondisk-format.md). Records written
// here carry writer = the region's node id, incarnation 0 and seq 0 (incarnation 0 = "written by castor
// init"; a running quorumd always has a non-zero incarnation) and the superblock's creation time.
// The caller (castor init) has already decided that the device may be overwritten; this unit never probes.
#pragma once

#include <vector>

#include "common/clock.h"
#include "disk/block_device.h"
#include "disk/record_seal.h"
#include "disk/superblock.h"

namespace castor {

// `seal` signs every block written; it must be an hmac seal exactly when sb.records_authenticated.
Status initialize_quorum_disk(BlockDevice& dev, const Clock& clock, const Superblock& sb, const RecordSeal& seal,
                              Duration io_timeout, uint64_t epoch_floor = 0);

// A set of quorum devices (issue 17): each device of `devices` (kQuorumDevices of them, in index order) is
// written as above with sb's device set, its own index, and its own copy of everything else. sb.devices must
// name the set (count kQuorumDevices, members); its index is ignored. Stops at the first device that fails.
Status initialize_quorum_device_set(const std::vector<BlockDevice*>& devices, const Clock& clock, const Superblock& sb,
                                    const RecordSeal& seal, Duration io_timeout, uint64_t epoch_floor = 0);

}  // namespace castor
