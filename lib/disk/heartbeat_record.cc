#include "disk/heartbeat_record.h"

#include <algorithm>

namespace castor {

const char* node_state_name(NodeState s) {
  switch (s) {
    case NodeState::up: return "UP";
    case NodeState::leaving: return "LEAVING";
    case NodeState::down: return "DOWN";
  }
  return "?";
}

const char* peer_view_name(PeerView v) {
  switch (v) {
    case PeerView::unknown: return "UNKNOWN";
    case PeerView::up: return "UP";
    case PeerView::dead: return "DEAD";
    case PeerView::down: return "DOWN";
  }
  return "?";
}

void encode_heartbeat(const HeartbeatRecord& hb, const DiskLayout& layout, const RecordSeal& seal,
                      std::span<std::byte> block) {
  RecordHeader h;
  h.type = RecordType::heartbeat;
  h.block_size = layout.block_size();
  h.cluster_uuid = hb.cluster_uuid;
  h.writer_node = hb.node_id;
  h.incarnation = hb.incarnation;
  h.seq = hb.seq;
  h.wall_time_ns = hb.wall_time_ns;
  encode_header(h, block);
  ByteWriter w(block);
  w.seek(kRecordHeaderSize);
  w.u8(uint8_t(hb.state));
  w.u8(uint8_t(hb.peer_view));
  w.u16(hb.flags);
  w.u32(hb.last_io_latency_us);
  w.u32(hb.max_io_latency_us);
  w.u16(hb.set_generation);
  w.u8(hb.set_retiring ? 1 : 0);
  w.u8(hb.set_slot);
  w.u64(hb.services_digest);
  w.u64(hb.peer_incarnation);
  w.u64(hb.peer_seq);
  w.u8(uint8_t(hb.peer_request));
  w.u8(hb.features);
  w.seek(112);
  w.u64(hb.peer_request_serial);
  w.u64(hb.handled_request_incarnation);
  w.u64(hb.handled_request_serial);
  w.u64(hb.started_mark);
  w.u8(hb.not_started.count);
  w.seek(152);
  for (uint64_t e : hb.not_started) w.u64(e);
  w.seek(408);
  w.u64(hb.table_generation);
  seal_block(block, seal);
}

const char* peer_request_name(PeerRequest r) {
  switch (r) {
    case PeerRequest::none: return "none";
    case PeerRequest::standby: return "standby";
    case PeerRequest::unstandby: return "unstandby";
  }
  return "?";
}

Result<HeartbeatRecord> decode_heartbeat(std::span<const std::byte> block, const DiskLayout& layout, uint32_t node_id,
                                         const RecordSeal& seal) {
  ASSIGN_OR_RETURN(RecordHeader h, verify_block(block, {RecordType::heartbeat, layout.block_size(), node_id}, seal));
  auto bad = [&](const std::string& why) {
    return Error(Code::corrupt, "heartbeat of node " + std::to_string(node_id) + ": " + why);
  };
  HeartbeatRecord hb;
  hb.cluster_uuid = h.cluster_uuid;
  hb.node_id = h.writer_node;
  hb.incarnation = h.incarnation;
  hb.seq = h.seq;
  hb.wall_time_ns = h.wall_time_ns;
  if (h.block_index != 0) return bad("block index must be 0");
  if (hb.incarnation == 0) return bad("incarnation 0");
  ByteReader r(block);
  r.seek(kRecordHeaderSize);
  uint8_t state = r.u8();
  uint8_t view = r.u8();
  hb.flags = r.u16();
  hb.last_io_latency_us = r.u32();
  hb.max_io_latency_us = r.u32();
  hb.set_generation = r.u16();
  const uint8_t set_phase = r.u8();
  hb.set_slot = r.u8();
  hb.services_digest = r.u64();
  hb.peer_incarnation = r.u64();
  hb.peer_seq = r.u64();
  const uint8_t request = r.u8();
  hb.features = r.u8();
  r.seek(112);
  hb.peer_request_serial = r.u64();
  hb.handled_request_incarnation = r.u64();
  hb.handled_request_serial = r.u64();
  hb.started_mark = r.u64();
  const uint8_t not_started = r.u8();
  r.seek(152);
  // Display only, never a record refused (it proves its writer alive): a count past the bound makes the mark
  // unusable, 0, so that every claim reads as starting rather than any as started.
  if (not_started <= HeartbeatRecord::kMaxNotStarted)
    for (uint8_t i = 0; i < not_started; ++i) hb.not_started.push_back(r.u64());
  else
    hb.started_mark = 0;
  r.seek(408);
  hb.table_generation = r.u64();
  if (!r.ok()) return bad("truncated");
  // A kind a later version added reads as none (never refused: the record still proves the writer alive).
  hb.peer_request = request <= uint8_t(PeerRequest::unstandby) && hb.peer_request_serial != 0 ? PeerRequest(request)
                                                                                             : PeerRequest::none;
  if (hb.peer_request == PeerRequest::none) hb.peer_request_serial = 0;
  if (state < 1 || state > 3) return bad("state " + std::to_string(state));
  if (view > 3) return bad("peer view " + std::to_string(view));
  if ((hb.flags & ~HeartbeatRecord::kKnownFlags) != 0) return bad("unknown flags");
  if (set_phase > 1) return bad("device set phase " + std::to_string(set_phase));
  if (hb.set_slot > 2) return bad("device set slot " + std::to_string(hb.set_slot));
  hb.set_retiring = set_phase == 1;
  hb.state = NodeState(state);
  hb.peer_view = PeerView(view);
  return hb;
}

}  // namespace castor
