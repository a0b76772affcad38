#include "disk/failed_block_device.h"

namespace castor {

FailedBlockDevice::FailedBlockDevice(std::string name, Geometry geometry, Status why)
    : name_(std::move(name)), geometry_(geometry), why_(std::move(why)) {
  if (why_.ok()) why_ = Error(Code::io_error, name_ + ": not opened");
}

Status FailedBlockDevice::fail(uint64_t tag, IoKind kind, uint64_t offset, size_t length, TimePoint now) {
  RETURN_IF_ERROR(check_io_range(geometry_, offset, length, name_));
  IoCompletion c;
  c.tag = tag;
  c.kind = kind;
  c.offset = offset;
  c.length = length;
  c.status = Error(Code::io_error, name_ + " is lost: " + why_.to_string());
  c.issued = now;
  done_.push_back(std::move(c));
  return Status::Ok();
}

Status FailedBlockDevice::submit_read(uint64_t tag, uint64_t offset, std::span<std::byte> out, TimePoint now,
                                      TimePoint) {
  return fail(tag, IoKind::read, offset, out.size(), now);
}

Status FailedBlockDevice::submit_write(uint64_t tag, uint64_t offset, std::span<const std::byte> data,
                                       TimePoint now, TimePoint) {
  return fail(tag, IoKind::write, offset, data.size(), now);
}

void FailedBlockDevice::reap(TimePoint, std::vector<IoCompletion>& out) {
  for (auto& c : done_) out.push_back(std::move(c));
  done_.clear();
}

}  // namespace castor
