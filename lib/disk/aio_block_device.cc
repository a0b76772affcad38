#include "disk/aio_block_device.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "common/errno_status.h"
#include "common/log.h"

namespace castor {

namespace {

size_t round_up(size_t n, size_t align) { return (n + align - 1) / align * align; }

Result<Geometry> read_geometry(int fd, const std::string& path) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return errno_status("fstat", path);
  Geometry g;
  if (S_ISBLK(st.st_mode)) {
    int sector = 0;
    if (::ioctl(fd, BLKSSZGET, &sector) != 0) return errno_status("ioctl BLKSSZGET", path);
    if (sector <= 0 || (sector & (sector - 1)) != 0)
      return Error(Code::unsupported, path + ": odd logical sector size " + std::to_string(sector));
    uint64_t size = 0;
    if (::ioctl(fd, BLKGETSIZE64, &size) != 0) return errno_status("ioctl BLKGETSIZE64", path);
    g.logical_sector_size = uint32_t(sector);
    g.size_bytes = size;
  } else if (S_ISREG(st.st_mode)) {
    // Files serve tests and tools; 512 is what O_DIRECT needs on the filesystems we use them on.
    g.logical_sector_size = 512;
    g.size_bytes = uint64_t(st.st_size) / 512 * 512;
  } else {
    return Error(Code::unsupported, path + ": neither a block device nor a regular file");
  }
  return g;
}

}  // namespace

Result<std::unique_ptr<AioBlockDevice>> AioBlockDevice::open(const std::string& path, OpenMode mode) {
  int flags = O_DIRECT | O_CLOEXEC | (mode == OpenMode::read_write ? O_RDWR : O_RDONLY);
  UniqueFd fd(::open(path.c_str(), flags));
  if (!fd.valid()) return errno_status("open (O_DIRECT)", path);
  ASSIGN_OR_RETURN(Geometry g, read_geometry(fd.get(), path));

  UniqueFd efd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!efd.valid()) return errno_status("eventfd", "for " + path);

  io_context_t ctx = nullptr;
  int rc = io_setup(int(kQueueDepth), &ctx);  // libaio returns -errno
  if (rc < 0) return errno_status("io_setup", "for " + path, -rc);

  std::unique_ptr<AioBlockDevice> dev(new AioBlockDevice(path, mode, std::move(fd), std::move(efd), ctx, g));
  for (size_t i = 0; i < kPreallocatedBuffers; ++i) {
    auto slot = std::make_unique<Slot>();
    slot->buffer = AlignedBuffer(round_up(kInitialBufferBytes, dev->alignment_), dev->alignment_);
    if (!slot->buffer.valid())
      return Error(Code::internal, path + ": cannot allocate " + std::to_string(kInitialBufferBytes) +
                                       "-byte I/O buffer");
    dev->free_.push_back(slot.get());
    dev->slots_.push_back(std::move(slot));
  }
  return dev;
}

AioBlockDevice::AioBlockDevice(std::string path, OpenMode mode, UniqueFd fd, UniqueFd event_fd, io_context_t ctx,
                               Geometry geometry)
    : path_(std::move(path)),
      mode_(mode),
      fd_(std::move(fd)),
      event_fd_(std::move(event_fd)),
      ctx_(ctx),
      geometry_(geometry),
      alignment_(std::max<size_t>(geometry.logical_sector_size, 4096)),
      events_(kQueueDepth) {
  ready_.reserve(kQueueDepth);
  slots_.reserve(kQueueDepth);
  free_.reserve(kQueueDepth);
  in_flight_.reserve(kQueueDepth);
}

AioBlockDevice::~AioBlockDevice() {
  // io_destroy waits for every request still in the kernel, so after it the buffers are ours again.
  int rc = io_destroy(ctx_);
  if (rc < 0 && (!in_flight_.empty() || orphaned_count_ > 0)) {
    // We cannot know the kernel is done with them: leak those buffers rather than free them under a DMA.
    log::error("io_destroy failed; leaking I/O buffers the kernel may still use",
               {{"device", path_}, {"error", std::strerror(-rc)}});
    for (auto& s : slots_)
      if (s->state != Slot::State::free) (void)s.release();
  }
}

std::string AioBlockDevice::where(uint64_t offset) const { return path_ + " at offset " + std::to_string(offset); }

