#include "disk/testing/faulty_block_device.h"

#include <algorithm>
#include <cstring>

namespace castor {

FaultyBlockDevice::FaultyBlockDevice(std::shared_ptr<BlockDevice> inner) : inner_(std::move(inner)) {}

void FaultyBlockDevice::fail_all() {
  set_policy([](IoKind, uint64_t, size_t, TimePoint) { return FaultDecision{FaultDecision::Kind::fail}; });
}

void FaultyBlockDevice::hang_all() {
  set_policy([](IoKind, uint64_t, size_t, TimePoint) { return FaultDecision{FaultDecision::Kind::hang}; });
}

void FaultyBlockDevice::delay_all(Duration d) {
  set_policy([d](IoKind, uint64_t, size_t, TimePoint) { return FaultDecision{FaultDecision::Kind::pass, d}; });
}

Status FaultyBlockDevice::submit(Pending p, TimePoint now) {
  RETURN_IF_ERROR(check_io_range(geometry(), p.offset, p.length, name()));
  p.decision = *policy_ ? (*policy_)(p.kind, p.offset, p.length, now) : FaultDecision{};
  using K = FaultDecision::Kind;
  switch (p.decision.kind) {
    case K::hang:
    case K::drop: p.lands = kNever; break;
    default: p.lands = now + p.decision.delay; break;
  }
  pending_.push_back(std::move(p));
  return Status::Ok();
}

Status FaultyBlockDevice::submit_read(uint64_t tag, uint64_t offset, std::span<std::byte> out, TimePoint now,
                                      TimePoint deadline) {
  Pending p{tag, IoKind::read, offset, out.size(), {}, out.data(), now, deadline, kNever, {}, false};
  return submit(std::move(p), now);
}

Status FaultyBlockDevice::submit_write(uint64_t tag, uint64_t offset, std::span<const std::byte> data, TimePoint now,
                                       TimePoint deadline) {
  Pending p{tag, IoKind::write, offset, data.size(), std::vector<std::byte>(data.begin(), data.end()), nullptr,
            now, deadline, kNever, {}, false};
  return submit(std::move(p), now);
}

// Performs the I/O on the inner device; returns the status the caller should see.
Status FaultyBlockDevice::land(Pending& p, TimePoint now) {
  using K = FaultDecision::Kind;
  if (p.decision.kind == K::fail)
    return Error(Code::io_error, std::string(p.kind == IoKind::read ? "read " : "write ") + name() + " at offset " +
                                     std::to_string(p.offset) + ": injected I/O error");
  std::vector<IoCompletion> done;
  Status st;
  if (p.kind == IoKind::write) {
    size_t n = p.length;
    if (p.decision.kind == K::tear) {
      const size_t ss = geometry().logical_sector_size;
      n = std::min(p.length, p.decision.torn_bytes / ss * ss);
    }
    if (n > 0) {
      st = inner_->submit_write(inner_tag_++, p.offset, std::span(p.data).first(n), now, now);
      if (st.ok()) {
        inner_->reap(now, done);
        if (!done.empty()) st = done.back().status;
      }
    }
    if (st.ok() && p.decision.kind == K::tear)
      st = Error(Code::io_error, "write " + name() + " at offset " + std::to_string(p.offset) + ": injected torn write");
  } else {
    scratch_.resize(p.length);
    st = inner_->submit_read(inner_tag_++, p.offset, scratch_, now, now);
    if (st.ok()) {
      inner_->reap(now, done);
      if (!done.empty()) st = done.back().status;
    }
    if (st.ok() && p.out) std::memcpy(p.out, scratch_.data(), p.length);
  }
  return st;
}

void FaultyBlockDevice::reap(TimePoint now, std::vector<IoCompletion>& out) {
  for (auto it = pending_.begin(); it != pending_.end();) {
    Pending& p = *it;
    if (p.lands <= now) {
      // Reaches the disk now. If its timeout was already reported, this is a late write (or a late read
      // nobody waits for): it lands, but the caller hears nothing more.
      if (p.reported || p.lands > p.deadline) p.out = nullptr;
      Status st = land(p, std::max(p.lands, p.issued));
      if (!p.reported) {
        if (p.lands > p.deadline) st = Error(Code::timeout, "I/O at offset " + std::to_string(p.offset) + " on " + name() +
                                                                " passed its deadline");
        out.push_back({p.tag, p.kind, p.offset, p.length, st, p.issued});
      }
      it = pending_.erase(it);
      continue;
    }
    if (!p.reported && p.deadline <= now) {
      out.push_back({p.tag, p.kind, p.offset, p.length,
                     Error(Code::timeout, "I/O at offset " + std::to_string(p.offset) + " on " + name() +
                                              " passed its deadline"),
                     p.issued});
      p.reported = true;
      p.out = nullptr;  // never touch the caller's buffer after its timeout
      if (p.decision.kind == FaultDecision::Kind::drop) {
        it = pending_.erase(it);
        continue;
      }
    }
    ++it;
  }
}

void FaultyBlockDevice::release_hung(TimePoint now) {
  for (auto& p : pending_)
    if (p.lands == kNever && p.decision.kind == FaultDecision::Kind::hang) p.lands = now;
}

size_t FaultyBlockDevice::in_flight() const {
  return size_t(std::count_if(pending_.begin(), pending_.end(), [](const Pending& p) { return !p.reported; }));
}

TimePoint FaultyBlockDevice::next_event() const {
  TimePoint t = kNever;
  for (const auto& p : pending_) {
    t = std::min(t, p.lands);
    if (!p.reported) t = std::min(t, p.deadline);
  }
  return t;
}

}  // namespace castor
