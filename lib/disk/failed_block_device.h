// FailedBlockDevice: the place of a quorum device that could not be opened (a member of a set of three
// that is missing, detached or unreadable when a node starts). Every I/O fails at once with the reason it
// could not be opened, so the set runs on the majority that answers and says which member is lost; `castor
// disk replace` puts a real device in its place. It never touches anything and never completes an I/O ok.
#pragma once

#include <string>
#include <vector>

#include "disk/block_device.h"

namespace castor {

class FailedBlockDevice final : public BlockDevice {
 public:
  // `geometry`: the set's (its members all have one sector size); `why`: the reason it is lost.
  FailedBlockDevice(std::string name, Geometry geometry, Status why);

  const Geometry& geometry() const override { return geometry_; }
  const std::string& name() const override { return name_; }
  Status submit_read(uint64_t tag, uint64_t offset, std::span<std::byte> out, TimePoint now,
                     TimePoint deadline) override;
  Status submit_write(uint64_t tag, uint64_t offset, std::span<const std::byte> data, TimePoint now,
                      TimePoint deadline) override;
  void reap(TimePoint now, std::vector<IoCompletion>& out) override;
  void wait(TimePoint) override {}
  size_t in_flight() const override { return done_.size(); }
  const Status& why() const { return why_; }

 private:
  Status fail(uint64_t tag, IoKind kind, uint64_t offset, size_t length, TimePoint now);

  std::string name_;
  Geometry geometry_;
  Status why_;
  std::vector<IoCompletion> done_;
};

}  // namespace castor
