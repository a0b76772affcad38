#include "quorumd/heartbeat_io.h"

#include <algorithm>

namespace castor {

Status HeartbeatIo::init(const DiskLayout& layout, size_t read_buffers, const RecordSeal& seal) {
  seal_ = seal;
  layout_ = layout;
  block_size_ = layout.block_size();
  write_buffer_ = AlignedBuffer(block_size_, block_size_);
  if (!write_buffer_.valid()) return Error(Code::internal, "out of memory for the heartbeat write buffer");
  for (size_t i = 0; i < read_buffers; ++i) {
    read_buffers_.emplace_back(block_size_, block_size_);
    if (!read_buffers_.back().valid()) return Error(Code::internal, "out of memory for heartbeat read buffers");
    free_read_buffers_.push_back(int(i));
  }
  pending_.reserve(64);
  return Status::Ok();
}

Status HeartbeatIo::submit_write(BlockDevice& dev, const HeartbeatRecord& record, uint64_t offset,
                                 uint64_t generation, TimePoint now, TimePoint deadline) {
  encode_heartbeat(record, layout_, seal_, write_buffer_.span());
  const uint64_t tag = next_tag_++;
  RETURN_IF_ERROR(dev.submit_write(tag, offset, write_buffer_.span(), now, deadline));
  pending_.push_back({tag, Purpose::write, generation, record.seq, -1, now, deadline});
  return Status::Ok();
}

Status HeartbeatIo::submit_heartbeat_read(BlockDevice& dev, Purpose purpose, uint64_t offset, uint64_t generation,
                                          TimePoint now, TimePoint deadline) {
  if (free_read_buffers_.empty()) return Error(Code::busy, "no free heartbeat read buffer");
  const int buf = free_read_buffers_.back();
  free_read_buffers_.pop_back();
  const uint64_t tag = next_tag_++;
  if (Status st = dev.submit_read(tag, offset, read_buffers_[size_t(buf)].span(), now, deadline); !st.ok()) {
    free_read_buffers_.push_back(buf);
    return st;
  }
  pending_.push_back({tag, purpose, generation, 0, buf, now, deadline});
  return Status::Ok();
}

Status HeartbeatIo::submit_read_into(BlockDevice& dev, Purpose purpose, uint64_t offset, std::span<std::byte> buffer,
                                     uint64_t generation, TimePoint now, TimePoint deadline) {
  const uint64_t tag = next_tag_++;
  RETURN_IF_ERROR(dev.submit_read(tag, offset, buffer, now, deadline));
  pending_.push_back({tag, purpose, generation, 0, -1, now, deadline});
  return Status::Ok();
}

std::optional<HeartbeatIo::Pending> HeartbeatIo::take(uint64_t tag) {
  auto it = std::find_if(pending_.begin(), pending_.end(), [&](const Pending& p) { return p.tag == tag; });
  if (it == pending_.end()) return std::nullopt;
  Pending p = *it;
  pending_.erase(it);
  return p;
}

void HeartbeatIo::release(int buffer) {
  if (buffer >= 0) free_read_buffers_.push_back(buffer);
}

bool HeartbeatIo::has_generation(uint64_t generation) const {
  return std::any_of(pending_.begin(), pending_.end(), [&](const Pending& p) { return p.generation == generation; });
}

TimePoint HeartbeatIo::earliest_deadline(TimePoint t) const {
  for (const auto& p : pending_) t = std::min(t, p.deadline);
  for (const auto& d : deferred_read_)
    if (d) t = std::min(t, *d);
  return t;
}

void HeartbeatIo::back_off(Purpose read, TimePoint retry_after) { read_retry_after_[read_index(read)] = retry_after; }

bool HeartbeatIo::defer(Purpose read, TimePoint now) {
  const size_t i = read_index(read);
  if (now < read_retry_after_[i]) {
    deferred_read_[i] = read_retry_after_[i];
    return true;
  }
  deferred_read_[i].reset();
  return false;
}

bool HeartbeatIo::due(Purpose read, TimePoint now) const {
  const auto& d = deferred_read_[read_index(read)];
  return d && now >= *d;
}

void HeartbeatIo::reset_backoff() {
  deferred_read_ = {};
  read_retry_after_ = {};
}

}  // namespace castor
