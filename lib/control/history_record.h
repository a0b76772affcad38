// HistoryRecord: one line of a node's event history (issue 20): every decision svcmgr makes or sees that
// changes something (the peer's verdicts and power fences, claims, starts, stops, failures, recoveries,
// relocations, admin requests, the lease at risk, a quorum device lost), written by svcmgr to
// STATE_DIR/history/NODE.jsonl, one JSON object a line, and read back by `castor history`, which merges
// both nodes' files into one timeline.
//   {"wall_ns":..,"node":"alpha","event":"node_dead","kind":"node","service":"","epoch":0,
//    "subject":"beta","desc":"lost","reason":"heartbeat unchanged for 1.2s"}
// wall_ns is the wall clock (CLOCK_REALTIME) of the node that wrote it: for display and for ordering two
// nodes' records, never for a decision. Pure: no I/O, no clock; parsing never throws.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace castor {

struct HistoryRecord {
  int64_t wall_ns = 0;
  std::string node;     // the node that recorded it
  std::string event;    // node_dead, service_started, service_claimed, admin_request, ...
  std::string kind;     // node, fencing, resource, quorum, admin
  std::string service;  // "" when none
  uint64_t epoch = 0;   // the service's epoch, 0 when none
  std::string subject;  // the node it is about (the peer for a verdict), "" when none
  std::string desc;     // what happened, in a few words
  std::string reason;   // why
  friend bool operator==(const HistoryRecord&, const HistoryRecord&) = default;
};

// One line, without its line feed (any control character in a text is escaped by JSON).
std::string encode_history_record(const HistoryRecord& r);
// The same line with every character past ASCII escaped (\uXXXX): what castor history --json prints.
std::string encode_history_record_ascii(const HistoryRecord& r);
// invalid_argument for a line that is not such an object (a torn last line after a crash, a foreign file).
Result<HistoryRecord> parse_history_record(std::string_view line);

}  // namespace castor
