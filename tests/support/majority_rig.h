// Test support: a set of three in-memory quorum devices shared by several composite views (MajorityBlockDevice
// over a FaultyBlockDevice path to each device, as hosts share LUNs), on a fake clock: records to put straight
// onto a device, and blocking writes and reads that reap until their completion. Each view() is a new process
// opening the set (a chooser with no memory). Test-only: never touches a real device.
#pragma once

#include <doctest/doctest.h>

#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "disk/majority_block_device.h"
#include "disk/testing/faulty_block_device.h"
#include "disk/testing/memory_block_device.h"

namespace castor::testing {

inline constexpr Duration kMajorityTimeout = Millis(1000);

inline Uuid majority_rig_cluster() {
  Uuid u;
  for (size_t i = 0; i < u.bytes.size(); ++i) u.bytes[i] = uint8_t(40 + i);
  return u;
}

// One view of the set: a composite over one path per device.
struct MajorityView {
  std::vector<std::shared_ptr<MemoryBlockDevice>> mem;
  std::vector<FaultyBlockDevice*> path;  // owned by dev
  std::unique_ptr<MajorityBlockDevice> dev;
};

struct MajorityRig {
  FakeClock clock;
  DiskLayout layout = *DiskLayout::for_sector_size(512);
  RecordSeal seal = RecordSeal::crc_only();
  std::vector<std::shared_ptr<MemoryDisk>> disks;
  std::map<uint64_t, Status> seen;  // completions reaped while driving another tag
  std::vector<IoCompletion> done;
  uint64_t next_tag = 1;

  explicit MajorityRig(size_t n = 3) {
    for (size_t i = 0; i < n; ++i) disks.push_back(std::make_shared<MemoryDisk>(512, layout.required_bytes()));
  }
  MajorityView view(const std::string& name) {
    MajorityView v;
    std::vector<std::unique_ptr<BlockDevice>> devs;
    for (size_t i = 0; i < disks.size(); ++i) {
      v.mem.push_back(std::make_shared<MemoryBlockDevice>(disks[i], name + "-dev" + std::to_string(i)));
      auto f = std::make_unique<FaultyBlockDevice>(v.mem.back());
      v.path.push_back(f.get());
      devs.push_back(std::move(f));
    }
    auto d = MajorityBlockDevice::create(std::move(devs), seal, majority_rig_cluster(), name);
    REQUIRE(d.ok());
    v.dev = std::move(*d);
    return v;
  }
  uint32_t bs() const { return layout.block_size(); }
  uint64_t hb(uint32_t node) const { return layout.heartbeat_offset(node); }
  uint64_t table(uint32_t node, uint32_t k) const {
    return layout.service_table_offset(node) + uint64_t(k) * layout.block_size();
  }
  // The valid record expected at `offset` (its type, writer and block index), of life `inc`, seq `seq`.
  std::vector<std::byte> record_at(uint64_t offset, uint64_t inc, uint64_t seq) const {
    std::vector<std::byte> b(layout.block_size());
    const auto slot = expected_slot_at(layout, offset);
    REQUIRE(slot);
    RecordHeader h;
    h.type = slot->type;
    h.block_size = layout.block_size();
    h.cluster_uuid = majority_rig_cluster();
    h.writer_node = slot->writer_node;
    h.block_index = slot->block_index;
    h.incarnation = inc;
    h.seq = seq;
    encode_header(h, b);
    seal_block(b, seal);
    return b;
  }
  // Puts a block straight onto disk i (a write of someone else, damage, a late landing).
  void put(size_t i, uint64_t offset, std::span<const std::byte> b) {
    std::memcpy(disks[i]->bytes.data() + offset, b.data(), b.size());
  }
  // Reaps `v` with the clock moving in 1 ms steps until `tag` completes (or 10 s pass).
  Status drive(MajorityView& v, uint64_t tag) {
    for (int i = 0; i < 10000; ++i) {
      if (auto it = seen.find(tag); it != seen.end()) {
        Status st = it->second;
        seen.erase(it);
        return st;
      }
      done.clear();
      v.dev->reap(clock.now(), done);
      for (auto& c : done) seen.emplace(c.tag, c.status);
      if (seen.count(tag)) continue;
      clock.advance(Millis(1));
    }
    return Error(Code::internal, "never completed");
  }
  Status write_at(MajorityView& v, uint64_t offset, uint64_t inc, uint64_t seq) {
    const uint64_t tag = next_tag++;
    auto b = record_at(offset, inc, seq);
    RETURN_IF_ERROR(v.dev->submit_write(tag, offset, b, clock.now(), clock.now() + kMajorityTimeout));
    return drive(v, tag);
  }
  Result<RecordHeader> read_at(MajorityView& v, uint64_t offset) {
    const uint64_t tag = next_tag++;
    std::vector<std::byte> b(layout.block_size());
    RETURN_IF_ERROR(v.dev->submit_read(tag, offset, b, clock.now(), clock.now() + kMajorityTimeout));
    RETURN_IF_ERROR(drive(v, tag));
    const auto slot = expected_slot_at(layout, offset);
    return verify_block(b, {slot->type, layout.block_size(), slot->writer_node}, seal);
  }
  // Settles whatever is still pending (so one step's stragglers do not land in the next).
  void settle(MajorityView& v, Duration d = Millis(1100)) {
    for (Duration t{0}; t < d; t += Millis(1)) {
      done.clear();
      v.dev->reap(clock.now(), done);
      clock.advance(Millis(1));
    }
  }
};

}  // namespace castor::testing
