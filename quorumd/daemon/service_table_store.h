// ServiceTableStore: quorumd's copy of this node's service table (the 34 blocks of its region), as svcmgr
// last set it. svcmgr changes entries through the control socket (table-set); the store says which
// blocks must be written and encodes them. It keeps the rule the ownership protocol relies on: at most one
// write per block in the kernel at a time, so an older write can never land over a newer one — and after a
// write timed out (it may still land), no further write of that block until the device is quiescent.
// Pure: no I/O; quorumd's loop submits and completes the writes.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/uuid.h"
#include "quorumd/disk_layout.h"
#include "quorumd/service_table_record.h"

namespace castor {

class ServiceTableStore {
 public:
  ServiceTableStore(const DiskLayout& layout, const Uuid& cluster, uint32_t node_id);

  // Loads what is on disk (from a snapshot at start); invalid or empty blocks start empty.
  void load(uint32_t block, const ServiceTableRecord& rec);
  // Sets (or adds) the entry named e.name; returns the block it lives in. Fails when the table is full or
  // the entry does not encode.
  Result<uint32_t> set(const ServiceEntry& e);
  std::vector<ServiceEntry> entries() const;

  // The next block to write (dirty, not in the kernel), if any.
  std::optional<uint32_t> next_dirty() const;
  // Encodes block `b` for writing by incarnation `inc`; marks it in flight and clean.
  Status encode(uint32_t b, uint64_t incarnation, int64_t wall_ns, std::span<std::byte> out);
  // The write of block b finished (ok or not). A timed-out write keeps the block blocked until
  // device_quiescent() is called; a failed one makes it dirty again.
  void write_done(uint32_t b, bool ok, bool timed_out);
  void device_quiescent();
  // Forgets that block b must be written (the node may not write now; svcmgr asks again later).
  void discard(uint32_t b) { blocks_[b].dirty = false; }
  bool blocked() const { return blocked_; }
  bool in_flight(uint32_t b) const { return blocks_[b].in_flight; }

 private:
  struct Block {
    ServiceTableRecord rec;
    bool dirty = false;
    bool in_flight = false;
  };
  DiskLayout layout_;
  std::vector<Block> blocks_;
  std::map<std::string, std::pair<uint32_t, uint32_t>> slots_;  // name -> (block, index)
  uint64_t seq_ = 0;
  bool blocked_ = false;  // a write timed out: wait until nothing of ours is in the kernel
};

}  // namespace castor
