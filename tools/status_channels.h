// What `castor status` shows of a node's channels to its peer (issue 15), from quorumd's status reply:
// the quorum disk and each LAN link (up/down, ages, RTT, loss, refused datagrams), the promises of the
// shared-storage ride-through, and the diagnosis lines an admin needs, each derived from the reply alone
// (peer alive on the LAN but silent on the disk; this node cannot write the disk and will fence or is
// riding through on the peer's promise; a shared storage stall and how long max_storage_stall still
// allows; no LAN configured). The reply's fields are the contract written in quorumd/control_verbs.cc.
// Pure text from JSON: must never throw, never do I/O, and never print a string from the reply unescaped
// (everything goes through printable()). A reply without "channels" (an older quorumd) shows nothing.
#pragma once

#include <string>

#include "control/json_codec.h"

namespace castor {

// The channels block of the local node's status reply `status` (the whole reply of the `status` verb),
// ending with a newline; "" when the reply has no "channels" object. Missing or mistyped fields show as
// "-" or "?" and never derive a diagnosis.
std::string channels_status_text(const json_codec::Json& status);
// The set of quorum devices (issue 17): one line on redundancy (all answer / without redundancy / no
// majority) and one per member (ok with latency, or FAILING since when and why); "" for a single device
// (no "devices" array in the reply).
std::string devices_status_text(const json_codec::Json& status);

}  // namespace castor
