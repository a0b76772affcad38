// DrillReport: the pure half of `castor drill` (issue 20), a planned failover drill: whether the cluster
// is healthy enough to drill (anything degraded refuses it: a drill must never be the second fault), the
// outage of one move as the service's probe saw it, and the report an auditor keeps (text and JSON).
// Pure: replies and samples in, text out; no I/O, no clock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "control/json_codec.h"
#include "control/services_codec.h"

namespace castor {

// Why the cluster is not fit for a drill (empty: it is): the peer not UP, a node in standby, definitions
// differing or not loading, a service failed, orphaned, frozen, in a transition or with a relocation
// pending, this node's lease not valid, a fence pending, the quorum devices degraded, a channel down.
// `quorumd` may be null (then said so: the drill needs it).
std::vector<std::string> drill_blockers(const ServicesReply& services, const json_codec::Json* quorumd);

// One probe result: when it was taken and whether the service answered.
struct ProbeSample {
  TimePoint at;
  bool ok = false;
};

// The outage of one move from the probe's samples: from the first failed probe at or after `from` to the
// first good one after it (the first run of failures only: a move has one). nullopt when no probe failed.
struct ProbeOutage {
  Duration length{};
  int failed = 0;  // failed probes in that run
};
std::optional<ProbeOutage> probe_outage(const std::vector<ProbeSample>& samples, TimePoint from);

struct DrillMove {
  std::string service, from, to;
  bool ok = false;
  std::string error;                          // when not ok: what went wrong
  std::optional<int64_t> started_after_ms;    // the request until svcmgr reported it started on `to`
  std::string probe;                          // "" = no probe
  std::optional<int64_t> outage_ms;           // from the probe; 0 when no probe failed
  int failed_probes = 0, probes = 0;
};

struct DrillReport {
  std::string cluster, node, peer, when;  // `when`: the wall time it began, for display
  int64_t io_timeout_ms = 0;
  std::vector<std::string> skipped;  // services not moved, each with why
  std::vector<DrillMove> moves;
  bool ok() const;
};

std::string render_drill_text(const DrillReport& r);
std::string render_drill_json(const DrillReport& r);

}  // namespace castor
