#include "tests/support/test_superblock.h"

#include <doctest/doctest.h>

#include "common/aligned_buffer.h"
#include "common/uuid.h"

namespace castor::testing {

Superblock two_node_superblock(const std::string& cluster_name, const Timing& timing) {
  const DiskLayout layout = *DiskLayout::for_sector_size(512);
  Superblock sb;
  sb.cluster_uuid = *random_uuid();
  sb.cluster_name = cluster_name;
  sb.sector_size = 512;
  sb.nodes = {NodeEntry{1, "alpha"}, NodeEntry{2, "beta"}};
  sb.timing = timing;
  sb.service_slots = layout.service_slots();
  sb.created_wall_ns = wall_time_ns();
  return sb;
}

void overwrite_superblocks(BlockDevice& dev, const Clock& clock, const Superblock& sb, const RecordSeal& seal,
                           Millis io_timeout) {
  const DiskLayout layout = *DiskLayout::for_sector_size(512);
  AlignedBuffer block(layout.block_size(), layout.block_size());
  REQUIRE(encode_superblock(sb, layout, seal, block.span()).ok());
  for (uint64_t off : {layout.superblock_offset(), layout.superblock_backup_offset()})
    REQUIRE(write_blocking(dev, clock, off, block.span(), io_timeout).ok());
}

}  // namespace castor::testing
