// Pacemaker export, the quorum disk as an sbd device (issue 21, `castor export pacemaker --sbd`): what an
// admin moving to Pacemaker needs to keep a shared disk as the last fencing level. Adds to a PcmkExport a
// fence_sbd stonith resource over the quorum disk(s) (at most three, as sbd takes), a fencing level after
// every node's existing levels, and the setup steps: the disk must be re-initialised with `sbd -d DEV
// create`, because Castor's on-disk format is not sbd's (the two can never share the disk: once sbd owns
// it, Castor's quorum daemon must not run on it), the sbd daemon configured with the disk and the watchdog.
// stonith-watchdog-timeout stays unset: that is sbd without a disk, not this.
// Must never do I/O or throw.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "tools/pacemaker_export.h"

namespace castor {

inline constexpr const char* kPcmkSbdId = "sbd-fencing";

// `devices`: castor.ini's [quorumd] device entries (split_device_list); `watchdog`: its watchdog_device.
// Errors (invalid_argument): no device, more than three, one that is not an absolute path (LABEL=, UUID=:
// sbd and fence_sbd take paths), or an id the export uses already.
Status add_sbd_to_export(const std::vector<std::string>& devices, const std::string& watchdog, PcmkExport& e);

}  // namespace castor
