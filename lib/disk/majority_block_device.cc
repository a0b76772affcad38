#include "disk/majority_block_device.h"

#include <sys/epoll.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

namespace castor {
namespace {

// Per-device I/Os carry no composite deadline (W3): the device reports them when the kernel returns them.
constexpr TimePoint kFar = TimePoint::max();
constexpr Duration kBucket = std::chrono::seconds(10);

const char* kind_name(IoKind k) { return k == IoKind::read ? "read" : "write"; }

bool ranges_overlap(uint64_t a, size_t alen, uint64_t b, size_t blen) { return a < b + blen && b < a + alen; }

}  // namespace

Result<std::unique_ptr<MajorityBlockDevice>> MajorityBlockDevice::create(
    std::vector<std::unique_ptr<BlockDevice>> devices, const RecordSeal& seal, const Uuid& cluster, std::string name) {
  const size_t n = devices.size();
  if (n < 3 || n % 2 == 0)
    return Error(Code::invalid_argument, name + ": a majority device needs an odd number (>= 3) of devices, got " +
                                             std::to_string(n) + " (one device is used as it is, never wrapped)");
  for (const auto& d : devices)
    if (!d) return Error(Code::invalid_argument, name + ": a device is missing");
  Geometry g;
  g.logical_sector_size = devices[0]->geometry().logical_sector_size;
  g.size_bytes = devices[0]->geometry().size_bytes;
  for (const auto& d : devices) {
    if (d->geometry().logical_sector_size != g.logical_sector_size)
      return Error(Code::unsupported,
                   name + ": the devices' logical sector sizes differ (" + devices[0]->name() + ": " +
                       std::to_string(g.logical_sector_size) + " bytes, " + d->name() + ": " +
                       std::to_string(d->geometry().logical_sector_size) +
                       " bytes): every quorum device must have the same sector size (the layout depends on it)");
    g.size_bytes = std::min(g.size_bytes, d->geometry().size_bytes);
  }
  ASSIGN_OR_RETURN(DiskLayout layout, DiskLayout::for_sector_size(g.logical_sector_size));
  for (const auto& d : devices)
    if (d->geometry().size_bytes < layout.required_bytes())
      return Error(Code::invalid_argument, d->name() + ": " + std::to_string(d->geometry().size_bytes) +
                                               " bytes, the quorum layout needs " +
                                               std::to_string(layout.required_bytes()));
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) return Error(Code::io_error, name + ": epoll_create1: " + std::strerror(errno));
  UniqueFd epoll(ep);
  auto dev = std::unique_ptr<MajorityBlockDevice>(
      new MajorityBlockDevice(std::move(devices), layout, seal, cluster, std::move(name), g, std::move(epoll)));
  for (auto& d : dev->devices_) {
    const int fd = d.dev->completion_fd();
    if (fd < 0) continue;
    struct epoll_event ev {};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (::epoll_ctl(dev->epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0)
      return Error(Code::io_error, d.dev->name() + ": epoll_ctl: " + std::strerror(errno));
    d.fd = fd;
    ++dev->registered_fds_;
  }
  return dev;
}

MajorityBlockDevice::MajorityBlockDevice(std::vector<std::unique_ptr<BlockDevice>> devices, const DiskLayout& layout,
                                         const RecordSeal& seal, const Uuid& cluster, std::string name,
                                         Geometry geometry, UniqueFd epoll)
    : layout_(layout),
      choice_(layout, seal, cluster, devices.size()),
      damaged_(devices.size(), 0),
      name_(std::move(name)),
      geometry_(geometry),
      epoll_(std::move(epoll)) {
  for (auto& d : devices) {
    Device dv;
    dv.health.name = d->name();
    dv.dev = std::move(d);
    devices_.push_back(std::move(dv));
  }
}

MajorityBlockDevice::~MajorityBlockDevice() {
  // The devices first: each waits for what its kernel holds, and only then are our buffers freed.
  for (auto& d : devices_) d.dev.reset();
  for (auto& p : parked_) p.d.dev.reset();
}

// ---------------------------------------------------------------------------------------------------------
// Submission

Status MajorityBlockDevice::submit_read(uint64_t tag, uint64_t offset, std::span<std::byte> out, TimePoint now,
                                        TimePoint deadline) {
  RETURN_IF_ERROR(check_io_range(geometry_, offset, out.size(), name_));
  const size_t n = devices_.size();
  size_t answering = 0;
  for (const auto& d : devices_)
    if (d.ops.size() < kMaxPerDevice) ++answering;
  if (answering < majority())
    return Error(Code::busy, name_ + ": only " + std::to_string(answering) + " of " + std::to_string(n) +
                                 " devices take I/O now (the others hold " + std::to_string(kMaxPerDevice) +
                                 " of ours): no majority can answer");
  const uint64_t id = next_id_++;
  Composite c{tag, IoKind::read, offset, out.size(), now, deadline, out, {}, {}, {}, {}, {}};
  c.answers.assign(n, Answer::pending);
  c.errors.assign(n, {});
  c.bufs.assign(n, nullptr);
  c.valid.assign(n, {});
  for (size_t i = 0; i < n; ++i) {
    Device& d = devices_[i];
    if (d.ops.size() >= kMaxPerDevice) {  // W4: a read skips a device that holds too many of ours
      set_answer(c, i, false, d.dev->name() + ": not answering (holds " + std::to_string(d.ops.size()) + " I/Os)");
      continue;
    }
    auto buf = std::make_shared<std::vector<std::byte>>(out.size());  // R1: never the caller's buffer
    const uint64_t dtag = next_dev_tag_++;
    Status st = d.dev->submit_read(dtag, offset, *buf, now, kFar);
    if (!st.ok()) {
      note_failure(i, IoKind::read, st.to_string(), now);
      set_answer(c, i, false, st.to_string());
      continue;
    }
    d.ops.emplace(dtag, DevOp{IoKind::read, offset, out.size(), {id}, std::move(buf), now, deadline, false,
                              d.completions});
  }
  open_.emplace(id, std::move(c));
  return Status::Ok();
}

Status MajorityBlockDevice::submit_write(uint64_t tag, uint64_t offset, std::span<const std::byte> data, TimePoint now,
                                         TimePoint deadline) {
  RETURN_IF_ERROR(check_io_range(geometry_, offset, data.size(), name_));
  if (offset < layout_.region_offset(1))
    return Error(Code::invalid_argument,
                 name_ + ": write at offset " + std::to_string(offset) +
                     " is in the header area: each device's superblock is its own (castor init and disk replace "
                     "write it per device)");
  const size_t n = devices_.size();
  const uint64_t id = next_id_++;
  auto buf = std::make_shared<std::vector<std::byte>>(data.begin(), data.end());  // W1: copied once
  const uint64_t bs = layout_.block_size();
  for (uint64_t rel = 0; rel + bs <= data.size(); rel += bs) {  // our own blocks, by the incarnation we write
    auto h = choice_.validate(offset + rel, data.subspan(rel, bs));
    if (!h.ok()) continue;
    OwnBlock& o = own_[offset + rel];
    if (o.incarnation != h->incarnation) o = OwnBlock{h->incarnation, std::vector<uint64_t>(n, 0)};
  }
  Composite c{tag, IoKind::write, offset, data.size(), now, deadline, {}, {}, {}, {}, {}, {}};
  c.answers.assign(n, Answer::pending);
  c.errors.assign(n, {});
  open_.emplace(id, std::move(c));
  Composite& cr = open_.at(id);
  for (size_t i = 0; i < n; ++i) {
    Device& d = devices_[i];
    // The last queued write overlapping this range: the same range coalesces (the newest data wins, and it
    // serves both composites); another overlapping range keeps its place and this one queues behind it.
    auto last = std::find_if(d.queue.rbegin(), d.queue.rend(), [&](const Queued& q) {
      return ranges_overlap(q.offset, q.length, offset, data.size());
    });
    if (last != d.queue.rend() && last->offset == offset && last->length == data.size()) {
      last->data = buf;
      last->composites.push_back(id);
      continue;
    }
    if (d.queue.size() >= kMaxQueuedPerDevice) {
      const std::string why = d.dev->name() + ": " + std::to_string(d.queue.size()) + " writes queued (device stalled)";
      note_failure(i, IoKind::write, why, now);
      set_answer(cr, i, false, why);
      continue;
    }
    d.queue.push_back(Queued{offset, data.size(), buf, {id}, deadline, false});
    pump(i, now);
  }
  return Status::Ok();
}

bool MajorityBlockDevice::overlaps_earlier(const Device& d, uint64_t offset, size_t length, size_t queue_index) const {
  for (const auto& [t, op] : d.ops)
    if (op.kind == IoKind::write && ranges_overlap(op.offset, op.length, offset, length)) return true;
  for (size_t j = 0; j < queue_index; ++j)
    if (ranges_overlap(d.queue[j].offset, d.queue[j].length, offset, length)) return true;
  return false;
}

// W1/W4: submits the queued writes of device i that may go now, in order: one at a time per range, never
// past kMaxPerDevice.
void MajorityBlockDevice::pump(size_t i, TimePoint now) {
  Device& d = devices_[i];
  for (size_t j = 0; j < d.queue.size();) {
    if (d.ops.size() >= kMaxPerDevice) return;
    if (overlaps_earlier(d, d.queue[j].offset, d.queue[j].length, j)) {
      ++j;
      continue;
    }
    Queued q = std::move(d.queue[j]);
    d.queue.erase(d.queue.begin() + std::ptrdiff_t(j));
    submit_device_write(i, std::move(q), now);
  }
}

void MajorityBlockDevice::submit_device_write(size_t i, Queued q, TimePoint now) {
  Device& d = devices_[i];
  const uint64_t dtag = next_dev_tag_++;
  Status st = d.dev->submit_write(dtag, q.offset, *q.data, now, kFar);
  if (!st.ok()) {
    note_failure(i, IoKind::write, st.to_string(), now);
    for (uint64_t id : q.composites)
      if (auto it = open_.find(id); it != open_.end()) set_answer(it->second, i, false, st.to_string());
    return;
  }
  d.ops.emplace(dtag, DevOp{IoKind::write, q.offset, q.length, std::move(q.composites), std::move(q.data), now,
                            q.deadline, q.timeout_noted, d.completions});
}

// ---------------------------------------------------------------------------------------------------------
// Completions

void MajorityBlockDevice::set_answer(Composite& c, size_t i, bool ok, const std::string& error) {
  if (c.answers[i] != Answer::pending) return;
  c.answers[i] = ok ? Answer::ok : Answer::failed;
  if (!ok) c.errors[i] = error;
}

void MajorityBlockDevice::on_device_completion(size_t i, const IoCompletion& ic, TimePoint now) {
  Device& d = devices_[i];
  auto it = d.ops.find(ic.tag);
  if (it == d.ops.end()) return;
  DevOp op = std::move(it->second);
  d.ops.erase(it);
  const bool ok = ic.status.ok();
  const uint64_t completion = ++d.completions;
  std::vector<bool> valid;
  std::map<uint64_t, std::vector<std::byte>> foreign;  // blocks of ours another writer wrote here after us
  std::optional<uint64_t> damaged;  // a block this device returned invalid while another device holds it valid
  if (op.kind == IoKind::write && ok) note_own_landed(i, op, completion);
  if (op.kind == IoKind::read && ok) {
    // R2 for every answer (health: also one that comes after its composite reported). Only answers of a
    // composite still open before its deadline take part in its choice (below, bufs and valid).
    const uint64_t bs = layout_.block_size();
    for (uint64_t rel = 0; rel < op.length; rel += bs) {
      const uint64_t len = std::min<uint64_t>(bs, op.length - rel);
      const bool judged = len == bs && (op.offset + rel) % bs == 0;
      const auto copy = std::span<const std::byte>(*op.data).subspan(rel, len);
      valid.push_back(judged && choice_.observe(i, op.offset + rel, copy));
      if (valid.back())
        if (auto o = own_.find(op.offset + rel); o != own_.end() && o->second.landed[i] != 0 &&
                                                 o->second.landed[i] <= op.submitted)
          if (auto h = choice_.validate(op.offset + rel, copy); h.ok() && h->incarnation != o->second.incarnation)
            foreign[op.offset + rel].assign(copy.begin(), copy.end());
      if (judged && !valid.back() && !damaged && expected_slot_at(layout_, op.offset + rel))
        for (size_t j = 0; j < devices_.size(); ++j)
          if (j != i && choice_.remembered(j, op.offset + rel)) {
            damaged = op.offset + rel;
            break;
          }
    }
  }
  // Health: a completion after its deadline was already counted as a timeout. A read that returned a damaged
  // block (zeroed, garbage, torn: invalid where another device holds a valid copy) is a failure of the
  // device, however fast it came, also when it came after the composite reported; the device counts as
  // failing until a read of it returns only valid copies.
  if (damaged) {
    ++damaged_[i];
    ++damaged_region_[*damaged >= layout_.region_offset(2) ? 1 : 0];
    note_failure(i, IoKind::read, devices_[i].dev->name() + ": invalid copy of the block at offset " +
                                      std::to_string(*damaged) + " (another device holds it valid)",
                 now, false);
  } else if (!op.timeout_noted) {
    if (ok && now < op.deadline)
      note_ok(i, op.kind, now - op.issued, now);
    else if (!ok)
      note_failure(i, op.kind, ic.status.to_string(), now);
  }
  for (uint64_t id : op.composites) {
    auto c = open_.find(id);
    if (c == open_.end()) continue;
    // W3: a per-device completion seen at or after the composite deadline does not count.
    if (now >= c->second.deadline) continue;
    set_answer(c->second, i, ok, ic.status.to_string());
    if (op.kind == IoKind::read && ok) {
      c->second.bufs[i] = op.data;
      c->second.valid[i] = valid;
      for (const auto& [off, bytes] : foreign) c->second.foreign.emplace(off, Composite::Foreign{i, bytes});
    }
  }
}

void MajorityBlockDevice::note_own_landed(size_t i, const DevOp& op, uint64_t completion) {
  const uint64_t bs = layout_.block_size();
  for (uint64_t rel = 0; rel + bs <= op.length; rel += bs) {
    auto o = own_.find(op.offset + rel);
    if (o == own_.end()) continue;
    auto h = choice_.validate(op.offset + rel, std::span<const std::byte>(*op.data).subspan(rel, bs));
    if (h.ok() && h->incarnation == o->second.incarnation) o->second.landed[i] = completion;
  }
}

void MajorityBlockDevice::collect(size_t i, const std::vector<IoCompletion>& done, TimePoint now) {
  for (const auto& c : done) on_device_completion(i, c, now);
}

void MajorityBlockDevice::reap_parked(TimePoint now) {
  for (auto it = parked_.begin(); it != parked_.end();) {
    scratch_.clear();
    it->d.dev->reap(now, scratch_);
    for (const auto& c : scratch_) it->d.ops.erase(c.tag);
    if (it->d.ops.empty() && it->d.dev->held_by_kernel() == 0) {
      if (it->d.fd >= 0) {
        ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, it->d.fd, nullptr);
        --registered_fds_;
      }
      it->d.dev.reset();
      it = parked_.erase(it);
      continue;
    }
    ++it;
  }
}

