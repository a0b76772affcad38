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

// How a CLI verb checks the records: the key file, and whether castor.ini requires authenticated records
// (authenticate_disk = yes) -- then the disk is read as authenticated even if its superblock lacks the
// flag (a cleared flag is a downgrade: its records are checked with the key and shown INVALID if they do
// not verify, as quorumd would refuse them).
struct CliDiskAuth {
  std::string authkey_path;
  bool required = false;
};

Result<CliDiskRead> read_disk_for_cli(BlockDevice& dev, const Clock& clock, Duration io_timeout,
                                      const CliDiskAuth& auth);

// For a CLI verb: the key path is --authkey if given, else [quorumd] authkey of `config_path` if that file
// loads, else the default /etc/castor/authkey; `required` is that file's authenticate_disk.
CliDiskAuth cli_disk_auth(const std::optional<std::string>& option, const std::string& config_path);

}  // namespace castor
