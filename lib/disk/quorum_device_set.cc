#include "disk/quorum_device_set.h"

#include <algorithm>

#include "common/aligned_buffer.h"
#include "disk/disk_layout.h"
#include "disk/failed_block_device.h"

namespace castor {

size_t QuorumDeviceSet::answering() const {
  return size_t(std::count_if(members.begin(), members.end(), [](const QuorumDeviceMember& m) { return !m.lost(); }));
}

std::string QuorumDeviceSet::lost_text() const {
  std::string out;
  for (size_t i = 0; i < members.size(); ++i) {
    if (!members[i].lost()) continue;
    if (!out.empty()) out += "; ";
    out += (members[i].path.empty() ? std::string("(not listed)") : members[i].path) + " (member " + std::to_string(i) +
           "): " + members[i].status.to_string();
  }
  return out;
}

Result<Superblock> read_device_superblock(BlockDevice& dev, const Clock& clock, Duration io_timeout,
                                          const RecordSeal& seal) {
  ASSIGN_OR_RETURN(DiskLayout layout, DiskLayout::for_sector_size(dev.geometry().logical_sector_size));
  AlignedBuffer block(layout.block_size(), layout.block_size());
  if (!block.valid()) return Error(Code::internal, "out of memory for a superblock");
  std::string why;
  for (uint64_t off : {layout.superblock_offset(), layout.superblock_backup_offset()}) {
    Status st = read_blocking(dev, clock, off, block.span(), io_timeout);
    if (!st.ok()) return st.with_context(dev.name() + ": reading the superblock");
    auto sb = decode_superblock(block.span(), layout, seal);
    if (sb.ok()) return sb;
    why += std::string(why.empty() ? "" : "; ") + (off == 0 ? "primary: " : "backup: ") + sb.status().to_string();
  }
  return Error(Code::corrupt, dev.name() + " holds no valid Castor superblock (" + why + ")");
}

bool same_set_superblock(const Superblock& a, const Superblock& b) {
  Superblock x = a, y = b;
  x.devices.index = y.devices.index = 0;
  x.devices.generation = y.devices.generation = 0;
  x.devices.members = y.devices.members = {};
  x.created_wall_ns = y.created_wall_ns = 0;
  return x == y;
}

namespace {

QuorumDeviceMember lost_member(std::string path, const Geometry& g, Status why) {
  QuorumDeviceMember m;
  m.path = std::move(path);
  m.status = why;
  m.device = std::make_unique<FailedBlockDevice>(m.path.empty() ? "(missing member)" : m.path, g, why);
  return m;
}

}  // namespace

Result<QuorumDeviceSet> open_quorum_device_set(const std::vector<std::string>& paths, const OpenQuorumDevice& open,
                                               const Clock& clock, Duration io_timeout, const RecordSeal& seal) {
  if (paths.size() != 1 && paths.size() != kQuorumDevices)
    return Error(Code::invalid_argument, std::to_string(paths.size()) + " quorum devices given: one, or a set of " +
                                             std::to_string(kQuorumDevices));
  if (paths.size() == 1) {
    ASSIGN_OR_RETURN(std::unique_ptr<BlockDevice> dev, open(paths[0]));
    QuorumDeviceSet set;
    QuorumDeviceMember m;
    m.path = paths[0];
    auto sb = read_device_superblock(*dev, clock, io_timeout, seal);
    m.device = std::move(dev);
    if (sb.ok()) {
      if (!sb->devices.single())
        return Error(Code::refused, paths[0] + " is member " + std::to_string(sb->devices.index) + " of a set of " +
                                        std::to_string(sb->devices.count) + " quorum devices of cluster '" +
                                        sb->cluster_name + "': list all of them (device = DEV1 DEV2 DEV3); one "
                                        "member alone is never the quorum disk");
      set.superblock = *sb;
      m.superblock = *sb;
    } else {
      m.status = sb.status();
    }
    set.members.push_back(std::move(m));
    return set;
  }

  // Three paths: open and read each.
  std::vector<QuorumDeviceMember> found;
  std::optional<Geometry> geometry;
  for (const std::string& p : paths) {
    QuorumDeviceMember m;
    m.path = p;
    auto dev = open(p);
    if (!dev.ok()) {
      m.status = dev.status();
      found.push_back(std::move(m));
      continue;
    }
    m.device = std::move(dev).value();
    if (!geometry) geometry = m.device->geometry();
    if (m.device->geometry().logical_sector_size != geometry->logical_sector_size)
      return Error(Code::refused, "the quorum devices have different logical sector sizes (" + paths[0] + "... " +
                                      std::to_string(geometry->logical_sector_size) + ", " + p + ": " +
                                      std::to_string(m.device->geometry().logical_sector_size) + ")");
    auto sb = read_device_superblock(*m.device, clock, io_timeout, seal);
    if (!sb.ok()) {
      m.status = sb.status();
    } else if (sb->devices.single()) {
      return Error(Code::refused, p + " holds a single quorum disk of cluster '" + sb->cluster_name +
                                      "' (castor init with one device), not a member of a set of three");
    } else {
      m.superblock = *sb;
    }
    found.push_back(std::move(m));
  }

  // The newest generation among the members that answered names the set.
  const Superblock* newest = nullptr;
  for (const auto& m : found)
    if (m.superblock && (!newest || m.superblock->devices.generation > newest->devices.generation)) newest = &*m.superblock;
  if (!newest) {
    std::string why;
    for (const auto& m : found) why += (why.empty() ? "" : "; ") + m.path + ": " + m.status.to_string();
    return Error(Code::refused, "none of the quorum devices holds a member of a set (" + why + ")");
  }
  const Superblock set_sb = *newest;
  for (auto& m : found) {
    if (!m.superblock) continue;
    const Superblock& sb = *m.superblock;
    if (!(sb.cluster_uuid == set_sb.cluster_uuid))
      return Error(Code::refused, "the quorum devices belong to different clusters: " + m.path + " to '" +
                                      sb.cluster_name + "' (UUID " + sb.cluster_uuid.to_string() + "), another to '" +
                                      set_sb.cluster_name + "' (UUID " + set_sb.cluster_uuid.to_string() + ")");
    const auto& ids = set_sb.devices.members;
    const bool listed = std::find(ids.begin(), ids.end(), sb.devices.id()) != ids.end();
    if (!listed) {
      m.status = Error(Code::refused, "no longer a member: the set was changed at generation " +
                                          std::to_string(set_sb.devices.generation) + " (castor disk replace) and " +
                                          "this device (generation " + std::to_string(sb.devices.generation) +
                                          ") is not in it");
      m.superblock.reset();
      continue;
    }
    if (ids[sb.devices.index] != sb.devices.id())
      return Error(Code::refused, m.path + " says it is member " + std::to_string(sb.devices.index) +
                                      ", but the set's member " + std::to_string(sb.devices.index) + " has another id");
    if (!same_set_superblock(sb, set_sb))
      return Error(Code::refused, m.path + "'s superblock differs from its set's (cluster name, nodes, timing, "
                                           "sector size or authentication): refusing to guess which is right");
  }
  // By index; a member twice (one device under two names) is refused.
  QuorumDeviceSet set;
  set.superblock = set_sb;
  std::vector<std::optional<QuorumDeviceMember>> slots(kQuorumDevices);
  std::vector<QuorumDeviceMember> unplaced;
  for (auto& m : found) {
    if (!m.superblock) {
      unplaced.push_back(std::move(m));
      continue;
    }
    const uint32_t i = m.superblock->devices.index;
    if (slots[i])
      return Error(Code::refused, slots[i]->path + " and " + m.path + " are the same quorum device (member " +
                                      std::to_string(i) + "): list each device once");
    slots[i] = std::move(m);
  }
  size_t answering = 0;
  for (const auto& s : slots) answering += s ? 1 : 0;
  const size_t majority = kQuorumDevices / 2 + 1;
  if (answering < majority) {
    std::string why;
    for (const auto& m : unplaced) why += (why.empty() ? "" : "; ") + m.path + ": " + m.status.to_string();
    return Error(Code::refused, "only " + std::to_string(answering) + " of the " + std::to_string(kQuorumDevices) +
                                    " quorum devices answer as members of the set (" + why + "): a majority (" +
                                    std::to_string(majority) + ") is needed");
  }
  // A lost member keeps its place: a path that did not answer goes where no member answered.
  for (uint32_t i = 0; i < kQuorumDevices; ++i) {
    if (slots[i]) {
      set.members.push_back(std::move(*slots[i]));
      continue;
    }
    if (!unplaced.empty()) {
      QuorumDeviceMember m = std::move(unplaced.front());
      unplaced.erase(unplaced.begin());
      set.members.push_back(lost_member(m.path, *geometry, m.status));
    } else {
      set.members.push_back(lost_member("", *geometry, Error(Code::not_found, "member " + std::to_string(i) + " (id " +
                                                                              set_sb.devices.members[i].to_string() +
                                                                              ") is not among the listed devices")));
    }
  }
  for (const auto& m : set.members)
    if (m.superblock) {
      set.superblock = *m.superblock;
      set.superblock.devices.generation = set_sb.devices.generation;
      set.superblock.devices.members = set_sb.devices.members;
      break;
    }
  return set;
}

}  // namespace castor
