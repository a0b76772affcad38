#include "tools/cli_quorum_device.h"

#include "config/quorumd_config.h"
#include "disk/aio_block_device.h"
#include "disk/device_probe.h"
#include "disk/majority_block_device.h"
#include "disk/quorum_device_set.h"

namespace castor {

Result<CliQuorumDisk> open_quorum_disk_for_cli(const std::string& setting, const Clock& clock, Duration io_timeout) {
  const std::vector<std::string> specs = split_device_list(setting);
  RETURN_IF_ERROR(check_device_list(specs, "device"));
  std::vector<std::string> paths;
  for (const std::string& s : specs) {
    ASSIGN_OR_RETURN(std::string p, resolve_device(s));
    paths.push_back(p);
  }
  auto open = [](const std::string& p) -> Result<std::unique_ptr<BlockDevice>> {
    auto dev = AioBlockDevice::open(p, AioBlockDevice::OpenMode::read_only);
    if (!dev.ok()) return dev.status();
    return std::unique_ptr<BlockDevice>(std::move(dev).value());
  };
  CliQuorumDisk out;
  if (paths.size() == 1) {
    ASSIGN_OR_RETURN(out.device, open(paths[0]));
    out.describe = paths[0];
    return out;
  }
  const RecordSeal seal = RecordSeal::tag_unchecked();
  ASSIGN_OR_RETURN(QuorumDeviceSet set, open_quorum_device_set(paths, open, clock, io_timeout, seal));
  std::vector<std::unique_ptr<BlockDevice>> devices;
  for (size_t i = 0; i < set.members.size(); ++i) {
    out.describe += (out.describe.empty() ? "" : " ") + (set.members[i].path.empty() ? "?" : set.members[i].path);
    devices.push_back(std::move(set.members[i].device));
  }
  const std::string lost = set.lost_text();
  out.describe += " (a set of " + std::to_string(set.members.size()) + " quorum devices" +
                  (lost.empty() ? std::string(")") : "; lost: " + lost + ")");
  ASSIGN_OR_RETURN(auto majority, MajorityBlockDevice::create(std::move(devices), seal, set.superblock.cluster_uuid,
                                                              out.describe));
  out.device = std::move(majority);
  return out;
}

}  // namespace castor
