// ServiceTableStore: quorumd's copy of this node's own region blocks after the heartbeat: the epoch
// record (block 1) and the service table (blocks 2..35), as svcmgr last set them. svcmgr changes entries
// through the control socket (table-set); the store says which block must be written next and encodes it.
// It keeps the rules the ownership protocol relies on:
//  - at most one write per block in the kernel at a time, so an older write can never land over a newer
//    one — and after any write timed out (it may still land), no further write until the device is
//    quiescent;
//  - the epoch floor first: a table block holding an entry with epoch e is offered for writing only once
//    an epoch record with floor >= e has been written and completed ok (durable_floor() >= e);
//  - blocks found corrupt at start, and every block at each scrub(), are rewritten from memory.
// Pure: no I/O; quorumd's loop (RegionWriter) submits and completes the writes.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/uuid.h"
#include "disk/disk_layout.h"
#include "disk/record_seal.h"
#include "disk/service_table_record.h"

namespace castor {

class ServiceTableStore {
 public:
  // The pseudo block index of the epoch record in next_dirty()/encode()/write_done()/in_flight();
  // 0..kServiceTableBlocks-1 are the table blocks.
  static constexpr uint32_t kEpochRecord = kServiceTableBlocks;

  // Every block is encoded with `seal` (an hmac seal on an authenticated disk).
  ServiceTableStore(const DiskLayout& layout, const Uuid& cluster, uint32_t node_id, const RecordSeal& seal);

  // Loads what is on disk (from a snapshot at start); invalid or empty blocks start empty.
  void load(uint32_t block, const ServiceTableRecord& rec);
  // Table block `block` did not decode at start (`reason`): it starts empty and is rewritten as soon as
  // the node may write; reported by corrupt() until a rewrite completed ok.
  void mark_corrupt(uint32_t block, const std::string& reason);
  // The epoch record decoded at start: its floor is durable.
  void load_floor(uint64_t floor);
  // The epoch record did not decode at start (`reason`): `rebuilt` (the highest epoch known from valid
  // entries of both nodes and the peer's floor) is written as soon as the node may write. Until then
  // nothing is durable (durable_floor() stays as it was, normally 0).
  void rebuild_floor(uint64_t rebuilt, const std::string& reason);
  // The floor must reach at least `e` (an epoch seen elsewhere, e.g. in the peer's table); written before
  // any table write that needs it.
  void raise_floor(uint64_t e);

  // Sets (or adds) the entry named e.name; returns the block it lives in. Fails when the table is full or
  // the entry does not encode. Raises the wanted floor to e.epoch.
  Result<uint32_t> set(const ServiceEntry& e);
  std::vector<ServiceEntry> entries() const;
  // Names of entries that are claiming, owned or releasing (a service possibly up on this node).
  std::vector<std::string> up_entries() const;
  // Every block (the epoch record and the 34 table blocks) must be rewritten from memory.
  void scrub();

  // The next block to write (dirty, not in the kernel, allowed by the floor), if any; kEpochRecord first.
  std::optional<uint32_t> next_dirty() const;
  // Encodes block `b` (or the epoch record) for writing by incarnation `inc`; marks it in flight and clean.
  Status encode(uint32_t b, uint64_t incarnation, int64_t wall_ns, std::span<std::byte> out);
  // The write of block b finished (ok or not). A timed-out write keeps every block blocked until
  // device_quiescent() is called; a failed one makes the block dirty again.
  void write_done(uint32_t b, bool ok, bool timed_out);
  void device_quiescent();
  // Forgets that svcmgr's change of block b must be written now (the node may not write; svcmgr asks
  // again later). A rewrite the store itself wants (corrupt at start, scrub) stays pending.
  void discard(uint32_t b);
  bool blocked() const { return blocked_; }
  bool in_flight(uint32_t b) const { return b == kEpochRecord ? epoch_.in_flight : blocks_[b].in_flight; }
  size_t writes_in_flight() const;
  // Whether block b holds svcmgr's change that is not yet submitted.
  bool changed(uint32_t b) const { return b < blocks_.size() && blocks_[b].changed; }
  // Block b (a table block) waits for the epoch floor to become durable before it may be written.
  bool waits_for_floor(uint32_t b) const;

  // The floor of the last epoch record written ok (or loaded): every epoch in a table block written
  // since is <= it.
  uint64_t durable_floor() const { return durable_floor_; }
  uint64_t wanted_floor() const { return wanted_floor_; }
  // Table blocks found corrupt at start and not yet rewritten, with why.
  const std::map<uint32_t, std::string>& corrupt() const { return corrupt_; }
  // Why the epoch record was rebuilt, until the rebuilt record is written.
  const std::optional<std::string>& floor_error() const { return floor_error_; }

 private:
  struct Block {
    ServiceTableRecord rec;
    bool changed = false;  // svcmgr changed it: to be written
    bool rewrite = false;  // the store wants it rewritten (corrupt at start, scrub)
    bool in_flight = false;
    uint64_t epoch_in_flight = 0;  // the highest epoch of the write in flight
    bool dirty() const { return changed || rewrite; }
  };
  struct EpochSlot {
    bool rewrite = false;
    bool in_flight = false;
    uint64_t floor_in_flight = 0;
  };
  uint64_t max_epoch(uint32_t b) const;

  DiskLayout layout_;
  RecordSeal seal_;
  Uuid cluster_;
  uint32_t node_id_;
  std::vector<Block> blocks_;
  EpochSlot epoch_;
  std::map<std::string, std::pair<uint32_t, uint32_t>> slots_;  // name -> (block, index)
  std::map<uint32_t, std::string> corrupt_;
  std::optional<std::string> floor_error_;
  uint64_t seq_ = 0;
  uint64_t durable_floor_ = 0;
  uint64_t wanted_floor_ = 0;
  bool blocked_ = false;  // a write timed out: wait until nothing of ours is in the kernel
};

}  // namespace castor
