#include "disk/testing/memory_block_device.h"

#include <cstring>

namespace castor {

MemoryBlockDevice::MemoryBlockDevice(std::shared_ptr<MemoryDisk> disk, std::string name)
    : disk_(std::move(disk)), name_(std::move(name)) {
  geometry_.logical_sector_size = disk_->sector_size;
  geometry_.size_bytes = disk_->bytes.size();
}

Status MemoryBlockDevice::submit_read(uint64_t tag, uint64_t offset, std::span<std::byte> out, TimePoint now,
                                      TimePoint) {
  RETURN_IF_ERROR(check_io_range(geometry_, offset, out.size(), name_));
  std::memcpy(out.data(), disk_->bytes.data() + offset, out.size());
  done_.push_back({tag, IoKind::read, offset, out.size(), Status::Ok(), now});
  return Status::Ok();
}

Status MemoryBlockDevice::submit_write(uint64_t tag, uint64_t offset, std::span<const std::byte> data, TimePoint now,
                                       TimePoint) {
  RETURN_IF_ERROR(check_io_range(geometry_, offset, data.size(), name_));
  Status st;
  if (read_only_) {
    st = Error(Code::io_error, "write " + name_ + " at offset " + std::to_string(offset) + ": device is read-only");
  } else {
    std::memcpy(disk_->bytes.data() + offset, data.data(), data.size());
  }
  done_.push_back({tag, IoKind::write, offset, data.size(), st, now});
  return Status::Ok();
}

void MemoryBlockDevice::reap(TimePoint, std::vector<IoCompletion>& out) {
  for (auto& c : done_) out.push_back(std::move(c));
  done_.clear();
}

}  // namespace castor
