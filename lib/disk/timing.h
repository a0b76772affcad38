// Timing: every timeout of the heartbeat/lease protocol, derived from one number, io_timeout (T).
//
//   renew interval  R = T / 2     a heartbeat write and a peer read are issued every R
//   lease           F = 3T        own lease: valid until (issue time of the last write that completed ok) + F
//   kill grace      G = T         at F - G without a renewal svcmgr is told to stop everything; at F what
//                                 is left is killed
//   watchdog        W = T         the watchdog fires W after its last ping; quorumd pets it only while the
//                                 lease has at least W left (the pet guard, Watchdog::pet_within_lease)
//   margin          M = T         the watchdog device's lateness (3 x tolerance, <= 3T/4), clock-rate
//                                 differences (0.5 % of D) and observation slack
//   dead time       D = F + 2W + M = 6T   the peer is declared dead after its heartbeat has not changed
//                                 for D on the observer's own clock
//
// docs/design.md ("The watchdog margin") derives why a node is reset by (lease end) - W + 3 (W + tolerance)
// = lease end + 2W + 3 tolerance at the latest — a pet delayed by a freeze after the lease check, and the
// ping the kernel sends when the watchdog file is closed without the magic character, each add at most
// one W — so that D >= F + 2W + 3 tolerance + clock-rate slack keeps a fenced node from ever acting after
// its peer may have declared it dead. The values are written in the superblock by `castor init`; a node
// whose local configuration disagrees with them refuses to start.
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
  // The clock-rate difference between the nodes that the margin absorbs, in parts per million of D.
  static constexpr int64_t kClockRatePpm = 5000;

  // The watchdog time W petted against: a pet needs at least this much lease left.
  Millis pet_guard() const { return watchdog; }
  // How late the watchdog device may fire and reset the node after its timeout (<= W in whole seconds)
  // ran out: softdog's hrtimer and emergency restart, a hardware counter's tick. Budgeted as T/4.
  Millis watchdog_tolerance() const { return io_timeout / 4; }
  // The latest reset after the lease end, from the code's pets (design.md): the last lease check that
  // allowed a pet was at least pet_guard() before the lease end; the pet it allowed, and the kernel's ping
  // on an unexpected close after it, each land at most W + tolerance after the previous ping.
  Millis latest_reset_after_lease_end() const { return -pet_guard() + 3 * (watchdog + watchdog_tolerance()); }
  // Ok if D covers the lease, the latest reset after it and the clock-rate difference.
  Status check_margin() const;

  // The formula. io_timeout must be within [kMinIoTimeout, kMaxIoTimeout] and even (R = T/2 exactly).
  static Result<Timing> from_io_timeout(Millis io_timeout);
  // Checks that these values are exactly what the formula gives for their io_timeout
  // (a superblock edited by hand, or written by a different formula, is refused).
  Status check_formula() const;
  std::string describe() const;  // "io_timeout=2000ms renew=1000ms lease=6000ms ..."
  friend bool operator==(const Timing&, const Timing&) = default;
};

}  // namespace castor