void MajorityBlockDevice::reap(TimePoint now, std::vector<IoCompletion>& out) {
  for (size_t i = 0; i < devices_.size(); ++i) {
    scratch_.clear();
    devices_[i].dev->reap(now, scratch_);
    std::vector<IoCompletion> done = std::move(scratch_);
    scratch_ = {};
    collect(i, done, now);
  }
  finish_reap(now, out);
}

TimePoint MajorityBlockDevice::reap_with_clock(const Clock& clock, std::vector<IoCompletion>& out) {
  std::vector<std::vector<IoCompletion>> done(devices_.size());
  TimePoint now{};
  for (size_t i = 0; i < devices_.size(); ++i) now = std::max(now, devices_[i].dev->reap_with_clock(clock, done[i]));
  // Every completion is taken at the latest of the devices' times: never earlier than the caller could
  // have seen all of them (a completion that thereby falls at or after a deadline does not count: W3).
  for (size_t i = 0; i < devices_.size(); ++i) collect(i, done[i], now);
  finish_reap(now, out);
  return now;
}

void MajorityBlockDevice::finish_reap(TimePoint now, std::vector<IoCompletion>& out) {
  reap_parked(now);
  for (size_t i = 0; i < devices_.size(); ++i) pump(i, now);
  note_timeouts(now);
  settle(now, out);
}

