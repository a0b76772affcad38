// LanChannel: quorumd's LAN heartbeat — one or two UDP links to the peer beside the quorum disk (castor.ini
// [lan]; docs/lan-protocol.md has the datagram). Right after each heartbeat write that completed ok, and every
// interval (default the renew interval) without one, it sends, on each
// link, an authenticated datagram with this node's incarnation, sequence, disk health, disk verdict of the peer,
// the echo of the peer's last datagram (RTT), and — during a storage stall — a request for a promise or a grant
// of one; it takes every datagram that arrived, drops (and counts) forged, replayed, truncated, oversized and
// wrong-key ones (lib/lan), and hands requests and grants to the core (QuorumCore::grant_promise / on_promise,
// quorumd/stall_promise.h), which decides. A grant is sent at once, on the link the request came on.
// It never decides ownership, never declares the peer dead or alive on the disk's behalf, and never blocks: a
// send error is counted and logged (rate-limited), never fatal.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/auth_key.h"
#include "common/clock.h"
#include "common/status.h"
#include "common/uuid.h"
#include "config/lan_config.h"
#include "lan/lan_datagram.h"
#include "lan/lan_link_view.h"
#include "quorumd/lan_socket.h"
#include "quorumd/quorum_core.h"
#include "quorumd/reply_json.h"

namespace castor {

class LanChannel {
 public:
  // Opens one socket per link with `open_socket` (the env's), derives the LAN key from the cluster key.
  // `interval` must be > 0 and at most T (checked by the caller against the disk's timing).
  using SocketOpener = std::function<Result<std::unique_ptr<LanSocket>>(const LanLinkConfig&, uint16_t)>;
  static Result<std::unique_ptr<LanChannel>> open(const LanConfig& config, const AuthKey& cluster_key,
                                                  const SocketOpener& open_socket, const Uuid& cluster,
                                                  uint32_t node_id, const Timing& timing, Duration interval);

  size_t link_count() const { return links_.size(); }
  int fd(size_t link) const { return links_[link].socket->fd(); }
  // Takes every datagram waiting on every link (the loop calls it when a socket is readable, and each turn for
  // descriptor-less test sockets); grants and requests go to `core`, whose actions are appended to `out`.
  // `clock`: read after each datagram is taken, for its arrival (nullopt-like nullptr: the turn's `now`).
  void receive(QuorumCore& core, TimePoint now, std::vector<CoreAction>& out, const Clock* clock = nullptr);
  // Sends on every link whose interval is due, and at once when a heartbeat write of this node has completed
  // ok since the last send (its seq and completion reach the peer without delay) or a new request waits.
  void tick(QuorumCore& core, TimePoint now);
  TimePoint next_wakeup() const { return next_send_; }

  // For status: the channels' JSON ("lan" array) and whether the peer is heard on any link now.
  Json links_json(TimePoint now) const;
  bool peer_heard(TimePoint now) const;
  // When the peer was last heard on any link (nullopt: never). Power fencing needs it silent on all of them.
  std::optional<TimePoint> peer_last_heard() const;
  // The peer's own word on its disk, from its last datagram on any link (nullopt: never heard).
  std::optional<bool> peer_disk_ok(TimePoint now) const;

 private:
  struct Link {
    LanLinkConfig config;
    std::unique_ptr<LanSocket> socket;
    LanLinkView view;
    uint64_t seq = 0;
    uint64_t incarnation = 0;  // the incarnation `seq` counts for
    uint64_t sent = 0, send_errors = 0;
    std::optional<TimePoint> last_send_error_log;
    // A grant to send at once: to incarnation, answering its seq on this link, for term.
    struct Grant {
      uint64_t incarnation, request_seq;
      Duration term;
    };
    std::optional<Grant> grant;
  };
  LanChannel(const LanConfig& config, LanSeal seal, const Uuid& cluster, uint32_t node_id, const Timing& timing,
             Duration interval)
      : config_(config), seal_(std::move(seal)), cluster_(cluster), node_id_(node_id), timing_(timing),
        interval_(interval) {}
  void send(Link& link, QuorumCore& core, TimePoint now, bool grant_reply);
  void handle(Link& link, const LanDatagram& d, QuorumCore& core, TimePoint now, TimePoint heard,
              std::vector<CoreAction>& out);

  LanConfig config_;
  LanSeal seal_;
  Uuid cluster_;
  uint32_t node_id_;
  Timing timing_;
  Duration interval_;
  std::vector<Link> links_;
  TimePoint next_send_{};
  bool requesting_ = false;                 // my last datagrams asked for a promise
  std::pair<uint64_t, uint64_t> told_write_;  // the last ok heartbeat write my datagrams named (life, seq)
  bool granting_ = false;                   // my last answer to a request was a grant (logged on change)
  bool riding_ = false;                     // a promise holds my lease past the disk's (logged once per stall)
  std::optional<const char*> last_refusal_;  // why I last refused the peer a promise (logged on change)
  std::vector<std::byte> buffer_;
};

}  // namespace castor
