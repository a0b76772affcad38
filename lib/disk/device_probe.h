// Device probing for `castor init`: turns a device spec (path, LABEL=, UUID=, ...) into a path, finds out
// what a device is and what it holds (via libblkid, the mount table, swap and sysfs holders), and decides
// whether it is safe to write a quorum partition there.
// Must never write to or change the state of any device: it only opens read-only, reads and asks ioctls
// that query. It knows nothing of Castor's own on-disk format (the caller reads the superblock itself).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"

namespace castor {

// Resolves "LABEL=x", "UUID=x", "PARTUUID=x" or "PARTLABEL=x" (value optionally in double quotes) to a device
// path through libblkid (udev links if present, else a scan of /proc/partitions; no blkid cache file is read
// or written). Anything else is taken as a plain path and returned unchanged -- except that a path that is, or
// links (hop by hop) through, a udev tag link .../disk/by-label|by-uuid|by-partuuid|by-partlabel/NAME (udev's
// \xHH escapes decoded) is checked as the tag it names: refused like it, else returned unchanged. by-id and
// by-path links name the LUN (WWN, serial) or its port, which a clone does not copy: plain paths.
// A tag that more than one device carries (every device in /proc/partitions is probed; a device held by
// another, e.g. a path of a multipath map, is not counted) -> Code::refused naming them all: a cloned or
// snapshot LUN must never be taken for the quorum disk.
// No such device -> Code::not_found naming the tag; an unknown TAG= or an empty value -> Code::invalid_argument.
Result<std::string> resolve_device(const std::string& spec);

struct DeviceInfo {
  std::string path;                   // as passed to probe_device
  bool is_block_device = false;       // false for a regular file (allowed: file-backed tests)
  uint64_t size_bytes = 0;
  uint32_t logical_sector_size = 0;   // BLKSSZGET; 512 for a regular file
  uint32_t physical_sector_size = 0;  // BLKPBSZGET (== logical if the kernel cannot tell)
  bool read_only = false;             // BLKROGET for a block device; access(W_OK) for a regular file
  // Non-empty if in use by the kernel: the mount point(s) of the device or of any of its partitions (matched
  // by device number, not by name), e.g. "/mnt/data" or "/mnt/data (partition loop3p1)"; "[SWAP]" if it is
  // active swap. Joined with ", " if several.
  std::string mounted_at;
  // Non-empty if sysfs lists holders (device-mapper, MD, bcache, ...) of the device or of its partitions,
  // e.g. "dm-0" or "md127 (partition sdb1)"; for a regular file, the loop devices backed by it ("loop2").
  std::string holders;
  // What libblkid's low-level probe (superblocks and partition tables) found; all empty if nothing.
  std::string content_type;   // e.g. "ext4", "swap", "linux_raid_member", "LVM2_member", or a partition
                              // table "dos"/"gpt"; if ambivalent, every candidate, joined with ",";
                              // "unknown" if libblkid found something it did not name
  std::string content_usage;  // "filesystem", "raid", "crypto", "other", "partition table"
  std::string content_label;  // LABEL, if the content has one
  std::string content_uuid;   // UUID (PTUUID for a partition table), if the content has one
  bool content_ambivalent = false;  // libblkid found several conflicting signatures
};

// Probes a block device or a regular file. Fails (with the path and what failed) if it cannot be opened,
// is neither a block device nor a regular file, or any of the queries above fails.
Result<DeviceInfo> probe_device(const std::string& path);

// The checks `castor init` applies, in this order, each refusing with a message an admin understands:
//   mounted or active swap        -> Code::busy
//   holders (dm, md, a loop device using it) -> Code::busy
//   read-only                     -> Code::permission_denied
//   smaller than min_size_bytes   -> Code::unsupported (the CLI's exit code 7, "too small"; not
//                                    invalid_argument, which the CLI reports as a usage error)
//   an existing Castor quorum disk (existing_castor_cluster has a value: the cluster named in the Castor
//     superblock the caller found, or "" if it has no name)            -> Code::refused unless force
//   any content libblkid found (filesystem, RAID/LVM member, partition table, swap, crypto, or ambivalent)
//                                                                     -> Code::refused unless force
// force skips only the last two; it never skips mounted, holders, read-only or too small.
Status check_device_for_init(const DeviceInfo& info, uint64_t min_size_bytes, bool force,
                             const std::optional<std::string>& existing_castor_cluster = std::nullopt);

}  // namespace castor
