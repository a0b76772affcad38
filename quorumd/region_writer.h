// RegionWriter: the I/O side of ServiceTableStore — writes this node's epoch record and service-table
// blocks to the quorum disk from quorumd's event loop, never blocking. It submits what the store offers
// (the epoch floor before any table block that needs it; svcmgr's changes before rewrites), answers
// svcmgr's table-set requests once their block's write completed, and marks every block for a rewrite
// each scrub interval. It writes only while the caller says the node may act (holds a lease): without
// one, svcmgr's pending changes are answered with an error and the store's own rewrites wait.
// It never has two writes of one block in the kernel, never writes again after a timed-out write until
// the device holds none of our I/O (both kept by the store), never retries a failed write in a tight loop,
// and never touches another node's region.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "common/aligned_buffer.h"
#include "common/clock.h"
#include "common/status.h"
#include "disk/block_device.h"
#include "quorumd/service_table_store.h"
#include "disk/disk_layout.h"

namespace castor {

class RegionWriter {
 public:
  using Waiter = uint64_t;  // the caller's handle of whoever waits for a table-set (a connection)
  struct Reply {
    Waiter waiter;
    Status status;         // ok: the block holding the change was written ok
    TimePoint completed;   // when the write was seen complete
  };
  struct Options {
    Duration io_timeout{Millis(2000)};
    Duration scrub_interval{std::chrono::seconds(60)};
    Duration retry_delay{Millis(100)};  // after a failed write, no write before this has passed
    size_t max_in_flight = 8;           // region writes in the kernel at once
  };

  RegionWriter(ServiceTableStore& store, const DiskLayout& layout, uint32_t node_id, Options options, TimePoint now);

  // svcmgr's table-set: changes the entry in the store; `w` is answered once the block's write completed
  // (or failed). Returns the table block of the entry.
  Result<uint32_t> set(const ServiceEntry& e, Waiter w);
  // Submits what may be written now. `may_act`: the node holds a lease (nothing is written otherwise).
  void pump(BlockDevice& dev, TimePoint now, bool may_act, uint64_t incarnation, uint64_t& next_tag,
            std::vector<Reply>& out);
  // Takes a completion if it is one of our writes (returns false otherwise). Call pump() after.
  bool on_completion(const IoCompletion& c, TimePoint now, std::vector<Reply>& out);
  // When pump() next has something to do on its own (a scrub, a retry, a write's deadline).
  TimePoint next_wakeup(TimePoint now) const;

  // Every own block rewritten at the next pump(), as at a scrub (a new member of the set of quorum devices
  // must hold this node's region soon, not a scrub interval later).
  void scrub_now() { scrub_due_ = true; }
  size_t in_flight() const { return pending_.size(); }
  uint64_t blocks_written() const { return blocks_written_; }
  // Writes (epoch record or table block) that ended, ok or not: what the node's table generation counts
  // (HeartbeatRecord::table_generation).
  uint64_t writes_ended() const { return writes_ended_; }
  uint64_t scrubs() const { return scrubs_; }
  std::optional<TimePoint> last_scrub() const { return last_scrub_; }

 private:
  struct Pending {
    uint64_t tag;
    uint32_t block;  // table block, or ServiceTableStore::kEpochRecord
    TimePoint deadline;
  };
  uint64_t offset_of(uint32_t block) const;
  void fail_waiters(std::vector<Waiter>& ws, const Status& st, TimePoint now, std::vector<Reply>& out);

  ServiceTableStore& store_;
  DiskLayout layout_;
  uint32_t node_id_;
  Options options_;
  AlignedBuffer buffer_;  // one encoded block (the device copies it at submit)
  std::vector<Pending> pending_;
  std::map<uint32_t, std::vector<Waiter>> waiters_;       // the write in flight, per block
  std::map<uint32_t, std::vector<Waiter>> next_waiters_;  // changes not yet submitted
  TimePoint next_scrub_;
  bool scrub_due_ = false;
  std::optional<TimePoint> last_scrub_;
  TimePoint retry_after_{};
  uint64_t blocks_written_ = 0;
  uint64_t writes_ended_ = 0;
  uint64_t scrubs_ = 0;
};

}  // namespace castor
