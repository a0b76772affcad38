// Reading a quorum disk for display (castor dump, castor status) when its records may be authenticated:
// first every record with RecordSeal::tag_unchecked() to learn the superblock's "records authenticated"
// flag; then, on a disk without the flag, again with crc_only (exactly as before authentication existed);
// on a disk with it, again with the cluster key (disk/record_seal.h), so that a record whose tag does not
// verify (forged, or written with another key) is shown as corrupt, not decoded as if trusted. Without a
// usable key the unchecked snapshot is returned and `tags` says that nothing was verified.
// Reads only: never writes. Never prints the key.
#pragma once

#include <optional>
#include <string>

#include "common/clock.h"
#include "disk/block_device.h"
#include "disk/disk_snapshot.h"

namespace castor {

struct CliDiskRead {
  DiskSnapshot snap;
  bool authenticated_disk = false;  // the superblock carries the flag
  bool tags_verified = false;       // every record below was checked with the key
  std::string tags;                 // one line for the reader: how the records were checked
};

Result<CliDiskRead> read_disk_for_cli(BlockDevice& dev, const Clock& clock, Duration io_timeout,
                                      const std::string& authkey_path);

// The authkey path for a CLI verb: --authkey if given, else [quorumd] authkey of `config_path` if that file
// loads, else the default /etc/castor/authkey.
std::string cli_authkey_path(const std::optional<std::string>& option, const std::string& config_path);

}  // namespace castor
