#include "quorumd/peer_region.h"

#include <algorithm>

#include "common/crc32c.h"
#include "disk/epoch_record.h"

namespace castor {

uint64_t PeerRegion::max_epoch() const {
  uint64_t m = floor.value_or(0);
  for (const auto& e : entries) m = std::max(m, e.epoch);
  return m;
}

std::optional<std::string> check_replay(PeerBlockSeen& seen, uint64_t incarnation, uint64_t seq,
                                        bool& first_refusal) {
  first_refusal = false;
  std::optional<std::string> why;
  if (seen.known && incarnation == seen.incarnation && seq < seen.seq)
    why = "replayed: record seq " + std::to_string(seq) + " of incarnation " + std::to_string(incarnation) +
          " is older than seq " + std::to_string(seen.seq) + " already read";
  else if (seen.known && incarnation == 0 && seen.incarnation != 0)
    why = "replayed: castor init's record (incarnation 0) after seq " + std::to_string(seen.seq) +
          " of incarnation " + std::to_string(seen.incarnation) + " was read";
  if (why) {
    first_refusal = !seen.refused || seen.refused_incarnation != incarnation || seen.refused_seq != seq;
    seen.refused = true;
    seen.refused_incarnation = incarnation;
    seen.refused_seq = seq;
    return why;
  }
  seen.known = true;
  seen.incarnation = incarnation;
  seen.seq = seq;
  seen.refused = false;
  return std::nullopt;
}

PeerRegion decode_peer_region(std::span<const std::byte> blocks, const DiskLayout& layout, uint32_t peer_id,
                              const Uuid& cluster, const RecordSeal& seal, uint32_t table_blocks,
                              PeerReadHistory* history) {
  PeerRegion out;
  const size_t bs = layout.block_size();
  auto block = [&](uint32_t i) { return blocks.subspan(size_t(i) * bs, bs); };
  auto foreign = [&](const Uuid& u) {
    return "written for another cluster (UUID " + u.to_string() + "), not " + cluster.to_string();
  };
  if (blocks.size() < size_t(kPeerRegionReadBlocks) * bs) {
    out.floor_error = "short read of the peer's region";
    for (uint32_t b = 0; b < kServiceTableBlocks; ++b) out.corrupt.push_back({b, "not read"});
    return out;
  }
  bool first = false;
  auto floor = decode_epoch_record(block(0), layout, peer_id, seal);
  if (!floor.ok()) out.floor_error = floor.status().to_string();
  else if (!(floor->cluster_uuid == cluster)) out.floor_error = "epoch record " + foreign(floor->cluster_uuid);
  else if (auto why = history ? check_replay(history->epoch, floor->incarnation, floor->seq, first) : std::nullopt) {
    out.floor_error = "epoch record " + *why;
    if (first) out.new_replays.push_back(out.floor_error);
  } else
    out.floor = floor->epoch_floor;
  for (uint32_t b = 0; b < std::min(table_blocks, kServiceTableBlocks); ++b) {
    auto rec = decode_service_table(block(1 + b), layout, peer_id, b, seal);
    if (!rec.ok()) {
      out.corrupt.push_back({b, rec.status().to_string(), crc32c(block(1 + b))});
      continue;
    }
    if (!(rec->cluster_uuid == cluster)) {
      out.corrupt.push_back({b, "service table block " + foreign(rec->cluster_uuid), crc32c(block(1 + b))});
      continue;
    }
    if (history) {
      if (auto why = check_replay(history->table[b], rec->incarnation, rec->seq, first)) {
        out.corrupt.push_back({b, *why, crc32c(block(1 + b))});
        if (first) out.new_replays.push_back("table block " + std::to_string(b) + " " + *why);
        continue;
      }
    }
    for (const auto& e : rec->entries)
      if (e.in_use) {
        out.entries.push_back(e);
        out.entry_blocks.push_back(b);
        out.entry_incarnations.push_back(rec->incarnation);
      }
  }
  return out;
}

}  // namespace castor
