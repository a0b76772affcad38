// Agent meta-data: the default timeouts and monitor interval an OCF agent advertises in its meta-data
// (<action name="start" timeout="20s"/> ...), used for every timing a service file does not give itself —
// as Pacemaker uses them. Parsing is pure; reading runs the agent's meta-data action (blocking, bounded by
// its own timeout) and is meant for start-up and reload, never the event loop's steady state.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "config/service_definition.h"

namespace castor {

struct AgentTimings {
  std::optional<Millis> start_timeout, stop_timeout, monitor_timeout, monitor_interval;
};

// Parses the <actions> of an OCF meta-data document. Unknown or malformed attributes are skipped.
AgentTimings parse_agent_timings(const std::string& metadata_xml);

// Sets each timing of `r` that the file did not give (ResourceDefinition::explicit_timings) from `t`.
void apply_agent_timings(ResourceDefinition& r, const AgentTimings& t);

// Runs `meta-data` for OCF resources (cached per agent in `cache`) and applies the timings to every
// resource of `def` that needs them. Failures are returned as text for the log; the definition then keeps
// Castor's own defaults.
std::string apply_metadata_defaults(ServiceDefinition& def, const std::string& ocf_root,
                                    std::map<std::string, AgentTimings>& cache);

}  // namespace castor
