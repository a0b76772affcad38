// PrometheusMetrics: `castor status --prometheus` (issue 20), the Prometheus text exposition (format
// 0.0.4) of one node's view: its quorumd's status reply (node, lease, peer, channels, quorum devices, power
// fencing, timings, the heartbeat write latency histogram) and svcmgr's services reply (each service's
// state, owner, epoch, restarts, last start and stop duration). For node_exporter's textfile collector or
// a scrape of the web console. Names and units by Prometheus's conventions: prefix castor_, base units
// (seconds, ratios), _total on counters, enums as one 0/1 series per state, every series labelled with
// the node that reports it.
// Pure text from the replies: never throws, never does I/O; a missing or mistyped field leaves its series
// out (never a made-up value); label values are escaped as the format says.
#pragma once

#include <optional>
#include <string>

#include "control/json_codec.h"
#include "control/services_codec.h"

namespace castor {

struct MetricsInput {
  std::string node;                               // this node's name (from the config when quorumd is down)
  const json_codec::Json* quorumd = nullptr;      // quorumd's status reply; nullptr: it did not answer
  const ServicesReply* services = nullptr;        // svcmgr's services reply; nullptr: it did not answer
};

std::string render_prometheus_metrics(const MetricsInput& in);

// The node the metrics are about: the name in quorumd's status, else `fallback` (the config's node) when not
// empty, else svcmgr's node, else "".
std::string metrics_node_name(const json_codec::Json* quorumd, const ServicesReply* services, const std::string& fallback);

}  // namespace castor
