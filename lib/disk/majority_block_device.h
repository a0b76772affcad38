// MajorityBlockDevice: one BlockDevice over n (odd, >= 3) quorum devices, each holding a full copy of the
// data area (the node regions), on which "a write completed" means "completed on a majority" and a read
// returns, per block, the value a majority vouches for (issue 17; the rules W1-W4, R1-R4 are quoted where
// they are kept). QuorumCore, PeerMonitor and the ownership protocol see it as their one disk.
//
// Writes (W1-W4): the data is copied once and sent to every device. Per device, writes of one block are in
// the kernel one at a time and land in the order issued: a later write waits in that device's queue while an
// earlier overlapping one may still land there; queued writes of the same range coalesce to the newest data
// (the device converges to the latest value). Per-device I/Os carry no composite deadline (W3): they are
// submitted with a far deadline and tracked until the device returns them. A device holding kMaxPerDevice
// of our I/Os takes no more (W4): a write is queued for it, a read skips it; its queue is bounded
// (kMaxQueuedPerDevice ranges). The composite write completes ok at the reap in which the majority-th device
// reported ok before the composite deadline, with io_error as soon as a majority can no longer be reached
// (naming the devices), else Code::timeout at the deadline. Writes into the header area are refused: each
// device's superblock is its own (castor init / disk replace write them per device).
//
// Reads (R1-R3): sent to every answering device, into the composite's own per-device buffers (never the
// caller's: the caller's buffer is written only at an ok completion before the deadline). A read completes
// ok when every block has valid copies (ReplicaChoice::validate) from a majority of this read's answers; the
// block handed out is ReplicaChoice's choice among THIS read's valid answers (R4: the highest (life, seq),
// never lower than what this reader handed out before); an answer that comes after its composite reported
// is judged for health (R2, damage) and takes part in no choice. When every device
// answered (or failed) and a majority answered the I/O ok, blocks without a valid majority get the bytes of
// the lowest-index device that answered (the caller's decoder reports them corrupt or never written, as with
// one disk). A read that fewer than a majority can answer fails with io_error at once; at the deadline the
// same rules apply to what arrived, and a read with fewer than a majority of answers times out
// (Code::timeout, as a stalled single disk does). Blocks with no expected record (the header area: each device's superblock is its own;
// unused region blocks; partial blocks) never have a valid majority: they get the lowest-index answering
// device's bytes once every device answered or at the deadline -- read superblocks per device.
//
// Another writer on our own block (as one disk shows it): a device that took a write of ours of a block and,
// to a read submitted after that, answers with a valid copy of ANOTHER incarnation holds a write that landed
// after ours there -- another process writing with our node id (an undead earlier life, a node configured
// with our id). That copy is handed out for the block instead of the choice, so that QuorumCore's own-read
// check sees "another writer on my heartbeat block" and fences, as it would on one disk where it landed last.
// (The choice alone hands an earlier life's copy out never, so the later writer would never see it.)
//
// Replacing a device (replace_device): the old device's I/Os are ABANDONED, not drained. Draining would
// block the event loop (or the replace) for as long as the old device hangs, and a hung device is what
// one replaces. The old device is parked: its I/Os stop counting for any composite (composites still open
// count it as failed), its queued writes are dropped, nothing new is ever submitted to it, and it is reaped
// on every reap() until it holds nothing, then destroyed; its read buffers live with it. A late write of
// ours landing on the old device afterwards is harmless to this composite (it no longer reads that device)
// and to a peer still reading it (per-device order was kept: it is a lagging device). The new device
// starts with no memory in the chooser.
//
// It must never: block in submit or reap (a full device queues or skips instead of calling io_submit on a
// full queue), grow memory without bound for a stalled device, submit a later write of a block to a device
// while an earlier one may still land there, touch the caller's read buffer after the composite reported,
// count a per-device completion seen at or after the composite deadline, or free a buffer a device may
// still write (the destructor destroys the devices first; AioBlockDevice's destructor waits for the kernel).
// Not thread-safe: one event loop owns it.
#pragma once

#include <array>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "disk/block_device.h"
#include "disk/disk_layout.h"
#include "disk/replica_choice.h"

