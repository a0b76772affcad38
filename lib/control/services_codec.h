// ServicesCodec: svcmgr's replies to the castor CLI, typed: `services` (every service's state, owner and
// epoch, and the node's view of its peer) and the admin verbs' {"ok":true,"message":"..."}. svcmgr encodes,
// tools/ parse (castor status, castor enable/.../--wait, castor standby --wait). Keys, value types and key
// order are what svcmgr wrote before this codec existed. The parsers validate every field and never throw
// or abort on any input; a refusal parses to Code::refused with svcmgr's text. Pure: no I/O, no clock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "disk/heartbeat_record.h"

namespace castor {

// One service in the `services` reply: {"name","state","owner","epoch","restarts","max_restarts","phase"}
// then, when they apply, "peer_entry", "orphaned", "last_failure":{"reason","ago_ms"}, "pending", "pending_blocked",
// "last_start_ms", "last_stop_ms".
struct ServiceStatus {
  std::string name;
  std::string state;  // started, stopped, disabled, failed, frozen, unknown, orphaned, ... (as `castor status` shows)
  std::string owner;  // the node running it, "" when none
  uint64_t epoch = 0;
  int64_t restarts = 0;  // in the current window, on the node that runs it
  int64_t max_restarts = 0;
  std::string phase;                      // svcmgr's ownership phase
  std::optional<std::string> peer_entry;  // "unknown (why)" when the peer's entry does not decode
  std::optional<std::string> orphaned;    // why it is orphaned
  struct Failure {
    std::string reason;
    int64_t ago_ms = 0;
    friend bool operator==(const Failure&, const Failure&) = default;
  };
  std::optional<Failure> last_failure;
  std::optional<std::string> pending;  // "relocate to NODE"
  std::optional<std::string> pending_blocked;  // what the pending relocation waits for, as svcmgr last heard
  // How long the last start (to started) and the last stop (to stopped) of it on this node took.
  std::optional<int64_t> last_start_ms, last_stop_ms;
  friend bool operator==(const ServiceStatus&, const ServiceStatus&) = default;
};

// {"ok":true,"node","peer","peer_view","standby","peer_standby","definitions_match","load_errors":[...],
//  "services":[...]}
struct ServicesReply {
  std::string node;
  std::string peer;
  PeerView peer_view = PeerView::unknown;
  bool standby = false;
  bool peer_standby = false;
  bool definitions_match = true;  // both nodes hold the same service definitions (else moves are blocked)
  std::vector<std::string> load_errors;
  std::vector<ServiceStatus> services;
  friend bool operator==(const ServicesReply&, const ServicesReply&) = default;
};
std::string encode_services_reply(const ServicesReply& r);
Result<ServicesReply> parse_services_reply(std::string_view text);

// An admin verb's reply {"ok":true,"message":"enable web accepted"}: its message.
std::string encode_admin_reply(std::string_view message);
Result<std::string> parse_admin_reply(std::string_view text);

}  // namespace castor
