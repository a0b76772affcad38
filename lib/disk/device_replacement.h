// DeviceReplacement: what `castor disk replace` writes on the quorum devices (tools/cmd_disk.cc; issue 17,
// docs/design.md "Replacing a quorum device"): the set's next generation, a new member prepared in the slot of
// the old one (its quorum area zeroed, then its superblock), and a remaining member raised to the new
// generation. Every superblock is written with the set's seal (CRC only, or HMAC with the cluster key for a set
// initialised with --authenticate), so the nodes' quorumd read them as they read castor init's.
// It must never: write a node region of a member in use (only NEW's area and the header area of a member), or
// write a superblock before the data it guards (NEW's area is zeroed first: a copy of nothing is never taken for
// a node's word).
#pragma once

#include <cstdint>

#include "common/clock.h"
#include "common/status.h"
#include "common/uuid.h"
#include "disk/block_device.h"
#include "disk/record_seal.h"
#include "disk/superblock.h"

namespace castor {

// The set's superblock once `slot` is replaced by the member `new_id`: generation + 1, the changed slot and
// the new member's id (devices.index is left as in `set`: each device writes its own).
Superblock next_device_set_generation(const Superblock& set, uint32_t slot, const Uuid& new_id);

// Both copies of `sb` (the backup first), sealed with `seal`.
Status write_superblock_copies(BlockDevice& dev, const Clock& clock, const Superblock& sb, const RecordSeal& seal,
                               Duration io_timeout);

// NEW as member `slot` of `next` (next_device_set_generation's result): its quorum area (the layout's
// required bytes) zeroed, then its superblock with devices.index = slot.
Status prepare_new_member(BlockDevice& dev, const Clock& clock, const Superblock& next, uint32_t slot,
                          const RecordSeal& seal, Duration io_timeout);

// A remaining member (its own index `index`) raised to `next`'s generation: its superblock only.
Status raise_member(BlockDevice& dev, const Clock& clock, const Superblock& next, uint32_t index,
                    const RecordSeal& seal, Duration io_timeout);

}  // namespace castor