namespace castor {

struct DeviceHealth {
  std::string name;
  bool answering = true;  // takes I/O now (fewer than kMaxPerDevice of ours in it)
  size_t in_flight = 0;   // our I/Os the device holds (including ones whose composite reported)
  size_t queued = 0;      // writes waiting for an earlier write of their range, or for room (W1, W4)
  std::string last_error;
  std::optional<TimePoint> last_error_at;
  std::optional<TimePoint> last_ok_at;
  std::optional<Duration> last_ok_latency;
  Duration worst_latency_last_minute{0};  // of the I/Os it returned in the last minute
  uint64_t writes_ok = 0, writes_failed = 0, reads_ok = 0, reads_failed = 0;
  uint64_t invalid_blocks = 0;              // invalid copies it returned (R2)
  // The first failure after its last ok, per kind (a read-only device answers reads but fails every write:
  // it is failing); an invalid copy of a block a majority holds valid is a read failure (rot, zeroing).
  std::optional<TimePoint> failing_since;   // the earlier of the two below
  std::optional<TimePoint> reads_failing_since, writes_failing_since;
};

class MajorityBlockDevice final : public BlockDevice {
 public:
  static constexpr size_t kMaxPerDevice = 16;         // W4: our I/Os a device may hold
  static constexpr size_t kMaxQueuedPerDevice = 256;  // distinct queued ranges per device (2 regions: 128 blocks)

  // n = devices.size() must be odd and >= 3; every device must have the same logical sector size, and the
  // smallest must hold the whole layout. Geometry: that sector size and the smallest device's size.
  // `seal` and `cluster` judge the copies (R2).
  static Result<std::unique_ptr<MajorityBlockDevice>> create(std::vector<std::unique_ptr<BlockDevice>> devices,
                                                             const RecordSeal& seal, const Uuid& cluster,
                                                             std::string name);
  // Destroys the devices (and parked ones) first: each waits for what its kernel still holds.
  ~MajorityBlockDevice() override;
  MajorityBlockDevice(const MajorityBlockDevice&) = delete;
  MajorityBlockDevice& operator=(const MajorityBlockDevice&) = delete;

  const Geometry& geometry() const override { return geometry_; }
  const std::string& name() const override { return name_; }
  Status submit_read(uint64_t tag, uint64_t offset, std::span<std::byte> out, TimePoint now,
                     TimePoint deadline) override;
  Status submit_write(uint64_t tag, uint64_t offset, std::span<const std::byte> data, TimePoint now,
                      TimePoint deadline) override;
  void reap(TimePoint now, std::vector<IoCompletion>& out) override;
  // Every device's reap_with_clock; the composite's now is the latest of their times.
  TimePoint reap_with_clock(const Clock& clock, std::vector<IoCompletion>& out) override;
  // epoll_wait on completion_fd() until `until` or the earliest composite deadline; devices without a
  // completion fd (memory, faulty) are waited on directly (they return at once).
  void wait(TimePoint until) override;
  // An epoll fd holding every device's completion fd, or -1 if no device has one.
  int completion_fd() const override;
  // Composite I/Os submitted and not yet reported.
  size_t in_flight() const override { return open_.size(); }
  // The majority-th smallest of the per-device counts of our I/Os that may still land there (held + queued).
  size_t held_by_kernel() const override;
  // The majority-th smallest of the per-device counts of I/Os held past their composite's report: one
  // stalled device never counts, a stalled majority does (the one-disk "stalled path").
  size_t held_after_timeout() const override;
  // The plain sum over every device, parked ones included (status, destructor).
  size_t total_held() const;

  size_t device_count() const { return devices_.size(); }
  size_t majority() const { return devices_.size() / 2 + 1; }
  DeviceHealth health(size_t i) const;
  // health(i).failing_since alone, without copying the rest (names, errors): for a check at every loop pass.
  std::optional<TimePoint> failing_since(size_t i) const;
  // Some device is failing now: a failed I/O or a timeout more recent than its last ok.
  bool degraded() const;
  const ReplicaChoice& chooser() const { return choice_; }
  // Reads of device i that returned a damaged block (invalid where another device holds it valid): a node
  // that sees this rise rewrites its own region so that the device heals (QuorumDaemon).
  uint64_t damaged_reads(size_t i) const { return i < damaged_.size() ? damaged_[i] : 0; }
  // Damaged copies read of node `node_id`'s region (1 or 2), on any member.
  uint64_t damaged_region_reads(uint32_t node_id) const { return node_id == 2 ? damaged_region_[1] : damaged_region_[0]; }

  // Puts `dev` in place of device i (see the header comment: the old one is parked, not drained). Refused
  // if `dev`'s sector size differs or it is smaller than the composite's geometry.
  Status replace_device(size_t i, std::unique_ptr<BlockDevice> dev);
  // Devices replaced whose I/Os the kernel still holds.
  size_t parked() const { return parked_.size(); }

