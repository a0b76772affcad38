// MemoryBlockDevice: a BlockDevice over bytes in memory, for tests and the simulation.
// Several MemoryBlockDevices may share one MemoryDisk, as two hosts share one LUN, each with its own
// read-only switch (like `blockdev --setro` on one host's path). Every I/O completes at once: the data is
// applied at submit and the completion is handed out by the next reap(). Never used in production.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "disk/block_device.h"

namespace castor {

struct MemoryDisk {
  MemoryDisk(uint32_t sector_bytes, uint64_t size_bytes) : sector_size(sector_bytes), bytes(size_bytes) {}
  uint32_t sector_size;
  std::vector<std::byte> bytes;
};

class MemoryBlockDevice final : public BlockDevice {
 public:
  MemoryBlockDevice(std::shared_ptr<MemoryDisk> disk, std::string name);

  const Geometry& geometry() const override { return geometry_; }
  const std::string& name() const override { return name_; }
  Status submit_read(uint64_t tag, uint64_t offset, std::span<std::byte> out, TimePoint now,
                     TimePoint deadline) override;
  Status submit_write(uint64_t tag, uint64_t offset, std::span<const std::byte> data, TimePoint now,
                      TimePoint deadline) override;
  void reap(TimePoint now, std::vector<IoCompletion>& out) override;
  void wait(TimePoint) override {}
  size_t in_flight() const override { return done_.size(); }

  // Like `blockdev --setro`: later writes through this path fail with an I/O error.
  void set_read_only(bool ro) { read_only_ = ro; }
  MemoryDisk& disk() { return *disk_; }

 private:
  std::shared_ptr<MemoryDisk> disk_;
  std::string name_;
  Geometry geometry_;
  bool read_only_ = false;
  std::vector<IoCompletion> done_;
};

}  // namespace castor
