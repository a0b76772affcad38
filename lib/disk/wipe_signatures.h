// Wiping foreign signatures (filesystem, RAID, LVM, swap, partition tables) from a device, as wipefs -a does,
// so that a device taken over with `castor init --force` no longer claims to hold what it held.
// Only castor init calls it, and only after the admin said --force and the device passed every check that
// --force does not override (not mounted, not in use, writable).
#pragma once

#include <string>

#include "common/status.h"

namespace castor {

// Erases every signature libblkid finds on `path` (opened O_EXCL, so a mounted device is refused).
Status wipe_signatures(const std::string& path);

}  // namespace castor