 private:
  using Buffer = std::shared_ptr<std::vector<std::byte>>;
  struct DevOp {  // one I/O in a device
    IoKind kind;
    uint64_t offset;
    size_t length;
    std::vector<uint64_t> composites;  // composite ids it serves (a coalesced write serves several)
    Buffer data;                       // write: the composite's one copy; read: our own buffer
    TimePoint issued;
    TimePoint deadline;                // the earliest composite deadline it serves (health, held_after_timeout)
    bool timeout_noted = false;        // its deadline passed while the device held it
    uint64_t submitted = 0;            // the device's completions when it was submitted (own_foreign)
  };
  struct Queued {  // a write waiting on a device (W1, W4)
    uint64_t offset;
    size_t length;
    Buffer data;
    std::vector<uint64_t> composites;
    TimePoint deadline;
    bool timeout_noted = false;
  };
  struct Latency {
    std::array<Duration, 6> worst{};  // six buckets of ten seconds
    std::array<int64_t, 6> bucket{};  // which ten-second slot each holds
  };
  struct Device {
    std::unique_ptr<BlockDevice> dev;
    std::map<uint64_t, DevOp> ops;  // by device tag
    std::deque<Queued> queue;
    DeviceHealth health;
    Latency latency;
    uint64_t completions = 0;  // I/Os the device returned: orders a write's landing before a read's submission
    int fd = -1;  // registered in epoll
  };
  enum class Answer : uint8_t { pending, ok, failed };
  struct Composite {
    uint64_t tag;
    IoKind kind;
    uint64_t offset;
    size_t length;
    TimePoint issued, deadline;
    std::span<std::byte> out;  // read
    std::vector<Answer> answers;
    std::vector<std::string> errors;               // per device
    std::vector<Buffer> bufs;                      // read: each device's answer
    std::vector<std::vector<bool>> valid;          // read: per device, per block
    struct Foreign {
      size_t device;  // who showed it (a replaced device's copy no longer counts)
      std::vector<std::byte> bytes;
    };
    std::map<uint64_t, Foreign> foreign;  // read: per block offset, another writer's copy (own_)
  };
  // A block this process writes (its own region): the incarnation it writes there now, and per device the
  // completion count at which a write of it with that incarnation landed there (0: none yet).
  struct OwnBlock {
    uint64_t incarnation = 0;
    std::vector<uint64_t> landed;
  };

  MajorityBlockDevice(std::vector<std::unique_ptr<BlockDevice>> devices, const DiskLayout& layout,
                      const RecordSeal& seal, const Uuid& cluster, std::string name, Geometry geometry,
                      UniqueFd epoll);
  bool overlaps_earlier(const Device& d, uint64_t offset, size_t length, size_t queue_index) const;
  void submit_device_write(size_t i, Queued q, TimePoint now);
  void pump(size_t i, TimePoint now);
  void collect(size_t i, const std::vector<IoCompletion>& done, TimePoint now);
  // A write of ours completed ok on device i: the blocks of our current incarnation in it landed there.
  void note_own_landed(size_t i, const DevOp& op, uint64_t completion);
  void on_device_completion(size_t i, const IoCompletion& c, TimePoint now);
  void set_answer(Composite& c, size_t i, bool ok, const std::string& error);
  // Decides composites that can be decided at `now` and reports them.
  void settle(TimePoint now, std::vector<IoCompletion>& out);
  std::optional<Status> decide(Composite& c, TimePoint now);
  void finish_read(Composite& c, TimePoint now);
  void note_ok(size_t i, IoKind kind, Duration latency, TimePoint now);
  void note_failure(size_t i, IoKind kind, const std::string& error, TimePoint now, bool count = true);
  void note_timeouts(TimePoint now);
  void finish_reap(TimePoint now, std::vector<IoCompletion>& out);
  void reap_parked(TimePoint now);
  size_t majority_th_smallest(std::vector<size_t> counts) const;

  std::vector<Device> devices_;
  struct Parked {
    Device d;
  };
  std::vector<Parked> parked_;
  DiskLayout layout_;
  ReplicaChoice choice_;
  std::map<uint64_t, OwnBlock> own_;  // by block offset
  std::vector<uint64_t> damaged_;  // per device: damaged_reads()
  std::array<uint64_t, 2> damaged_region_{};  // per node region: damaged_region_reads()
  std::string name_;
  Geometry geometry_;
  UniqueFd epoll_;
  size_t registered_fds_ = 0;
  std::map<uint64_t, Composite> open_;  // by composite id, not yet reported
  uint64_t next_id_ = 1;
  uint64_t next_dev_tag_ = 1;
  std::vector<IoCompletion> scratch_;
  TimePoint last_now_{};  // the latest `now` seen (health's "last minute")
};

}  // namespace castor
