// Timing: every timeout of the heartbeat/lease protocol, derived from one number, io_timeout (T).
//
//   renew interval  R = T / 2     a heartbeat write and a peer read are issued every R
//   lease           F = 3T        own lease: valid until (issue time of the last write that completed ok) + F
//   kill grace      G = T         at F - G without a renewal svcmgr is told to stop everything; at F what
//                                 is left is killed and the watchdog is no longer petted
//   watchdog        W = 2T        a node that stops petting is reset W after its last pet (<= lease end)
//   margin          M = T         clock-rate differences and observation slack
//   dead time       D = F + W + M = 6T   the peer is declared dead after its heartbeat has not changed
//                                 for D on the observer's own clock
//
// docs/design.md explains the timeline and why D >= F + max(W, T) + M keeps a fenced node from ever acting
// after its peer may have declared it dead. The values are written in the superblock by `castor init`; a
// node whose local configuration disagrees with them refuses to start.
// Pure: no clock reads, no I/O.
#pragma once

#include <cstdint>
#include <string>

#include "common/clock.h"
#include "common/status.h"

namespace castor {

struct Timing {
  Millis io_timeout{0};
  Millis renew_interval{0};
  Millis lease{0};
  Millis kill_grace{0};
  Millis watchdog{0};
  Millis dead{0};

  static constexpr Millis kMinIoTimeout{20};
  static constexpr Millis kMaxIoTimeout{600000};
  static constexpr Millis kDefaultIoTimeout{2000};

  // The formula. io_timeout must be within [kMinIoTimeout, kMaxIoTimeout] and even (R = T/2 exactly).
  static Result<Timing> from_io_timeout(Millis io_timeout);
  // Checks that these values are exactly what the formula gives for their io_timeout
  // (a superblock edited by hand, or written by a different formula, is refused).
  Status check_formula() const;
  std::string describe() const;  // "io_timeout=2000ms renew=1000ms lease=6000ms ..."
  friend bool operator==(const Timing&, const Timing&) = default;
};

}  // namespace castor
