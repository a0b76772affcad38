// Opening the quorum disk read-only for the CLI (castor status when quorumd does not answer): one device as
// before, or the set of three castor.ini lists (device = A B C), opened as quorumd opens it
// (open_quorum_device_set) and read through a MajorityBlockDevice, so the records shown are the ones a node
// would act on. Blocks are judged without their tags (tag_unchecked): the caller decodes each record with
// the seal it chose (disk_read_auth.h). Never writes.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "disk/block_device.h"

namespace castor {

struct CliQuorumDisk {
  std::unique_ptr<BlockDevice> device;
  std::string describe;        // the path, or "A B C (a set of three; member 1 lost: why)"
  std::vector<std::string> lost;  // per lost member: "PATH (member N): why"
};

// `setting`: castor.ini's device value or --device (one device, or three).
Result<CliQuorumDisk> open_quorum_disk_for_cli(const std::string& setting, const Clock& clock, Duration io_timeout);

}  // namespace castor
