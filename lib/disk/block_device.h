// BlockDevice: the one interface through which Castor touches the shared quorum disk.
// Asynchronous, with a deadline on every I/O, so a daemon's event loop never blocks on a slow disk.
// Implementations: AioBlockDevice (O_DIRECT + libaio, the real disk), MemoryBlockDevice (tests),
// FaultyBlockDevice (wraps another and injects errors, delays, hangs, torn and late writes).
//
// Contract, for every implementation:
//  - offsets and lengths are multiples of the logical sector size;
//  - every submitted I/O yields exactly one IoCompletion, from reap(): ok, an error, or Code::timeout
//    once reap() is called with now >= its deadline;
//  - after a timeout has been reported, the device never touches the caller's read buffer again
//    (a real device keeps its own bounce buffer until the kernel gives it back: a timed-out buffer is
//    never freed or reused while the kernel may still write it);
//  - a write that timed out may still land on the disk later (callers must stay safe when it does).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace castor {

struct Geometry {
  uint32_t logical_sector_size = 512;
  uint64_t size_bytes = 0;
};

enum class IoKind : uint8_t { read, write };

struct IoCompletion {
  uint64_t tag = 0;  // the caller's tag, from submit_*
  IoKind kind = IoKind::read;
  uint64_t offset = 0;
  size_t length = 0;
  Status status;  // ok, io_error (with errno text), or timeout
  TimePoint issued;
};

class BlockDevice {
 public:
  virtual ~BlockDevice() = default;

  virtual const Geometry& geometry() const = 0;
  virtual const std::string& name() const = 0;

  // Starts reading out.size() bytes at offset into out. `out` must stay valid until the completion for
  // `tag` is reaped; data is copied into it only for a read that completed ok before its deadline.
  virtual Status submit_read(uint64_t tag, uint64_t offset, std::span<std::byte> out, TimePoint now,
                             TimePoint deadline) = 0;
  // Starts writing data at offset. The data is copied at submit; the caller may reuse it at once.
  virtual Status submit_write(uint64_t tag, uint64_t offset, std::span<const std::byte> data, TimePoint now,
                              TimePoint deadline) = 0;
  // Appends a completion for each I/O that finished, and a timeout for each whose deadline <= now.
  // Never blocks.
  virtual void reap(TimePoint now, std::vector<IoCompletion>& out) = 0;
  // Like reap(), but reads `clock` only after the device has collected what finished (for a real disk:
  // after io_getevents), and returns that time: it is the `now` of every completion appended, so an I/O
  // is never taken as finished earlier than the caller could have seen it (a pause between a clock read and
  // the collection would otherwise shrink the peer's dead time). Event loops use this one. The default,
  // for devices that complete synchronously in submit/reap (memory, faulty), reads the clock first.
  virtual TimePoint reap_with_clock(const Clock& clock, std::vector<IoCompletion>& out) {
    const TimePoint now = clock.now();
    reap(now, out);
    return now;
  }
  // Sleeps until an I/O may have finished or `until` passes. Devices that complete synchronously
  // (memory) return at once.
  virtual void wait(TimePoint until) = 0;
  // A descriptor that turns readable when completions are pending (for epoll), or -1 if none.
  virtual int completion_fd() const { return -1; }
  // I/Os submitted and not yet reported to the caller.
  virtual size_t in_flight() const = 0;
  // I/Os the device may still perform: in flight, plus those reported as timed out that have not finished
  // yet (their data may still land). Zero means no write of ours can land any more.
  virtual size_t held_by_kernel() const { return in_flight(); }
  // Of those, the ones already reported as timed out: what a stalled path keeps. A busy but working device
  // has none (its I/Os finish inside their deadlines however many are in flight).
  virtual size_t held_after_timeout() const { return 0; }
};

// Checks an I/O's offset/length against the geometry: sector-aligned, non-empty, inside the device.
Status check_io_range(const Geometry& g, uint64_t offset, size_t length, const std::string& device);

// Blocking conveniences for tools and tests: submit one I/O and wait for its completion or its deadline.
Status read_blocking(BlockDevice& dev, const Clock& clock, uint64_t offset, std::span<std::byte> out,
                     Duration timeout);
Status write_blocking(BlockDevice& dev, const Clock& clock, uint64_t offset, std::span<const std::byte> data,
                      Duration timeout);

}  // namespace castor
