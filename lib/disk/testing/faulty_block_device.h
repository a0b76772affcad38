// FaultyBlockDevice: wraps a synchronous BlockDevice (MemoryBlockDevice) and injects the faults a loop
// device cannot make on demand: I/O errors, delays, hangs, torn writes, writes that are dropped, and late
// writes — a write reported as timed out whose data lands afterwards. It obeys the BlockDevice contract
// (one completion per I/O, a timeout at the deadline, never touching a read buffer after its timeout), so
// code under test cannot tell it from a real slow disk. Time moves only through the `now` passed to
// submit_*/reap, so it works with FakeClock. Test-only.
#pragma once

#include <functional>
#include <limits>
#include <list>
#include <memory>
#include <vector>

#include "disk/block_device.h"

namespace castor {

struct FaultDecision {
  enum class Kind {
    pass,   // reaches the disk after `delay`, completes ok (a timeout first if delay >= deadline: a late write)
    fail,   // completes with an I/O error after `delay`; a write's data never lands
    hang,   // does not reach the disk until release_hung(); times out at its deadline meanwhile
    tear,   // after `delay`, only the first `torn_bytes` of a write land, and it completes with an I/O error
    drop,   // never reaches the disk; times out
  };
  Kind kind = Kind::pass;
  Duration delay{0};
  size_t torn_bytes = 0;
};

using FaultPolicy = std::function<FaultDecision(IoKind kind, uint64_t offset, size_t length, TimePoint now)>;

class FaultyBlockDevice final : public BlockDevice {
 public:
  explicit FaultyBlockDevice(std::shared_ptr<BlockDevice> inner);

  const Geometry& geometry() const override { return inner_->geometry(); }
  const std::string& name() const override { return inner_->name(); }
  Status submit_read(uint64_t tag, uint64_t offset, std::span<std::byte> out, TimePoint now,
                     TimePoint deadline) override;
  Status submit_write(uint64_t tag, uint64_t offset, std::span<const std::byte> data, TimePoint now,
                      TimePoint deadline) override;
  void reap(TimePoint now, std::vector<IoCompletion>& out) override;
  void wait(TimePoint) override {}
  size_t in_flight() const override;
  size_t held_by_kernel() const override { return pending_.size(); }
  size_t held_after_timeout() const override { return pending_.size() - in_flight(); }

  // Decides the fate of each new I/O. Default: everything passes at once.
  void set_policy(FaultPolicy policy) { *policy_ = std::move(policy); }
  // The policy as it is set now and later: another handle on the same path may follow it, also after this
  // device is gone (an empty function: everything passes).
  std::shared_ptr<const FaultPolicy> current_policy() const { return policy_; }
  // Shorthands that replace the policy.
  void pass_all() { set_policy(nullptr); }
  void fail_all();
  void hang_all();
  void delay_all(Duration d);
  // Lets every hung I/O reach the disk now (late writes land).
  void release_hung(TimePoint now);
  // When the earliest pending I/O will land or time out (for a simulation's scheduler).
  TimePoint next_event() const;

 private:
  struct Pending {
    uint64_t tag;
    IoKind kind;
    uint64_t offset;
    size_t length;
    std::vector<std::byte> data;  // write payload
    std::byte* out = nullptr;     // read destination; cleared once the timeout was reported
    TimePoint issued, deadline;
    TimePoint lands;              // max() while hung
    FaultDecision decision;
    bool reported = false;        // the caller has had its completion (ok, error or timeout)
  };
  static constexpr TimePoint kNever = TimePoint::max();
  Status submit(Pending p, TimePoint now);
  Status land(Pending& p, TimePoint now);

  std::shared_ptr<BlockDevice> inner_;
  std::shared_ptr<FaultPolicy> policy_ = std::make_shared<FaultPolicy>();
  std::list<Pending> pending_;
  std::vector<std::byte> scratch_;
  uint64_t inner_tag_ = 1;
};

}  // namespace castor
