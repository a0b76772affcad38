#include "disk/superblock.h"

#include <algorithm>

namespace castor {
namespace {
constexpr uint32_t kSuperblockFlagAuthenticated = 1;  // offset 308, bit 0
constexpr uint32_t kSuperblockFlagDeviceSet = 2;       // offset 308, bit 1: the device set fields (312-375)
}  // namespace

const NodeEntry* Superblock::node_named(const std::string& name) const {
  for (const auto& n : nodes)
    if (n.name == name) return &n;
  return nullptr;
}

Status check_name(const std::string& what, const std::string& name) {
  if (name.empty() || name.size() >= kNameWidth)
    return Error(Code::invalid_argument, what + " '" + name + "' must be 1 to " + std::to_string(kNameWidth - 1) +
                                             " characters");
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
  if (!alnum(name[0])) return Error(Code::invalid_argument, what + " '" + name + "' must start with a letter or digit");
  for (char c : name)
    if (!alnum(c) && c != '.' && c != '_' && c != '-')
      return Error(Code::invalid_argument, what + " '" + name + "' may hold only letters, digits, '.', '_' and '-'");
  return Status::Ok();
}

Status check_device_set(const DeviceSet& d) {
  if (d.single()) {
    if (d.index != 0 || d.generation != 0 || d.changed_slot != 0 || std::any_of(d.members.begin(), d.members.end(), [](const Uuid& u) { return !u.is_nil(); }))
      return Error(Code::invalid_argument, "a single quorum device carries no device set fields");
    return Status::Ok();
  }
  if (d.count != kQuorumDevices)
    return Error(Code::invalid_argument, "a set of quorum devices has " + std::to_string(kQuorumDevices) + " members, not " +
                                             std::to_string(d.count));
  if (d.index >= d.count) return Error(Code::invalid_argument, "device index " + std::to_string(d.index) + " out of the set");
  if (d.changed_slot >= d.count || (d.generation == 0 && d.changed_slot != 0))
    return Error(Code::invalid_argument, "changed slot " + std::to_string(d.changed_slot) + " out of the set");
  if (d.generation > kMaxDeviceSetGeneration)
    return Error(Code::invalid_argument, "device set generation " + std::to_string(d.generation) + " above " +
                                             std::to_string(kMaxDeviceSetGeneration));
  for (size_t i = 0; i < d.members.size(); ++i) {
    if (d.members[i].is_nil()) return Error(Code::invalid_argument, "device set member " + std::to_string(i) + " has a nil id");
    for (size_t j = 0; j < i; ++j)
      if (d.members[i] == d.members[j])
        return Error(Code::invalid_argument, "device set members " + std::to_string(j) + " and " + std::to_string(i) + " share an id");
  }
  return Status::Ok();
}

Status encode_superblock(const Superblock& sb, const DiskLayout& layout, const RecordSeal& seal,
                         std::span<std::byte> block) {
  if (block.size() != layout.block_size()) return Error(Code::internal, "superblock buffer has the wrong size");
  RETURN_IF_ERROR(check_name("cluster name", sb.cluster_name));
  for (const auto& n : sb.nodes) RETURN_IF_ERROR(check_name("node name", n.name));
  RETURN_IF_ERROR(sb.timing.check_formula());
  RecordHeader h;
  h.type = RecordType::superblock;
  h.block_size = layout.block_size();
  h.cluster_uuid = sb.cluster_uuid;
  h.writer_node = 0;
  h.seq = 1;
  h.wall_time_ns = sb.created_wall_ns;
  encode_header(h, block);
  ByteWriter w(block);
  w.seek(kRecordHeaderSize);
  w.fixed_string(sb.cluster_name, kNameWidth);
  w.u32(sb.sector_size);
  w.u32(kNodeCount);
  for (const auto& n : sb.nodes) {
    w.u32(n.id);
    w.fixed_string(n.name, kNameWidth);
  }
  const Timing& t = sb.timing;
  for (Millis m : {t.io_timeout, t.renew_interval, t.lease, t.kill_grace, t.watchdog, t.dead}) w.u32(uint32_t(m.count()));
  w.u32(kHeaderAreaBlocks);
  w.u32(kRegionBlocks);
  w.u32(sb.service_slots);
  RETURN_IF_ERROR(check_device_set(sb.devices));
  w.u32((sb.records_authenticated ? kSuperblockFlagAuthenticated : 0) |
        (sb.devices.single() ? 0 : kSuperblockFlagDeviceSet));
  if (!sb.devices.single()) {
    w.u32(sb.devices.count);
    w.u32(sb.devices.index);
    w.u64(sb.devices.generation);
    for (const Uuid& m : sb.devices.members) w.bytes(std::as_bytes(std::span(m.bytes)));
    w.u32(sb.devices.changed_slot);
  }
  if (!w.ok()) return Error(Code::internal, "superblock does not fit its block");
  seal_block(block, seal);
  return Status::Ok();
}

Result<Superblock> decode_superblock(std::span<const std::byte> block, const DiskLayout& layout,
                                     const RecordSeal& seal) {
  ASSIGN_OR_RETURN(RecordHeader h, verify_block(block, {RecordType::superblock, layout.block_size(), 0}, seal));
  auto bad = [](const std::string& why) { return Error(Code::corrupt, "superblock: " + why); };
  Superblock sb;
  sb.cluster_uuid = h.cluster_uuid;
  sb.created_wall_ns = h.wall_time_ns;
  if (h.incarnation != 0 || h.block_index != 0) return bad("header fields out of range");
  ByteReader r(block);
  r.seek(kRecordHeaderSize);
  sb.cluster_name = r.fixed_string(kNameWidth);
  sb.sector_size = r.u32();
  uint32_t node_count = r.u32();
  for (auto& n : sb.nodes) {
    n.id = r.u32();
    n.name = r.fixed_string(kNameWidth);
  }
  uint32_t ms[6];
  for (auto& m : ms) m = r.u32();
  uint32_t header_blocks = r.u32();
  uint32_t region_blocks = r.u32();
  sb.service_slots = r.u32();
  const uint32_t flags = r.u32();
  if (!r.ok()) return bad("malformed field (names must be NUL-terminated printable text)");
  if (sb.cluster_uuid.is_nil()) return bad("nil cluster UUID");
  if (!check_name("cluster name", sb.cluster_name).ok()) return bad("invalid cluster name");
  if (sb.sector_size != layout.sector_size())
    return Error(Code::corrupt, "superblock: written for sector size " + std::to_string(sb.sector_size) +
                                    ", the device has " + std::to_string(layout.sector_size()));
  if (node_count != kNodeCount) return bad("node count " + std::to_string(node_count));
  for (uint32_t i = 0; i < kNodeCount; ++i) {
    if (sb.nodes[i].id != i + 1) return bad("node ids must be 1 and 2");
    if (!check_name("node name", sb.nodes[i].name).ok()) return bad("invalid node name");
  }
  if (sb.nodes[0].name == sb.nodes[1].name) return bad("both nodes have the same name");
  sb.timing.io_timeout = Millis(ms[0]);
  sb.timing.renew_interval = Millis(ms[1]);
  sb.timing.lease = Millis(ms[2]);
  sb.timing.kill_grace = Millis(ms[3]);
  sb.timing.watchdog = Millis(ms[4]);
  sb.timing.dead = Millis(ms[5]);
  if (Status st = sb.timing.check_formula(); !st.ok()) return bad(st.message());
  if ((flags & ~(kSuperblockFlagAuthenticated | kSuperblockFlagDeviceSet)) != 0)
    return bad("unknown flags " + std::to_string(flags));
  sb.records_authenticated = (flags & kSuperblockFlagAuthenticated) != 0;
  if ((flags & kSuperblockFlagDeviceSet) != 0) {
    sb.devices.count = r.u32();
    sb.devices.index = r.u32();
    sb.devices.generation = r.u64();
    for (Uuid& m : sb.devices.members) r.bytes(std::as_writable_bytes(std::span(m.bytes)));
    sb.devices.changed_slot = r.u32();
    if (!r.ok()) return bad("device set fields out of the block");
    if (sb.devices.count != kQuorumDevices)
      return bad("device set of " + std::to_string(sb.devices.count) + " devices (a set has " +
                 std::to_string(kQuorumDevices) + ")");
    if (Status st = check_device_set(sb.devices); !st.ok()) return bad(st.message());
  }
  if (header_blocks != kHeaderAreaBlocks || region_blocks != kRegionBlocks || sb.service_slots != layout.service_slots())
    return bad("layout fields do not match this format version");
  return sb;
}

Result<RawSuperblockTiming> raw_superblock_timing(std::span<const std::byte> block, const DiskLayout& layout) {
  ASSIGN_OR_RETURN(RecordHeader h, verify_block(block, {RecordType::superblock, layout.block_size(), 0},
                                                RecordSeal::tag_unchecked()));
  (void)h;
  ByteReader r(block);
  r.seek(272);
  const uint32_t io_ms = r.u32();
  r.seek(292);
  const uint32_t dead_ms = r.u32();
  if (!r.ok()) return Error(Code::corrupt, "superblock: timing fields out of the block");
  if (io_ms == 0 || Millis(io_ms) > Timing::kMaxIoTimeout)
    return Error(Code::corrupt, "superblock: io_timeout field " + std::to_string(io_ms) + "ms is outside (0, " +
                                    std::to_string(Timing::kMaxIoTimeout.count()) + "] ms");
  RawSuperblockTiming t;
  t.io_timeout = Millis(io_ms);
  t.dead = 6 * t.io_timeout;
  if (Millis(dead_ms) > t.dead && Millis(dead_ms) <= 6 * Timing::kMaxIoTimeout) t.dead = Millis(dead_ms);
  return t;
}

}  // namespace castor
