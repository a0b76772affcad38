// TableService: svcmgr's service table as quorumd serves it over the control socket. quorumd is the single
// writer of this node's region (its epoch record and 34 table blocks, through RegionWriter and the
// ServiceTableStore) and the reader of the peer's. Verbs: table-own (this node's entries, floor, blocks
// found corrupt), table-set (changes one entry; answered once its block was written, after the epoch record
// when needed), table-peer (the peer's epoch record and every table block, in one read), each request and
// reply through its typed codec (control/table_codec.h). It also loads this node's region from the startup
// snapshot.
// Must never write without a lease (the caller says whether the node may act), never take an "up" entry
// while DOWN is being written, never block the loop, and never touch the peer's region but to read it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/aligned_buffer.h"
#include "common/clock.h"
#include "common/status.h"
#include "control/control_server.h"
#include "disk/block_device.h"
#include "disk/disk_layout.h"
#include "disk/disk_snapshot.h"
#include "disk/superblock.h"
#include "quorumd/heartbeat_io.h"
#include "quorumd/peer_region.h"
#include "quorumd/quorum_core.h"
#include "quorumd/region_writer.h"
#include "quorumd/service_table_store.h"

namespace castor {

class TableService {
 public:
  struct Options {
    Duration scrub_interval{std::chrono::seconds(60)};
    bool bug_read_block0 = false;  // CASTOR_TEST_BUG=read_block0: table-peer decodes only table block 0
  };

  // Loads this node's region from `snap` (see load_own_region) and allocates the peer-region buffer.
  // Every block is sealed and checked with `seal` (an hmac seal on an authenticated disk).
  static Result<std::unique_ptr<TableService>> create(const DiskLayout& layout, const Superblock& sb, uint32_t node_id,
                                                      const RecordSeal& seal, const DiskSnapshot& snap,
                                                      Options options, TimePoint now,
                                                      ControlServer& server, BlockDevice& device, HeartbeatIo& io);

  bool is_table_verb(const std::string& verb) const {
    return verb == "table-own" || verb == "table-set" || verb == "table-peer";
  }
  // Answers (now or once the I/O completed) one table verb. `generation` tags the peer read.
  void request(ControlServer::ConnId conn, const ControlRequest& req, const QuorumCore& core, uint64_t generation,
               TimePoint now);
  // Submits what the region writer may write now and answers the table-sets whose block was written.
  void pump(const QuorumCore& core, TimePoint now);
  // A completion of one of the region writer's writes (false: not one of them).
  bool on_region_completion(const IoCompletion& c, const QuorumCore& core, TimePoint now);
  // The completion of the peer-region read of table-peer.
  void peer_read_done(const HeartbeatIo::Pending& p, const IoCompletion& c, const QuorumCore& core);
  TimePoint next_wakeup(TimePoint now) const { return writer_->next_wakeup(now); }

  const ServiceTableStore& store() const { return *table_; }
  const RegionWriter& writer() const { return *writer_; }
  // Rewrites every block of this node's region at the next pump (a new member of the device set).
  void rewrite_region_now() { writer_->scrub_now(); }

 private:
  TableService(const DiskLayout& layout, const Superblock& sb, uint32_t node_id, const RecordSeal& seal, Options options,
               ControlServer& server, BlockDevice& device, HeartbeatIo& io)
      : layout_(layout), superblock_(sb), node_id_(node_id), seal_(seal), options_(options), server_(server), device_(device),
        io_(io) {}
  void load_own_region(const DiskSnapshot& snap);
  void table_set(ControlServer::ConnId conn, const std::string& args, const QuorumCore& core, TimePoint now);
  void deliver(std::vector<RegionWriter::Reply>& replies);

  DiskLayout layout_;
  Superblock superblock_;
  uint32_t node_id_;
  RecordSeal seal_;
  Options options_;
  ControlServer& server_;
  BlockDevice& device_;
  HeartbeatIo& io_;
  std::unique_ptr<ServiceTableStore> table_;
  std::unique_ptr<RegionWriter> writer_;
  std::vector<ControlServer::ConnId> peer_table_waiters_;
  bool peer_table_reading_ = false;
  AlignedBuffer peer_table_buffer_;  // the peer's epoch record and its 34 table blocks
  PeerReadHistory peer_seen_;        // the newest record read of each of the peer's blocks: replays refused
};

}  // namespace castor
