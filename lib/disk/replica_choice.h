// ReplicaChoice: the pure per-block chooser of the majority device (issue 17; docs/design.md, "Three quorum
// devices"; tests/model/majority.pml). It judges one device's copy of one region block (R2: valid or not),
// and, for a composite read that a majority of the devices answered with valid copies, hands out the copy
// with the highest version (life, seq) among THIS read's valid answers -- or the copy this reader handed out
// before for that block, if that one is higher: the output of one reader process never goes back.
//
// Why that is enough (the majority register, ABD's read without write-back, made monotonic by the memory):
// a write completed before a read was issued is on a majority of the devices, every majority of answers
// holds a device of it, and that device holds the write or a later one of its writer (a device lands one
// writer's writes of a block in order, and a new life writes only once no device holds a write of the old
// one). Lives are ordered (lib/disk/life_number.h), so nothing of an earlier life, late or undead, can beat
// a later life's write; within a life the higher seq is the later write.
//
// It must never: do I/O, read a clock, choose from answers fewer than the caller's majority (the caller,
// MajorityBlockDevice, counts them), hand out a copy that did not validate, hand out a lower version than it
// handed out before for the same block, or choose differently for the same inputs (deterministic).
// Only region blocks are judged: the header area (superblocks differ per device) has no expected record here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "common/status.h"
#include "common/uuid.h"
#include "disk/disk_layout.h"
#include "disk/record_header.h"
#include "disk/record_seal.h"

namespace castor {

// The record a region block must hold: its type, its writer and the block index its header carries.
struct ExpectedSlot {
  RecordType type;
  uint32_t writer_node;
  uint32_t block_index;  // the header's block_index: 0 for heartbeat and epoch, k for service-table block k
};

// region_offset(n) + k blocks: k = 0 heartbeat of writer n, k = 1 epoch of writer n, k = 2..35 service-table
// block k-2 of writer n. Anything else (header area, unused region blocks, past the regions, unaligned):
// nullopt.
std::optional<ExpectedSlot> expected_slot_at(const DiskLayout& layout, uint64_t offset);

class ReplicaChoice {
 public:
  ReplicaChoice(const DiskLayout& layout, const RecordSeal& seal, const Uuid& cluster, size_t devices);

  size_t devices() const { return devices_; }
  const DiskLayout& layout() const { return layout_; }

  // R2: the copy is valid when verify_block() passes for the record expected at `offset` (type, block size,
  // writer, seal), the header's block index is the expected one (a record copied to another block is not
  // that block's value) and its cluster uuid is the cluster's. Returns the header, or why it is invalid.
  Result<RecordHeader> validate(uint64_t offset, std::span<const std::byte> block) const;

  // Device `dev` answered with `block` at `offset` (in a read still open or not): whether the copy is valid.
  // An invalid one is counted (invalid_seen); a valid one becomes the device's remembered copy (for health:
  // "another device holds it valid", and status). Remembered copies never take part in a choice.
  bool observe(size_t dev, uint64_t offset, std::span<const std::byte> block);

  struct Answer {
    size_t device;
    std::span<const std::byte> bytes;
  };
  struct Choice {
    size_t device;                     // whose copy (of this read, or of the read that handed it out first)
    RecordHeader header;
    std::span<const std::byte> bytes;  // valid until the next non-const call
  };
  // The copy to hand out for the block at `offset`, given the answers of one composite read (the caller has
  // checked that a majority of them is valid; invalid ones are skipped here): the highest (life, seq) among
  // them, or the copy handed out before if higher. Equal versions of different incarnations (one life number
  // taken twice: outside the guarantee, a node that lost its life file) go to the copy handed out before, then
  // to the incarnation more answers hold, then to the lowest device. nullopt when no answer is valid and
  // nothing was handed out before. Records the copy handed out.
  std::optional<Choice> choose(uint64_t offset, std::span<const Answer> answers);

  // A device was replaced: its remembered copies are dropped (the new one starts with none). What was
  // handed out stays: it is the block's, not the device's.
  void forget_device(size_t dev);

  // For status and tests.
  std::optional<RecordHeader> remembered(size_t dev, uint64_t offset) const;
  std::optional<RecordHeader> handed_out(uint64_t offset) const;
  uint64_t invalid_seen(size_t dev) const { return invalid_[dev]; }

 private:
  struct Copy {
    RecordHeader header;
    std::vector<std::byte> bytes;
    size_t device = 0;
  };
  struct BlockMemory {
    std::vector<std::optional<RecordHeader>> remembered;  // per device: the latest valid copy it returned
    std::optional<Copy> handed_out;
  };
  BlockMemory& block(uint64_t offset);

  DiskLayout layout_;
  RecordSeal seal_;
  Uuid cluster_;
  size_t devices_;
  std::map<uint64_t, BlockMemory> blocks_;  // by offset
  std::vector<uint64_t> invalid_;           // per device: invalid copies seen
};

}  // namespace castor
