// The peer-watchdog file: what this node learned of its peer that must outlive a core and a quorumd process --
// that the peer said, in a heartbeat record, that it runs without a watchdog (HeartbeatRecord::kNoWatchdog),
// and nothing has undone that since (a life of the peer seen running without the flag: PeerMonitor). While it holds,
// this node never declares the peer dead on the dead time D (PeerMonitor::no_dead_time). A new core (a rejoin)
// or a restarted quorumd that had to read the flag again would go without it whenever the peer's block no
// longer shows a valid record: a torn or damaged write of a peer whose quorumd hangs -- the one case where D
// would declare dead a node whose services still run (docs/design.md, "A node without a watchdog").
// One word and a newline, in STATE_DIR/peer-watchdog.CLUSTER-UUID.node-ID (ID: this node's), "none" or "ok".
// Must never: guess a value from a file it cannot read or parse, or report a write done before it is durable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"
#include "common/uuid.h"

namespace castor {

std::string peer_watchdog_file_path(const std::string& state_dir, const Uuid& cluster, uint32_t node_id);
// true when the file says the peer runs without a watchdog; false when it says otherwise; std::nullopt when
// there is no file (nothing known: the caller decides what to assume); an error when it cannot be read or
// holds anything else.
Result<std::optional<bool>> read_peer_watchdog_file(const std::string& path);
// Creates the state directory (0700) if it is missing, then replaces the file durably.
Status write_peer_watchdog_file(const std::string& path, bool peer_without_watchdog);

}  // namespace castor
