// AioBlockDevice: the real quorum disk, as a BlockDevice over O_DIRECT + Linux native AIO (libaio).
// Owns its DMA bounce buffers: a buffer whose I/O timed out is orphaned (kept aside, never freed or
// reused) until the kernel hands its completion back, so a late transfer can never scribble on memory that
// was returned to the caller or to another I/O. Must never block in submit or reap, and must never free a
// buffer the kernel may still be writing (the destructor waits for outstanding I/O instead).
// Not thread-safe: one event loop owns a device.
#pragma once

#include <libaio.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/aligned_buffer.h"
#include "common/clock.h"
#include "common/status.h"
#include "common/unique_fd.h"
#include "disk/block_device.h"

namespace castor {

class AioBlockDevice final : public BlockDevice {
 public:
  enum class OpenMode { read_only, read_write };

  // Kernel AIO queue depth (io_setup). Also the hard cap on I/Os the kernel holds at once, counting
  // orphaned (timed-out, not yet returned) ones: past it, submit_* returns Code::busy.
  static constexpr unsigned kQueueDepth = 64;
  // Bounce buffers allocated at open; more are made only when none is free, up to kQueueDepth.
  static constexpr size_t kPreallocatedBuffers = 4;
  static constexpr size_t kInitialBufferBytes = 64 * 1024;

  // Opens a block device (or, for tests and tools, a regular file) with O_DIRECT|O_CLOEXEC.
  // Geometry: BLKSSZGET / BLKGETSIZE64 for a block device; 512-byte sectors and st_size (rounded down to
  // whole sectors) for a regular file. Anything else is refused.
  static Result<std::unique_ptr<AioBlockDevice>> open(const std::string& path, OpenMode mode);

  // Blocks until every I/O the kernel still holds (in flight or orphaned) has finished: io_destroy waits
  // for them, and only then are the bounce buffers freed. With a hung device this waits as long as the
  // device hangs; that is the price of never freeing memory under a pending DMA.
  ~AioBlockDevice() override;
  AioBlockDevice(const AioBlockDevice&) = delete;
  AioBlockDevice& operator=(const AioBlockDevice&) = delete;

  const Geometry& geometry() const override { return geometry_; }
  const std::string& name() const override { return path_; }
  OpenMode mode() const { return mode_; }

  Status submit_read(uint64_t tag, uint64_t offset, std::span<std::byte> out, TimePoint now,
                     TimePoint deadline) override;
  Status submit_write(uint64_t tag, uint64_t offset, std::span<const std::byte> data, TimePoint now,
                      TimePoint deadline) override;
  // Takes every finished event from the kernel (io_getevents with a zero timeout), then reports a timeout
  // for each I/O whose deadline <= now. An I/O whose event is only seen at or after its deadline is
  // reported as a timeout too (it cannot be shown to have finished in time). Late events of orphaned I/Os
  // release their buffers silently.
  void reap(TimePoint now, std::vector<IoCompletion>& out) override;
  // The same, with the clock read after io_getevents (see BlockDevice::reap_with_clock).
  TimePoint reap_with_clock(const Clock& clock, std::vector<IoCompletion>& out) override;
  // Test seam: called right after io_getevents returned, before the clock is read (a test advances a
  // FakeClock here, as a pause of the process at that point would).
  void set_after_getevents_hook_for_test(std::function<void()> hook) { after_getevents_ = std::move(hook); }
  // poll()s the completion eventfd until `until` or the earliest in-flight deadline, whichever comes
  // first (both on CLOCK_BOOTTIME); returns at once if that is already past.
  void wait(TimePoint until) override;
  int completion_fd() const override { return event_fd_.get(); }
  size_t in_flight() const override { return in_flight_.size(); }

  // I/Os that timed out and whose buffers the kernel still holds.
  size_t orphaned() const { return orphaned_count_; }
  size_t held_by_kernel() const override { return in_flight() + orphaned(); }
  size_t held_after_timeout() const override { return orphaned(); }
  // Bounce buffers allocated so far (free + in flight + orphaned); never more than kQueueDepth.
  size_t buffers_allocated() const { return slots_.size(); }

 private:
  // One bounce buffer with the iocb that uses it. Heap-allocated so that the iocb's address (which the
  // kernel hands back in io_event.obj) stays put.
  struct Slot {
    enum class State { free, in_flight, orphaned };
    struct iocb cb {};
    AlignedBuffer buffer;
    State state = State::free;
    uint64_t tag = 0;
    IoKind kind = IoKind::read;
    uint64_t offset = 0;
    size_t length = 0;
    std::byte* read_out = nullptr;  // the caller's read span; touched only before the deadline
    TimePoint issued;
    TimePoint deadline;
  };

  AioBlockDevice(std::string path, OpenMode mode, UniqueFd fd, UniqueFd event_fd, io_context_t ctx,
                 Geometry geometry);

  Result<Slot*> acquire_slot(size_t length);
  void release_slot(Slot* slot);
  Status submit(Slot* slot, IoKind kind, uint64_t tag, uint64_t offset, size_t length, TimePoint now,
                TimePoint deadline);
  void complete(Slot* slot, long res, TimePoint now, std::vector<IoCompletion>& out);
  // Drains the eventfd and moves every finished event from the kernel into ready_.
  void collect_events();
  // Completes ready_ and times out what is past its deadline, at `now`.
  void finish(TimePoint now, std::vector<IoCompletion>& out);
  IoCompletion completion_of(const Slot& slot, Status status) const;
  std::string where(uint64_t offset) const;

  std::string path_;
  OpenMode mode_;
  UniqueFd fd_;
  UniqueFd event_fd_;
  io_context_t ctx_ = nullptr;
  Geometry geometry_;
  size_t alignment_ = 4096;

  std::vector<std::unique_ptr<Slot>> slots_;  // every buffer ever allocated
  std::vector<Slot*> free_;                   // ready for reuse
  std::vector<Slot*> in_flight_;              // submitted, not yet reported; in submission order
  size_t orphaned_count_ = 0;                 // reported as timed out, still held by the kernel
  std::vector<struct io_event> events_;       // scratch for io_getevents, sized kQueueDepth
  std::vector<struct io_event> ready_;        // collected, not yet completed
  std::function<void()> after_getevents_;     // test seam
};

}  // namespace castor
