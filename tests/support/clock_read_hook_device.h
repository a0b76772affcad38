// Test support: a BlockDevice over a FaultyBlockDevice that runs a hook once, right after the daemon's clock
// read of a loop turn (reap_with_clock) -- what a pause of quorumd at that point looks like when the hook
// advances the fake clock and lets real processes (a fence agent) run on meanwhile. For in-process daemon
// tests (ClusterOptions::wrap_device); never used by production code.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "disk/testing/faulty_block_device.h"

namespace castor::testing {

class ClockReadHookDevice final : public BlockDevice {
 public:
  // `hook` is the test's: set it to run once at the next turn of any device so wrapped (it is cleared first).
  ClockReadHookDevice(std::unique_ptr<FaultyBlockDevice> inner, std::function<void()>& hook)
      : inner_(std::move(inner)), hook_(hook) {}
  const Geometry& geometry() const override { return inner_->geometry(); }
  const std::string& name() const override { return inner_->name(); }
  Status submit_read(uint64_t tag, uint64_t offset, std::span<std::byte> out, TimePoint now,
                     TimePoint deadline) override {
    return inner_->submit_read(tag, offset, out, now, deadline);
  }
  Status submit_write(uint64_t tag, uint64_t offset, std::span<const std::byte> data, TimePoint now,
                      TimePoint deadline) override {
    return inner_->submit_write(tag, offset, data, now, deadline);
  }
  void reap(TimePoint now, std::vector<IoCompletion>& out) override { inner_->reap(now, out); }
  TimePoint reap_with_clock(const Clock& clock, std::vector<IoCompletion>& out) override {
    const TimePoint now = inner_->reap_with_clock(clock, out);
    if (hook_) std::exchange(hook_, nullptr)();
    return now;
  }
  void wait(TimePoint until) override { inner_->wait(until); }
  size_t in_flight() const override { return inner_->in_flight(); }
  size_t held_by_kernel() const override { return inner_->held_by_kernel(); }
  size_t held_after_timeout() const override { return inner_->held_after_timeout(); }

 private:
  std::unique_ptr<FaultyBlockDevice> inner_;
  std::function<void()>& hook_;
};

}  // namespace castor::testing