Result<AioBlockDevice::Slot*> AioBlockDevice::acquire_slot(size_t length) {
  size_t want = round_up(length, alignment_);
  Slot* slot = nullptr;
  if (!free_.empty()) {
    // Prefer a free buffer that is already big enough; otherwise grow the last free one.
    auto it = std::find_if(free_.begin(), free_.end(), [&](Slot* s) { return s->buffer.size() >= want; });
    if (it == free_.end()) it = free_.end() - 1;
    slot = *it;
    free_.erase(it);
  } else {
    if (slots_.size() >= kQueueDepth)
      return Error(Code::busy, path_ + ": " + std::to_string(slots_.size()) +
                                   " I/Os already held by the kernel (in flight or timed out)");
    slots_.push_back(std::make_unique<Slot>());
    slot = slots_.back().get();
  }
  if (slot->buffer.size() < want) {
    slot->buffer = AlignedBuffer(want, alignment_);
    if (!slot->buffer.valid()) {
      free_.push_back(slot);
      return Error(Code::internal, path_ + ": cannot allocate " + std::to_string(want) + "-byte I/O buffer");
    }
  }
  return slot;
}

void AioBlockDevice::release_slot(Slot* slot) {
  slot->state = Slot::State::free;
  slot->read_out = nullptr;
  free_.push_back(slot);
}

Status AioBlockDevice::submit(Slot* slot, IoKind kind, uint64_t tag, uint64_t offset, size_t length, TimePoint now,
                              TimePoint deadline) {
  slot->tag = tag;
  slot->kind = kind;
  slot->offset = offset;
  slot->length = length;
  slot->issued = now;
  slot->deadline = deadline;
  if (kind == IoKind::read)
    io_prep_pread(&slot->cb, fd_.get(), slot->buffer.data(), length, static_cast<long long>(offset));
  else
    io_prep_pwrite(&slot->cb, fd_.get(), slot->buffer.data(), length, static_cast<long long>(offset));
  io_set_eventfd(&slot->cb, event_fd_.get());
  slot->cb.data = slot;

  struct iocb* cbs[1] = {&slot->cb};
  int rc = io_submit(ctx_, 1, cbs);
  if (rc != 1) {
    release_slot(slot);
    const char* what = kind == IoKind::read ? "io_submit read" : "io_submit write";
    if (rc == -EAGAIN) return Error(Code::busy, std::string(what) + " " + where(offset) + ": kernel queue full");
    if (rc < 0) return errno_status(what, where(offset), -rc);
    return Error(Code::io_error, std::string(what) + " " + where(offset) + ": kernel accepted no request");
  }
  slot->state = Slot::State::in_flight;
  in_flight_.push_back(slot);
  return Status::Ok();
}

Status AioBlockDevice::submit_read(uint64_t tag, uint64_t offset, std::span<std::byte> out, TimePoint now,
                                   TimePoint deadline) {
  RETURN_IF_ERROR(check_io_range(geometry_, offset, out.size(), path_));
  ASSIGN_OR_RETURN(Slot * slot, acquire_slot(out.size()));
  slot->read_out = out.data();
  return submit(slot, IoKind::read, tag, offset, out.size(), now, deadline);
}

Status AioBlockDevice::submit_write(uint64_t tag, uint64_t offset, std::span<const std::byte> data, TimePoint now,
                                    TimePoint deadline) {
  if (mode_ == OpenMode::read_only)
    return Error(Code::permission_denied, "write " + where(offset) + ": device was opened read-only");
  RETURN_IF_ERROR(check_io_range(geometry_, offset, data.size(), path_));
  ASSIGN_OR_RETURN(Slot * slot, acquire_slot(data.size()));
  std::memcpy(slot->buffer.data(), data.data(), data.size());
  return submit(slot, IoKind::write, tag, offset, data.size(), now, deadline);
}

IoCompletion AioBlockDevice::completion_of(const Slot& slot, Status status) const {
  IoCompletion c;
  c.tag = slot.tag;
  c.kind = slot.kind;
  c.offset = slot.offset;
  c.length = slot.length;
  c.status = std::move(status);
  c.issued = slot.issued;
  return c;
}

