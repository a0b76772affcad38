#include "disk/replica_choice.h"

#include <algorithm>
#include <string>

#include "disk/life_number.h"

namespace castor {

std::optional<ExpectedSlot> expected_slot_at(const DiskLayout& layout, uint64_t offset) {
  const uint64_t bs = layout.block_size();
  if (bs == 0 || offset % bs != 0) return std::nullopt;
  for (uint32_t n = 1; n <= kNodeCount; ++n) {
    const uint64_t start = layout.region_offset(n);
    if (offset < start || offset >= start + uint64_t(kRegionBlocks) * bs) continue;
    const uint64_t k = (offset - start) / bs;
    if (k == kHeartbeatBlock) return ExpectedSlot{RecordType::heartbeat, n, 0};
    if (k == kEpochBlock) return ExpectedSlot{RecordType::epoch, n, 0};
    if (k >= kServiceTableFirstBlock && k < kServiceTableFirstBlock + kServiceTableBlocks)
      return ExpectedSlot{RecordType::service_table, n, uint32_t(k - kServiceTableFirstBlock)};
    return std::nullopt;  // an unused region block: nothing may live there
  }
  return std::nullopt;
}

ReplicaChoice::ReplicaChoice(const DiskLayout& layout, const RecordSeal& seal, const Uuid& cluster, size_t devices)
    : layout_(layout), seal_(seal), cluster_(cluster), devices_(devices), invalid_(devices, 0) {}

Result<RecordHeader> ReplicaChoice::validate(uint64_t offset, std::span<const std::byte> block) const {
  const auto slot = expected_slot_at(layout_, offset);
  if (!slot)
    return Error(Code::invalid_argument, "offset " + std::to_string(offset) + " holds no region record");
  const ExpectedRecord expected{slot->type, layout_.block_size(), slot->writer_node};
  auto h = verify_block(block, expected, seal_);
  if (!h.ok()) return h.status();
  if (h->block_index != slot->block_index)
    return Error(Code::corrupt, std::string(record_type_name(slot->type)) + " of node " +
                                    std::to_string(slot->writer_node) + ": holds block index " +
                                    std::to_string(h->block_index) + ", expected " +
                                    std::to_string(slot->block_index));
  if (!(h->cluster_uuid == cluster_))
    return Error(Code::corrupt, std::string(record_type_name(slot->type)) + " of node " +
                                    std::to_string(slot->writer_node) + ": written for cluster " +
                                    h->cluster_uuid.to_string());
  return h;
}

ReplicaChoice::BlockMemory& ReplicaChoice::block(uint64_t offset) {
  auto& m = blocks_[offset];
  if (m.remembered.size() != devices_) m.remembered.resize(devices_);
  return m;
}

bool ReplicaChoice::observe(size_t dev, uint64_t offset, std::span<const std::byte> bytes) {
  if (dev >= devices_ || !expected_slot_at(layout_, offset)) return false;  // nothing is expected there
  auto h = validate(offset, bytes);
  if (!h.ok()) {
    ++invalid_[dev];
    return false;  // an invalid answer never erases a valid memory: that was a true past value
  }
  block(offset).remembered[dev] = *h;
  return true;
}

std::optional<ReplicaChoice::Choice> ReplicaChoice::choose(uint64_t offset, std::span<const Answer> answers) {
  struct Valid {
    size_t device;
    RecordHeader header;
    std::span<const std::byte> bytes;
  };
  std::vector<Valid> valid;
  for (const Answer& a : answers) {
    if (a.device >= devices_) continue;
    if (auto h = validate(offset, a.bytes); h.ok()) valid.push_back({a.device, *h, a.bytes});
  }
  BlockMemory& m = block(offset);
  auto holders = [&](uint64_t incarnation) {
    return std::count_if(valid.begin(), valid.end(), [&](const Valid& v) { return v.header.incarnation == incarnation; });
  };
  const Valid* best = nullptr;
  for (const Valid& v : valid) {
    if (!best) {
      best = &v;
      continue;
    }
    const RecordHeader& b = best->header;
    if (version_below(b.incarnation, b.seq, v.header.incarnation, v.header.seq)) {
      best = &v;
    } else if (!version_below(v.header.incarnation, v.header.seq, b.incarnation, b.seq) &&
               v.header.incarnation != b.incarnation && holders(v.header.incarnation) > holders(b.incarnation)) {
      best = &v;  // one version, two incarnations (a life number taken twice): the one more answers hold
    }
    // (equal otherwise: the lower device, seen first, stays)
  }
  if (best) {
    const bool replaces =
        !m.handed_out ||
        version_below(m.handed_out->header.incarnation, m.handed_out->header.seq, best->header.incarnation,
                      best->header.seq);
    if (replaces) {
      // (assigned whole: clang cannot default-construct a nested struct with a member initializer here)
      m.handed_out = Copy{best->header, std::vector<std::byte>(best->bytes.begin(), best->bytes.end()),
                          best->device};
    }
  }
  if (!m.handed_out) return std::nullopt;
  return Choice{m.handed_out->device, m.handed_out->header, m.handed_out->bytes};
}

void ReplicaChoice::forget_device(size_t dev) {
  if (dev >= devices_) return;
  for (auto& [offset, m] : blocks_)
    if (dev < m.remembered.size()) m.remembered[dev].reset();
}

std::optional<RecordHeader> ReplicaChoice::remembered(size_t dev, uint64_t offset) const {
  auto it = blocks_.find(offset);
  if (it == blocks_.end() || dev >= it->second.remembered.size()) return std::nullopt;
  return it->second.remembered[dev];
}

std::optional<RecordHeader> ReplicaChoice::handed_out(uint64_t offset) const {
  auto it = blocks_.find(offset);
  if (it == blocks_.end() || !it->second.handed_out) return std::nullopt;
  return it->second.handed_out->header;
}

}  // namespace castor
