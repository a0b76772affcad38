#include "quorumd/region_writer.h"

#include <algorithm>
#include <utility>

#include "common/log.h"

namespace castor {

RegionWriter::RegionWriter(ServiceTableStore& store, const DiskLayout& layout, uint32_t node_id, Options options,
                           TimePoint now)
    : store_(store),
      layout_(layout),
      node_id_(node_id),
      options_(options),
      buffer_(layout.block_size(), layout.block_size()),
      next_scrub_(now + options.scrub_interval) {}

uint64_t RegionWriter::offset_of(uint32_t block) const {
  if (block == ServiceTableStore::kEpochRecord) return layout_.epoch_record_offset(node_id_);
  return layout_.service_table_offset(node_id_) + uint64_t(block) * layout_.block_size();
}

Result<uint32_t> RegionWriter::set(const ServiceEntry& e, Waiter w) {
  ASSIGN_OR_RETURN(uint32_t b, store_.set(e));
  next_waiters_[b].push_back(w);
  return b;
}

void RegionWriter::fail_waiters(std::vector<Waiter>& ws, const Status& st, TimePoint now, std::vector<Reply>& out) {
  for (Waiter w : std::exchange(ws, {})) out.push_back({w, st, now});
}

void RegionWriter::pump(BlockDevice& dev, TimePoint now, bool may_act, uint64_t incarnation, uint64_t& next_tag,
                        std::vector<Reply>& out) {
  if (now >= next_scrub_ || scrub_due_) {
    scrub_due_ = false;
    // Every own block is rewritten from memory at least every scrub interval, so damage heals without an
    // admin. Without a lease the rewrite waits for the next one.
    store_.scrub();
    ++scrubs_;
    last_scrub_ = now;
    next_scrub_ = now + options_.scrub_interval;
  }
  if (store_.blocked() && dev.held_by_kernel() == 0) store_.device_quiescent();
  if (!may_act) {
    for (auto& [b, ws] : next_waiters_) {
      if (ws.empty()) continue;
      fail_waiters(ws, Error(Code::refused, "no lease: this node may not write"), now, out);
      store_.discard(b);  // drop svcmgr's write: it retries when it holds a lease again
    }
    return;
  }
  if (!buffer_.valid() || now < retry_after_) return;
  while (pending_.size() < options_.max_in_flight) {
    auto b = store_.next_dirty();
    if (!b) break;
    Status st = store_.encode(*b, incarnation, wall_time_ns(), buffer_.span());
    const uint64_t tag = next_tag++;
    const TimePoint deadline = now + options_.io_timeout;
    if (st.ok()) st = dev.submit_write(tag, offset_of(*b), buffer_.span(), now, deadline);
    if (!st.ok()) {
      store_.write_done(*b, false, false);
      fail_waiters(next_waiters_[*b], st.with_context("writing the table"), now, out);
      retry_after_ = now + options_.retry_delay;
      log::warning("own region block not submitted", {{"block", *b == ServiceTableStore::kEpochRecord ? std::string("epoch record") : std::to_string(*b)},
                                                      {"error", st.to_string()}});
      break;
    }
    auto& waiting = waiters_[*b];
    auto& next = next_waiters_[*b];
    waiting.insert(waiting.end(), next.begin(), next.end());
    next.clear();
    pending_.push_back({tag, *b, deadline});
  }
}

bool RegionWriter::on_completion(const IoCompletion& c, TimePoint now, std::vector<Reply>& out) {
  auto it = std::find_if(pending_.begin(), pending_.end(), [&](const Pending& p) { return p.tag == c.tag; });
  if (it == pending_.end()) return false;
  const uint32_t b = it->block;
  pending_.erase(it);
  ++writes_ended_;
  const bool ok = c.status.ok();
  const bool timed_out = c.status.code() == Code::timeout;
  if (b == ServiceTableStore::kEpochRecord) {
    const uint64_t before = store_.durable_floor();
    const bool was_rebuilt = store_.floor_error().has_value();
    store_.write_done(b, ok, timed_out);
    if (ok) {
      ++blocks_written_;
      if (store_.durable_floor() != before || was_rebuilt)
        log::info("epoch record written", {{"floor", store_.durable_floor()}, {"was", before}});
      return true;
    }
    log::warning("epoch record write failed", {{"error", c.status.to_string()}});
    if (!timed_out) retry_after_ = now + options_.retry_delay;  // a timeout waits for quiescence instead
    // Changes waiting for this floor are not written now; svcmgr hears so (they may still be written
    // later, like any failed write).
    for (auto& [blk, ws] : next_waiters_)
      if (!ws.empty() && store_.waits_for_floor(blk))
        fail_waiters(ws, Error(Code::io_error, "writing the epoch record failed: " + c.status.to_string()), now, out);
    return true;
  }
  const bool was_corrupt = store_.corrupt().count(b) > 0;
  store_.write_done(b, ok, timed_out);
  if (ok) {
    ++blocks_written_;
    if (was_corrupt) {
      log::info("own table block rewritten (it was corrupt at start)", {{"block", b}});
      if (store_.corrupt().empty()) log::notice("every own table block found corrupt at start is rewritten");
    }
    for (Waiter w : std::exchange(waiters_[b], {})) out.push_back({w, Status::Ok(), now});
  } else {
    if (!timed_out) retry_after_ = now + options_.retry_delay;
    fail_waiters(waiters_[b], Error(c.status.code(), "table write failed: " + c.status.to_string()), now, out);
  }
  return true;
}

TimePoint RegionWriter::next_wakeup(TimePoint now) const {
  TimePoint t = scrub_due_ ? now : next_scrub_;
  for (const auto& p : pending_) t = std::min(t, p.deadline);
  if (retry_after_ > now) t = std::min(t, retry_after_);
  return t;
}

}  // namespace castor