void AioBlockDevice::complete(Slot* slot, long res, TimePoint now, std::vector<IoCompletion>& out) {
  if (slot->state == Slot::State::orphaned) {
    // Its timeout was reported already; the kernel is done with the buffer, so it may be reused now.
    --orphaned_count_;
    release_slot(slot);
    return;
  }
  if (slot->state != Slot::State::in_flight) {
    log::error("AIO event for an I/O that is not in flight; ignored", {{"device", path_}});
    return;
  }
  in_flight_.erase(std::find(in_flight_.begin(), in_flight_.end(), slot));
  const char* what = slot->kind == IoKind::read ? "read" : "write";
  Status st;
  if (now >= slot->deadline) {
    st = Error(Code::timeout, std::string(what) + " " + where(slot->offset) + ": completed only after its " +
                                  format_duration(slot->deadline - slot->issued) + " deadline");
  } else if (res < 0) {
    st = errno_status(what, where(slot->offset), int(-res));
  } else if (size_t(res) != slot->length) {
    st = Error(Code::io_error, std::string("short ") + what + " " + where(slot->offset) + ": " +
                                   std::to_string(res) + " of " + std::to_string(slot->length) + " bytes");
  } else if (slot->kind == IoKind::read) {
    std::memcpy(slot->read_out, slot->buffer.data(), slot->length);
  }
  out.push_back(completion_of(*slot, std::move(st)));
  release_slot(slot);
}

void AioBlockDevice::collect_events() {
  // Drain the eventfd before collecting events: an event that lands after the drain re-arms it, so a
  // following wait() cannot sleep through a completion that is already waiting in the ring.
  uint64_t counter;
  if (::read(event_fd_.get(), &counter, sizeof counter) < 0 && errno != EAGAIN)
    log::warning("cannot drain the AIO eventfd", {{"device", path_}, {"error", std::strerror(errno)}});

  for (;;) {
    struct timespec zero = {0, 0};
    int n = io_getevents(ctx_, 0, long(events_.size()), events_.data(), &zero);
    if (n < 0) {
      log::error("io_getevents failed", {{"device", path_}, {"error", std::strerror(-n)}});
      break;
    }
    ready_.insert(ready_.end(), events_.begin(), events_.begin() + n);
    if (size_t(n) < events_.size()) break;
  }
  if (after_getevents_) after_getevents_();
}

void AioBlockDevice::reap(TimePoint now, std::vector<IoCompletion>& out) {
  collect_events();
  finish(now, out);
}

TimePoint AioBlockDevice::reap_with_clock(const Clock& clock, std::vector<IoCompletion>& out) {
  collect_events();
  const TimePoint now = clock.now();  // after io_getevents: nothing collected is stamped earlier than seen
  finish(now, out);
  return now;
}

void AioBlockDevice::finish(TimePoint now, std::vector<IoCompletion>& out) {
  for (const auto& ev : ready_) complete(static_cast<Slot*>(ev.data), long(ev.res), now, out);
  ready_.clear();

  // Time out what is still in the kernel past its deadline; its buffer stays with the kernel (orphaned).
  auto expired = [&](Slot* s) { return s->deadline <= now; };
  for (Slot* s : in_flight_) {
    if (!expired(s)) continue;
    const char* what = s->kind == IoKind::read ? "read" : "write";
    out.push_back(completion_of(*s, Error(Code::timeout, std::string(what) + " " + where(s->offset) +
                                                             ": no completion within " +
                                                             format_duration(s->deadline - s->issued))));
    s->state = Slot::State::orphaned;
    s->read_out = nullptr;  // the caller's read buffer is never touched again
    ++orphaned_count_;
  }
  in_flight_.erase(std::remove_if(in_flight_.begin(), in_flight_.end(), expired), in_flight_.end());
}

void AioBlockDevice::wait(TimePoint until) {
  for (Slot* s : in_flight_) until = std::min(until, s->deadline);
  BootClock clock;
  for (;;) {
    TimePoint now = clock.now();
    if (until <= now) return;
    Duration left = until - now;
    struct timespec ts;
    ts.tv_sec = time_t(left.count() / 1000000000);
    ts.tv_nsec = long(left.count() % 1000000000);
    struct pollfd p = {event_fd_.get(), POLLIN, 0};
    int rc = ::ppoll(&p, 1, &ts, nullptr);
    if (rc >= 0) return;  // readable, or the time is up
    if (errno != EINTR) {
      log::warning("ppoll on the AIO eventfd failed", {{"device", path_}, {"error", std::strerror(errno)}});
      return;
    }
  }
}

}  // namespace castor