void MajorityBlockDevice::note_timeouts(TimePoint now) {
  for (size_t i = 0; i < devices_.size(); ++i) {
    Device& d = devices_[i];
    for (auto& [t, op] : d.ops)
      if (!op.timeout_noted && op.deadline <= now) {
        op.timeout_noted = true;
        note_failure(i, op.kind, d.dev->name() + ": " + kind_name(op.kind) + " at offset " +
                                     std::to_string(op.offset) + " not answered within its deadline",
                     now);
      }
    for (auto& q : d.queue)
      if (!q.timeout_noted && q.deadline <= now) {
        q.timeout_noted = true;
        note_failure(i, IoKind::write, d.dev->name() + ": write at offset " + std::to_string(q.offset) +
                                           " still queued at its deadline (an earlier one is not done)",
                     now);
      }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Deciding composites

std::optional<Status> MajorityBlockDevice::decide(Composite& c, TimePoint now) {
  const size_t n = devices_.size(), maj = majority();
  size_t ok = 0, failed = 0;
  for (Answer a : c.answers) {
    if (a == Answer::ok) ++ok;
    if (a == Answer::failed) ++failed;
  }
  const size_t pending = n - ok - failed;
  const bool past = now >= c.deadline;
  auto names = [&](bool with_pending) {
    std::string s;
    for (size_t i = 0; i < n; ++i) {
      if (c.answers[i] == Answer::failed) s += (s.empty() ? "" : "; ") + c.errors[i];
      if (with_pending && c.answers[i] == Answer::pending)
        s += (s.empty() ? "" : "; ") + devices_[i].dev->name() + ": no answer";
    }
    return s;
  };
  const std::string what = std::string(kind_name(c.kind)) + " " + name_ + " at offset " + std::to_string(c.offset);
  if (c.kind == IoKind::write) {
    if (ok >= maj) return Status::Ok();  // W2 (answers count only before the deadline)
    if (failed >= n - maj + 1)
      return Error(Code::io_error, what + ": failed on " + std::to_string(failed) + " of " + std::to_string(n) +
                                       " devices, no majority can take it (" + names(false) + ")");
    if (past)
      return Error(Code::timeout, what + ": on " + std::to_string(ok) + " of " + std::to_string(n) +
                                      " devices by its deadline (" + names(true) + ")");
    return std::nullopt;
  }
  // R3.
  const uint64_t bs = layout_.block_size();
  const size_t blocks = (c.length + bs - 1) / bs;
  auto valid_answers = [&](size_t b) {  // devices that answered block b with a valid copy
    size_t v = 0;
    for (size_t i = 0; i < n; ++i)
      if (c.answers[i] == Answer::ok && b < c.valid[i].size() && c.valid[i][b]) ++v;
    return v;
  };
  bool every_block = ok >= maj;
  for (size_t b = 0; every_block && b < blocks; ++b) every_block = valid_answers(b) >= maj;
  // Every block has a valid majority of this read's answers, or every device answered (or the deadline
  // came) with a majority of answers: blocks without a valid majority are handed out as the lowest device's
  // bytes (corrupt or never written to the caller, as with one disk holding them).
  if (every_block || ((pending == 0 || past) && ok >= maj)) {
    finish_read(c, now);
    return Status::Ok();
  }
  if (pending == 0 || failed >= n - maj + 1)
    return Error(Code::io_error, what + ": answered by " + std::to_string(ok) + " of " + std::to_string(n) +
                                     " devices, fewer than a majority (" + names(false) + ")");
  if (past)
    return Error(Code::timeout, what + ": answered by " + std::to_string(ok) + " of " + std::to_string(n) +
                                    " devices by its deadline (" + names(true) + ")");
  return std::nullopt;
}

// R3/R4: the output, block by block: the chooser's copy where a majority of this read's answers is valid,
// else the lowest-index answering device's bytes. The only place the caller's buffer is written.
void MajorityBlockDevice::finish_read(Composite& c, TimePoint now) {
  const size_t n = devices_.size(), maj = majority();
  const uint64_t bs = layout_.block_size();
  size_t lowest = n;
  for (size_t i = 0; i < n && lowest == n; ++i)
    if (c.answers[i] == Answer::ok) lowest = i;
  for (uint64_t rel = 0, b = 0; rel < c.length; rel += bs, ++b) {
    const size_t len = size_t(std::min<uint64_t>(bs, c.length - rel));
    size_t v = 0;
    for (size_t i = 0; i < n; ++i)
      if (c.answers[i] == Answer::ok && b < c.valid[i].size() && c.valid[i][b]) ++v;
    if (v >= maj) {
      // A device whose copy is invalid while a majority's is valid holds a damaged block: it is failing.
      for (size_t i = 0; i < n; ++i)
        if (c.answers[i] == Answer::ok && !(b < c.valid[i].size() && c.valid[i][b]))
          note_failure(i, IoKind::read, devices_[i].dev->name() + ": invalid copy of the block at offset " +
                                            std::to_string(c.offset + rel) + " (a majority holds it valid)",
                       now, false);
      if (auto f = c.foreign.find(c.offset + rel); f != c.foreign.end() && f->second.bytes.size() == len) {
        std::memcpy(c.out.data() + rel, f->second.bytes.data(), len);  // another writer on our block: shown
        continue;
      }
      std::vector<ReplicaChoice::Answer> answers;
      for (size_t i = 0; i < n; ++i)
        if (c.answers[i] == Answer::ok && b < c.valid[i].size() && c.valid[i][b])
          answers.push_back({i, std::span<const std::byte>(*c.bufs[i]).subspan(rel, len)});
      if (auto ch = choice_.choose(c.offset + rel, answers); ch && ch->bytes.size() == len) {
        std::memcpy(c.out.data() + rel, ch->bytes.data(), len);
        continue;
      }
    }
    std::memcpy(c.out.data() + rel, c.bufs[lowest]->data() + rel, len);
  }
}

void MajorityBlockDevice::settle(TimePoint now, std::vector<IoCompletion>& out) {
  for (auto it = open_.begin(); it != open_.end();) {
    auto st = decide(it->second, now);
    if (!st) {
      ++it;
      continue;
    }
    const Composite& c = it->second;
    out.push_back({c.tag, c.kind, c.offset, c.length, *st, c.issued});
    it = open_.erase(it);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Waiting

void MajorityBlockDevice::wait(TimePoint until) {
  for (const auto& [id, c] : open_) until = std::min(until, c.deadline);
  if (registered_fds_ == 0) {
    for (auto& d : devices_) d.dev->wait(until);
    return;
  }
  BootClock clock;
  for (;;) {
    const TimePoint now = clock.now();
    if (until <= now) return;
    const auto left_ms = std::chrono::ceil<Millis>(until - now).count();
    const int timeout = left_ms > INT_MAX ? INT_MAX : int(left_ms);
    struct epoll_event ev[8];
    const int rc = ::epoll_wait(epoll_.get(), ev, 8, timeout);
    if (rc >= 0 || errno != EINTR) return;
  }
}

int MajorityBlockDevice::completion_fd() const { return registered_fds_ > 0 ? epoll_.get() : -1; }

// ---------------------------------------------------------------------------------------------------------
// Counts and health

size_t MajorityBlockDevice::majority_th_smallest(std::vector<size_t> counts) const {
  std::sort(counts.begin(), counts.end());
  return counts[majority() - 1];
}

size_t MajorityBlockDevice::held_by_kernel() const {
  std::vector<size_t> counts;
  for (const auto& d : devices_) counts.push_back(d.ops.size() + d.queue.size());
  return majority_th_smallest(std::move(counts));
}

size_t MajorityBlockDevice::held_after_timeout() const {
  std::vector<size_t> counts;
  for (const auto& d : devices_)
    counts.push_back(size_t(std::count_if(d.ops.begin(), d.ops.end(), [](const auto& o) { return o.second.timeout_noted; })));
  return majority_th_smallest(std::move(counts));
}

size_t MajorityBlockDevice::total_held() const {
  size_t sum = 0;
  for (const auto& d : devices_) sum += d.ops.size() + d.queue.size();
  for (const auto& p : parked_) sum += p.d.ops.size();
  return sum;
}

void MajorityBlockDevice::note_ok(size_t i, IoKind kind, Duration latency, TimePoint now) {
  Device& d = devices_[i];
  (kind == IoKind::read ? d.health.reads_ok : d.health.writes_ok)++;
  d.health.last_ok_at = now;
  d.health.last_ok_latency = latency;
  (kind == IoKind::read ? d.health.reads_failing_since : d.health.writes_failing_since).reset();
  const int64_t slot = now.time_since_epoch() / kBucket;
  const size_t k = size_t(slot % int64_t(d.latency.worst.size()));
  if (d.latency.bucket[k] != slot) {
    d.latency.bucket[k] = slot;
    d.latency.worst[k] = Duration(0);
  }
  d.latency.worst[k] = std::max(d.latency.worst[k], latency);
  last_now_ = std::max(last_now_, now);
}

void MajorityBlockDevice::note_failure(size_t i, IoKind kind, const std::string& error, TimePoint now, bool count) {
  Device& d = devices_[i];
  if (count) (kind == IoKind::read ? d.health.reads_failed : d.health.writes_failed)++;
  d.health.last_error = error;
  d.health.last_error_at = now;
  auto& since = kind == IoKind::read ? d.health.reads_failing_since : d.health.writes_failing_since;
  if (!since) since = now;
  last_now_ = std::max(last_now_, now);
}

DeviceHealth MajorityBlockDevice::health(size_t i) const {
  const Device& d = devices_[i];
  DeviceHealth h = d.health;
  h.name = d.dev->name();
  h.answering = d.ops.size() < kMaxPerDevice;
  h.in_flight = d.ops.size();
  h.queued = d.queue.size();
  h.invalid_blocks = choice_.invalid_seen(i);
  h.failing_since = failing_since(i);
  const int64_t slot = last_now_.time_since_epoch() / kBucket;
  h.worst_latency_last_minute = Duration(0);
  for (size_t k = 0; k < d.latency.worst.size(); ++k)
    if (d.latency.bucket[k] > slot - int64_t(d.latency.worst.size()))
      h.worst_latency_last_minute = std::max(h.worst_latency_last_minute, d.latency.worst[k]);
  return h;
}

std::optional<TimePoint> MajorityBlockDevice::failing_since(size_t i) const {
  const DeviceHealth& h = devices_[i].health;
  if (h.writes_failing_since && (!h.reads_failing_since || *h.writes_failing_since < *h.reads_failing_since))
    return h.writes_failing_since;
  return h.reads_failing_since;
}

bool MajorityBlockDevice::degraded() const {
  return std::any_of(devices_.begin(), devices_.end(), [](const Device& d) {
    return d.health.reads_failing_since.has_value() || d.health.writes_failing_since.has_value();
  });
}

// ---------------------------------------------------------------------------------------------------------
// Replacing a device

Status MajorityBlockDevice::replace_device(size_t i, std::unique_ptr<BlockDevice> dev) {
  if (i >= devices_.size()) return Error(Code::invalid_argument, name_ + ": no device " + std::to_string(i));
  if (!dev) return Error(Code::invalid_argument, name_ + ": no new device");
  if (dev->geometry().logical_sector_size != geometry_.logical_sector_size)
    return Error(Code::unsupported, dev->name() + ": logical sector size " +
                                        std::to_string(dev->geometry().logical_sector_size) + " bytes, the others have " +
                                        std::to_string(geometry_.logical_sector_size));
  if (dev->geometry().size_bytes < layout_.required_bytes())
    return Error(Code::invalid_argument, dev->name() + ": " + std::to_string(dev->geometry().size_bytes) +
                                             " bytes, the quorum layout needs " + std::to_string(layout_.required_bytes()));
  Device fresh;
  fresh.health.name = dev->name();
  const int fd = dev->completion_fd();
  if (fd >= 0) {
    struct epoll_event ev {};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0)
      return Error(Code::io_error, dev->name() + ": epoll_ctl: " + std::strerror(errno));
    fresh.fd = fd;
    ++registered_fds_;
  }
  fresh.dev = std::move(dev);
  // Open composites stop waiting for the old device: it counts as failed for them -- also when it already
  // answered: its answer is of the old membership, and a write completed on the new member and one other need
  // not be on it, so it must not make up a read's majority (review 17d, finding 3). A write it already took
  // stays counted: it landed there.
  const std::string why = devices_[i].dev->name() + ": replaced while the I/O was in flight";
  for (auto& [id, c] : open_) {
    if (c.kind == IoKind::read && c.answers[i] == Answer::ok) {
      c.answers[i] = Answer::pending;
      c.bufs[i] = nullptr;
      c.valid[i].clear();
      std::erase_if(c.foreign, [&](const auto& f) { return f.second.device == i; });  // review17e, finding 3
    }
    set_answer(c, i, false, why);
  }
  Device old = std::move(devices_[i]);
  old.queue.clear();  // never submitted: dropped
  devices_[i] = std::move(fresh);
  geometry_.size_bytes = std::min(geometry_.size_bytes, devices_[i].dev->geometry().size_bytes);
  choice_.forget_device(i);
  for (auto& [off, o] : own_) o.landed[i] = 0;  // the new device holds none of our writes yet
  damaged_[i] = 0;
  if (!old.ops.empty() || old.dev->held_by_kernel() != 0)
    parked_.push_back(Parked{std::move(old)});
  else if (old.fd >= 0) {
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, old.fd, nullptr);
    --registered_fds_;
  }
  return Status::Ok();
}

}  // namespace castor
