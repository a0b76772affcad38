// QuorumDeviceSet: the devices of one quorum disk, found and checked when a node or a tool starts — one
// device, or the kQuorumDevices members of a set written by one `castor init DEV1 DEV2 DEV3` (issue 17;
// docs/design.md "Three quorum devices"). Each member's own superblock says its place in the set; the set
// is ordered by it, whatever order the paths were given in. A member that cannot be opened or read, or that
// an admin replaced (`castor disk replace` raised the generation without it), stays in its place as a
// FailedBlockDevice, with the reason: the set runs on the majority that answers.
// It reads superblocks only, and never writes. It refuses (Code::refused) what must never run: devices of
// different clusters, one path listing a member of a set, three paths without a majority of members, a
// device listed twice under two names.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "disk/block_device.h"
#include "disk/record_seal.h"
#include "disk/superblock.h"

namespace castor {

struct QuorumDeviceMember {
  std::string path;                     // the path it was opened by ("" for a member none of the paths held)
  std::unique_ptr<BlockDevice> device;  // a FailedBlockDevice when lost
  Status status;                        // ok, or why it is lost
  std::optional<Superblock> superblock; // its own (valid) superblock
  bool lost() const { return !status.ok(); }
};

struct QuorumDeviceSet {
  // The set's superblock: that of the lowest-index member that answered (devices.index is that member's).
  Superblock superblock;
  std::vector<QuorumDeviceMember> members;  // one, or kQuorumDevices by index
  size_t answering() const;
  // "DEV (member 1): why" for each lost member; empty when none is.
  std::string lost_text() const;
};

using OpenQuorumDevice = std::function<Result<std::unique_ptr<BlockDevice>>(const std::string& path)>;

// Reads the superblock (primary, else backup) of every path with `seal` and checks the set as said above.
// One path: the device itself (refused if its superblock says it is a member of a set; a device whose
// superblock does not decode is returned with that status for the caller's own messages).
// Three paths: at least a majority must be members of one set of one cluster.
Result<QuorumDeviceSet> open_quorum_device_set(const std::vector<std::string>& paths, const OpenQuorumDevice& open,
                                               const Clock& clock, Duration io_timeout, const RecordSeal& seal);

// The superblock copy a device holds (primary, else backup), read with `seal`.
Result<Superblock> read_device_superblock(BlockDevice& dev, const Clock& clock, Duration io_timeout,
                                          const RecordSeal& seal);

// Everything but the device set's index and generation is the same (the fields one castor init wrote).
bool same_set_superblock(const Superblock& a, const Superblock& b);

}  // namespace castor
