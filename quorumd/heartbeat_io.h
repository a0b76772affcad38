// HeartbeatIo: the ledger of quorumd's own asynchronous disk I/O — which I/Os are in flight (what for, the
// core generation that issued them, when issued, their deadline), the heartbeat write buffer, the pool of
// heartbeat read buffers, the I/O tags (shared with the region writer), and the back-off of a heartbeat
// read kind whose last read failed (never a tight loop against a failing disk).
// It submits and matches completions to what was submitted; what a completion means (the core's verdict,
// a table reply) is the daemon's business. Must never block, never decide anything about the lease, and
// never hand out a read buffer whose I/O is still pending.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/aligned_buffer.h"
#include "common/clock.h"
#include "common/status.h"
#include "disk/block_device.h"
#include "disk/disk_layout.h"
#include "disk/record_seal.h"
#include "disk/heartbeat_record.h"

namespace castor {

class HeartbeatIo {
 public:
  enum class Purpose { write, read_own, read_peer, table_read, superblock_read };
  struct Pending {
    uint64_t tag = 0;
    Purpose purpose = Purpose::write;
    uint64_t generation = 0;     // the core it belongs to; completions of a replaced core are dropped
    uint64_t heartbeat_seq = 0;  // writes: the seq of the heartbeat record written
    int buffer = -1;             // heartbeat reads: index into the read buffer pool
    TimePoint issued;
    TimePoint deadline;
  };

  // Allocates the write buffer and `read_buffers` read buffers of one block each; heartbeats are sealed
  // with `seal` (an hmac seal on an authenticated disk).
  Status init(const DiskLayout& layout, size_t read_buffers, const RecordSeal& seal);

  // The next tag for any I/O of the daemon's device (the region writer takes it by reference too).
  uint64_t& next_tag() { return next_tag_; }

  // Encodes `record` and submits its write at `offset`.
  Status submit_write(BlockDevice& dev, const HeartbeatRecord& record, uint64_t offset, uint64_t generation,
                      TimePoint now, TimePoint deadline);
  // Submits a heartbeat read (read_own/read_peer) into a pooled buffer; Code::busy if none is free.
  Status submit_heartbeat_read(BlockDevice& dev, Purpose purpose, uint64_t offset, uint64_t generation, TimePoint now,
                               TimePoint deadline);
  // Submits another read (table_read, superblock_read) into the caller's buffer.
  Status submit_read_into(BlockDevice& dev, Purpose purpose, uint64_t offset, std::span<std::byte> buffer,
                          uint64_t generation, TimePoint now, TimePoint deadline);

  // Removes and returns the I/O of `tag`; nullopt if it is not ours. Its buffer stays taken until release().
  std::optional<Pending> take(uint64_t tag);
  std::span<const std::byte> read_block(int buffer) const { return read_buffers_[size_t(buffer)].span(); }
  void release(int buffer);

  // Whether an I/O of core `generation` has not been reported yet.
  bool has_generation(uint64_t generation) const;
  // The earliest of `t`, every pending deadline and every deferred read.
  TimePoint earliest_deadline(TimePoint t) const;

  // Back-off of a heartbeat read kind. A read asked for before `retry_after` is deferred until then.
  void back_off(Purpose read, TimePoint retry_after);
  // True (and the read is remembered as deferred) if a read of this kind must wait; false clears it.
  bool defer(Purpose read, TimePoint now);
  // Whether a deferred read of this kind is due at `now` (the caller then submits it).
  bool due(Purpose read, TimePoint now) const;
  // A new core starts without back-off.
  void reset_backoff();

 private:
  static size_t read_index(Purpose p) { return p == Purpose::read_own ? 0 : 1; }

  AlignedBuffer write_buffer_;
  std::vector<AlignedBuffer> read_buffers_;
  std::vector<int> free_read_buffers_;
  std::vector<Pending> pending_;
  uint64_t next_tag_ = 1;
  uint32_t block_size_ = 0;
  DiskLayout layout_;
  RecordSeal seal_ = RecordSeal::crc_only();  // set by init()
  // Index 0: own block, 1: peer's block.
  std::array<std::optional<TimePoint>, 2> deferred_read_;
  std::array<TimePoint, 2> read_retry_after_{};
};

}  // namespace castor
