// PeerFingerprint: one number for what quorumd's table-peer reply says of the peer that can change while
// the peer stays UP — its table (HeartbeatRecord::table_generation), standby, requests, started mark,
// definitions' digest, state and life. quorumd tells svcmgr when it changes (event peer_updated), and svcmgr
// then reads the peer's table; when it does not, svcmgr skips the read (docs/design.md "Reading the peer's
// table only when it changed"). A peer that does not publish its table generation (an older Castor) changes
// the number at every heartbeat, so it is read every renew interval, as before.
// Pure. A hint only: it must never be a reason to act on the peer's entries, only to read them again.
#pragma once

#include <cstdint>
#include <optional>

#include "common/peer_view.h"
#include "disk/heartbeat_record.h"

namespace castor {

uint64_t peer_fingerprint(PeerView view, uint64_t incarnation, const std::optional<HeartbeatRecord>& record);

}  // namespace castor
