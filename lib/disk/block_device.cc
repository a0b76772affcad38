#include "disk/block_device.h"

#include <string>

namespace castor {

Status check_io_range(const Geometry& g, uint64_t offset, size_t length, const std::string& device) {
  const uint64_t ss = g.logical_sector_size;
  if (ss == 0) return Error(Code::internal, device + ": sector size unknown");
  if (length == 0 || offset % ss != 0 || length % ss != 0)
    return Error(Code::invalid_argument, device + ": I/O at offset " + std::to_string(offset) + " length " +
                                             std::to_string(length) + " is not aligned to the " +
                                             std::to_string(ss) + "-byte sector size");
  if (offset > g.size_bytes || g.size_bytes - offset < length)
    return Error(Code::invalid_argument, device + ": I/O at offset " + std::to_string(offset) + " length " +
                                             std::to_string(length) + " is beyond the end of the device (" +
                                             std::to_string(g.size_bytes) + " bytes)");
  return Status::Ok();
}

namespace {

Status wait_for(BlockDevice& dev, const Clock& clock, uint64_t tag, TimePoint deadline) {
  std::vector<IoCompletion> done;
  for (;;) {
    done.clear();
    dev.reap(clock.now(), done);
    for (auto& c : done)
      if (c.tag == tag) return c.status;
    // Completions of other tags are not expected from blocking callers; they are dropped.
    TimePoint now = clock.now();
    if (now >= deadline + Millis(1000)) {
      // reap() must report the timeout at the deadline; getting here means the device broke its contract.
      return Error(Code::internal, dev.name() + ": I/O neither completed nor timed out");
    }
    dev.wait(deadline);
  }
}

}  // namespace

Status read_blocking(BlockDevice& dev, const Clock& clock, uint64_t offset, std::span<std::byte> out,
                     Duration timeout) {
  static uint64_t next_tag = 1ull << 62;
  uint64_t tag = next_tag++;
  TimePoint now = clock.now();
  RETURN_IF_ERROR(dev.submit_read(tag, offset, out, now, now + timeout));
  return wait_for(dev, clock, tag, now + timeout);
}

Status write_blocking(BlockDevice& dev, const Clock& clock, uint64_t offset, std::span<const std::byte> data,
                      Duration timeout) {
  static uint64_t next_tag = 1ull << 62;
  uint64_t tag = next_tag++;
  TimePoint now = clock.now();
  RETURN_IF_ERROR(dev.submit_write(tag, offset, data, now, now + timeout));
  return wait_for(dev, clock, tag, now + timeout);
}

}  // namespace castor
